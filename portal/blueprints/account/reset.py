"""Staff password reset by email: ask for a link ("Forgot your password?"), then choose a new password."""

from flask import current_app, request, url_for

from ...extensions import limiter
from ...htmx import render
from ...services import passwords
from ...unit_of_work import unit_of_work
from .forms import ForgotPasswordForm
from .views import bp, choose_password


def _form_email() -> str:
    """Rate-limit key: the address being asked about, so one inbox cannot be flooded."""
    return "reset:" + (request.form.get("email") or "").strip().lower()


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_EMAIL"], key_func=_form_email, methods=["POST"])
def forgot_password():
    """Ask for a reset link. The request is queued as typed and the answer is the same for every
    address: whether it has an account is the worker's question, not this page's."""
    form = ForgotPasswordForm(email=request.args.get("email", ""))
    if form.validate_on_submit():
        with unit_of_work():
            passwords.request_reset(form.email.data)
        return render("account/reset_sent.html", "account/_reset_sent.html", email=form.email.data)
    status = 422 if form.errors else 200
    return render("account/forgot_password.html", "account/_forgot_password_form.html", status=status, form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link. It works once, for an hour, and ends every session."""
    return choose_password(
        token,
        user_for=passwords.user_for_reset,
        save=passwords.reset_with_token,
        dead_link="account/reset_invalid.html",
        page="account/reset_password.html",
        form_id="reset-password-form",
        saved=lambda user: url_for("auth.staff_login", email=user.email, reset="1"),
    )

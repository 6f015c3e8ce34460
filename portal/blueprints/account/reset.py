"""Staff password reset by email: ask for a link ("Forgot your password?"), then choose a new password."""

from flask import current_app, request, url_for

from ...extensions import limiter
from ...htmx import redirect_for, render
from ...services import passwords
from ...unit_of_work import attempt, unit_of_work
from .forms import ForgotPasswordForm, SetPasswordForm
from .views import bp


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
    user = passwords.user_for_reset(token)
    if user is None:
        return render("account/reset_invalid.html")
    form = SetPasswordForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            passwords.reset_with_token(token, form.password.data, form.confirm.data)
        if outcome.refusal is None:
            return redirect_for(url_for("auth.staff_login", email=user.email, reset="1"))
        field = getattr(form, outcome.refusal.field or "", form.password)
        field.errors = [*field.errors, outcome.refusal.message]
    status = 422 if form.errors else 200
    return render(
        "account/reset_password.html",
        "account/_reset_password_form.html",
        status=status,
        form=form,
        user=user,
        token=token,
        min_length=passwords.MIN_LENGTH,
    )

"""Public (token-guarded) account pages: an invited user sets their password."""

from flask import Blueprint, url_for

from ...htmx import redirect_for, render
from ...services import passwords, staff
from ...unit_of_work import attempt
from .forms import SetPasswordForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password from an emailed link. The link works once; a dead link says so (200, so
    link scanners and the person see the same explanation)."""
    user = staff.user_for_token(token)
    if user is None:
        return render("account/link_invalid.html")
    form = SetPasswordForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            staff.set_password_with_token(token, form.password.data, form.confirm.data)
        if outcome.refusal is None:
            return redirect_for(url_for("auth.staff_login", email=user.email))
        field = getattr(form, outcome.refusal.field or "", form.password)
        field.errors = [*field.errors, outcome.refusal.message]
    status = 422 if form.errors else 200
    return render(
        "account/set_password.html",
        "account/_set_password_form.html",
        status=status,
        form=form,
        user=user,
        token=token,
        min_length=passwords.MIN_LENGTH,
    )

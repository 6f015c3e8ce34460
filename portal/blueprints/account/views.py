"""Public (token-guarded) account pages: an invited user sets their password."""

from collections.abc import Callable

from flask import Blueprint, request, url_for

from ...htmx import redirect_for, render
from ...models import User
from ...services import passwords, staff
from ...unit_of_work import attempt
from .forms import SetPasswordForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password from an emailed link. The link works once; a dead link says so (200, so
    link scanners and the person see the same explanation)."""
    return choose_password(
        token,
        user_for=staff.user_for_token,
        save=staff.set_password_with_token,
        dead_link="account/link_invalid.html",
        page="account/set_password.html",
        form_id="set-password-form",
        saved=lambda user: url_for("auth.staff_login", email=user.email),
    )


def choose_password(
    token: str,
    *,
    user_for: Callable[[str], User | None],
    save: Callable[[str, str, str], User],
    dead_link: str,
    page: str,
    form_id: str,
    saved: Callable[[User], str],
):
    """A page where the person a password link (``token``) names chooses a password, typed twice:
    ``user_for`` reads the link, ``save`` (a service) checks the rules and stores it, refusing in
    place; then the browser goes to ``saved(user)``. A dead link shows ``dead_link``."""
    user = user_for(token)
    if user is None:
        return render(dead_link)
    form = SetPasswordForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            save(token, form.password.data, form.confirm.data)
        if outcome.refusal is None:
            return redirect_for(saved(user))
        field = getattr(form, outcome.refusal.field or "", form.password)
        field.errors = [*field.errors, outcome.refusal.message]
    status = 422 if form.errors else 200
    return render(
        page,
        "account/_choose_password_form.html",
        status=status,
        form=form,
        form_id=form_id,
        action=url_for(request.endpoint or "", token=token),
        user=user,
        min_length=passwords.MIN_LENGTH,
    )

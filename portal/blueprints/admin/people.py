"""Agency users (B2): invite, role, deactivate or reactivate, resend the set-password link.

A refused change to one user is shown on their row; the invite form shows its refusal on the field.
"""

from flask import flash
from flask_login import current_user

from ...htmx import is_htmx, render
from ...models import User
from ...scoping import agency_users, get_scoped_or_404
from ...services import staff
from ...unit_of_work import attempt
from . import bp
from .forms import ActiveForm, InviteUserForm, RoleForm, form_problems, show_refusal
from .responses import after_change


def _users_context(form=None, error_for=None, error=None, notice=None) -> dict:
    """What ``admin/_users.html`` shows: the agency's users, the invite form, and the refusal for
    the row ``error_for``."""
    return {
        "users": agency_users(),
        "form": form or InviteUserForm(formdata=None),
        "error_for": error_for,
        "error": error,
        "notice": notice,
    }


def _users_page(status=200, **context):
    return render("admin/users.html", "admin/_users.html", status=status, **_users_context(**context))


@bp.get("/users")
def users():
    """Agency users, their roles, and the invite form."""
    return _users_page()


@bp.post("/users")
def invite_user():
    """Create a user and email them a set-password link."""
    form = InviteUserForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            staff.invite_user(current_user, form.name.data, form.email.data, form.role.data)
        if outcome.refusal is None:
            # The same words whether the address was new or another agency's (no enumeration).
            notice = staff.invited_message(form.email.data)
            if not is_htmx():
                flash(notice)
            return after_change("admin.users", lambda: _users_page(notice=notice))
        show_refusal(form, outcome.refusal)
    return _users_page(status=422, form=form)


def _user_action(user_id: int, action, form=None):
    """Apply ``action`` to one user in one unit of work; a refusal is shown on the user's row."""
    user = get_scoped_or_404(User, user_id)
    if form is not None and not form.validate_on_submit():
        return _users_page(status=422, error_for=user_id, error=form_problems(form))
    with attempt() as outcome:
        action(user)
    if outcome.refusal is not None:
        return _users_page(status=422, error_for=user_id, error=outcome.refusal.message)
    return after_change("admin.users", _users_page)


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int):
    """Make a user admin or recruiter."""
    form = RoleForm()
    return _user_action(user_id, lambda user: staff.change_role(current_user, user, form.role.data), form)


@bp.post("/users/<int:user_id>/active")
def set_user_active(user_id: int):
    """Deactivate (signs them out everywhere) or reactivate a user."""
    form = ActiveForm()

    def act(user):
        if form.active.data == "0":
            staff.deactivate_user(current_user, user)
        else:
            staff.reactivate_user(current_user, user)

    return _user_action(user_id, act, form)


@bp.post("/users/<int:user_id>/resend")
def resend_invite(user_id: int):
    """Email the user a fresh set-password link."""
    return _user_action(user_id, lambda user: staff.resend_invite(current_user, user))

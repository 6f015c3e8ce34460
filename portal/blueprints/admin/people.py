"""Agency users (B2): invite, role, deactivate or reactivate, resend the set-password link."""

from flask_login import current_user

from ...extensions import db
from ...forms import EmptyForm
from ...htmx import render
from ...models import User
from ...scoping import get_scoped_or_404, scoped
from ...services import ServiceError, staff
from . import bp
from .forms import ActiveForm, InviteUserForm, RoleForm, show_refusal
from .responses import after_change


def _users_page(form=None, status=200, error_for=None, error=None):
    users = db.session.scalars(scoped(User).order_by(User.active.desc(), User.name)).all()
    return render(
        "admin/users.html",
        "admin/_users.html",
        status=status,
        users=users,
        form=form or InviteUserForm(formdata=None),
        error_for=error_for,
        error=error,
    )


@bp.get("/users")
def users():
    """Agency users, their roles, and the invite form."""
    return _users_page()


@bp.post("/users")
def invite_user():
    """Create a user and email them a set-password link."""
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            staff.invite_user(current_user, form.name.data, form.email.data, form.role.data)
        except ServiceError as exc:
            db.session.rollback()
            show_refusal(form, exc)
        else:
            return after_change("admin.users", _users_page)
    return _users_page(form, status=422)


def _user_action(user_id: int, form_class, action):
    user = get_scoped_or_404(User, user_id)
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        action(user, form)
    except ServiceError as exc:
        db.session.rollback()
        return _users_page(status=422, error_for=user.id, error=exc.message)
    return after_change("admin.users", _users_page)


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int):
    """Make a user admin or recruiter."""
    return _user_action(user_id, RoleForm, lambda user, form: staff.change_role(current_user, user, form.role.data))


@bp.post("/users/<int:user_id>/active")
def set_user_active(user_id: int):
    """Deactivate (signs them out everywhere) or reactivate a user."""

    def act(user, form):
        if form.active.data == "0":
            staff.deactivate_user(current_user, user)
        else:
            staff.reactivate_user(current_user, user)

    return _user_action(user_id, ActiveForm, act)


@bp.post("/users/<int:user_id>/resend")
def resend_invite(user_id: int):
    """Email the user a fresh set-password link."""
    return _user_action(user_id, EmptyForm, lambda user, form: staff.resend_invite(current_user, user))

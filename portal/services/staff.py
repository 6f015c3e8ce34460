"""Agency users and roles (B2): invite by email, set a password from the link, deactivate.

The set-password link is an itsdangerous token signed with a fingerprint of the user's current
password hash and session version: setting a password (or deactivating) changes both, so a link
works once and dies with the account, without a table of its own. Changes go into the caller's
unit of work.
"""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from ..extensions import db
from ..models import User
from ..models.people import ROLES
from . import ServiceError
from .activity import record
from .agency_templates import render_email
from .audit import record_audit
from .auth import deactivate
from .mail import absolute_url, normalise_email, send_mail
from .passwords import check_new_password, fingerprint, replace_password
from .security_log import record_security_event

SET_PASSWORD_SALT = "portal.set-password"
INVITE_DAYS = 7
LINK_INVALID = "This link has expired or was already used. Ask your admin for a new one."


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SET_PASSWORD_SALT)


def set_password_url(user: User) -> str:
    """An absolute, signed, single-use link for ``user`` to choose a password."""
    token = _serializer().dumps({"u": user.id, "f": fingerprint(user)})
    return absolute_url("account.set_password", token=token)


def user_for_token(token: str, lock: bool = False) -> User | None:
    """The active user a set-password link is for, or None (forged, expired, used or revoked).
    ``lock``: read the row afresh and lock it, so two uses of one link at once set one password
    (the second waits for the first, then sees its new hash and finds the link used)."""
    try:
        payload = _serializer().loads(token, max_age=INVITE_DAYS * 24 * 3600)
        user = db.session.get(User, int(payload["u"]), with_for_update=lock, populate_existing=lock)
    except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
        return None
    if user is None or not user.active or payload.get("f") != fingerprint(user):
        return None
    return user


def set_password_with_token(token: str, password: str, confirm: str) -> User:
    """Set the password a link was issued for; the link stops working at once."""
    user = user_for_token(token, lock=True)
    if user is None:
        raise ServiceError(LINK_INVALID, field="password")
    check_new_password(user, password, confirm)
    replace_password(user, password)
    record(user.agency_id, "user.password_set", f"{user.name} set their password", actor=user)
    record_security_event("password_set", agency_id=user.agency_id, actor=user, subject=user)
    return user


def _send_invite(user: User, actor: User) -> None:
    agency = user.agency
    url = set_password_url(user)
    subject, body = render_email(
        agency, "invite", {"name": user.name, "agency": agency.title, "inviter": actor.name, "days": str(INVITE_DAYS)}
    )
    send_mail(
        agency, "invite", user.email, subject, "configured", body=body, url=url, button_label="Choose your password"
    )


def invited_message(email: str) -> str:
    """What the admin is told after an invitation, whatever became of it (see :func:`invite_user`)."""
    return f"Invitation sent to {(email or '').strip()}."


def invite_user(actor: User, name: str, email: str, role: str) -> User | None:
    """Create a user of the actor's agency and email them a set-password link.

    Staff addresses are unique across agencies (the address picks the tenant at /login). An address
    already used by *another* agency's account is not the admin's business: nothing is created or
    sent, and the answer (:func:`invited_message`, None here) does not say so. One of the admin's
    own users is refused by name: they can see their own people anyway."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("Enter the person's name.", field="name")
    if len(name) > 200:
        raise ServiceError("The name is longer than 200 characters.", field="name")
    if role not in ROLES:
        raise ServiceError("Choose a role: admin or recruiter.", field="role")
    address = normalise_email(email)
    existing = db.session.scalar(select(User).where(User.email == address))
    if existing is not None and existing.agency_id == actor.agency_id:
        raise ServiceError(f"{address} is already one of your agency's users.", field="email")
    if existing is not None:
        record(
            actor.agency_id,
            "admin.user_invited",
            f"{actor.name} invited {name} ({address}) as {role}",
            actor=actor,
        )
        return None
    user = User(agency_id=actor.agency_id, name=name, email=address, role=role)
    db.session.add(user)
    db.session.flush()
    _send_invite(user, actor)
    record(
        actor.agency_id,
        "admin.user_invited",
        f"{actor.name} invited {name} ({address}) as {role}",
        actor=actor,
        user_id=user.id,
    )
    return user


def resend_invite(actor: User, user: User) -> None:
    """Email a fresh set-password link (the older ones keep working until a password is set)."""
    if not user.active:
        raise ServiceError(f"{user.name} is deactivated; reactivate them first.", field="user")
    _send_invite(user, actor)
    record(
        actor.agency_id,
        "admin.user_link_sent",
        f"{actor.name} sent {user.name} a set-password link",
        actor=actor,
        user_id=user.id,
    )


def _other_active_admins(user: User) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(User)
        .where(User.agency_id == user.agency_id, User.role == "admin", User.active.is_(True), User.id != user.id)
    ).scalar_one()


def change_role(actor: User, user: User, role: str) -> None:
    """Make a user admin or recruiter; the agency always keeps one active admin."""
    if role not in ROLES:
        raise ServiceError("Choose a role: admin or recruiter.", field="role")
    if user.role == role:
        return
    if user.role == "admin" and not _other_active_admins(user):
        raise ServiceError("The agency needs at least one active admin; make someone else admin first.", field="role")
    previous, user.role = user.role, role
    # A role change ends the user's sessions so the new rights apply from the next sign-in.
    user.session_version += 1
    record_security_event(
        "role_changed", agency_id=user.agency_id, actor=actor, subject=user, previous=previous, role=role
    )
    # The audit log keeps ids and counts only: whether the user is now an admin says the change.
    record_audit("role_changed", agency_id=user.agency_id, actor=actor, subject_user=user, admin=role == "admin")
    record(
        actor.agency_id,
        "admin.user_role",
        f"{actor.name} changed {user.name}'s role from {previous} to {role}",
        actor=actor,
        user_id=user.id,
    )


def deactivate_user(actor: User, user: User) -> None:
    """Deactivate a user: signed out everywhere at once, sign-in refused."""
    if user.id == actor.id:
        raise ServiceError("You cannot deactivate your own account.", field="user")
    if not user.active:
        return
    if user.role == "admin" and not _other_active_admins(user):
        raise ServiceError("The agency needs at least one active admin.", field="user")
    record(
        actor.agency_id, "admin.user_deactivated", f"{actor.name} deactivated {user.name}", actor=actor, user_id=user.id
    )
    deactivate(user, by=actor)


def reactivate_user(actor: User, user: User) -> None:
    """Let a deactivated user sign in again (with their old password, or a new invite)."""
    if user.active:
        return
    user.active = True
    record(
        actor.agency_id, "admin.user_reactivated", f"{actor.name} reactivated {user.name}", actor=actor, user_id=user.id
    )

"""Staff passwords (ASVS 4.0 V2.1, V2.5): the rules a new one meets, a change while signed in, and a
reset by e-mail.

A reset link is an itsdangerous token signed with the instant it was issued and a fingerprint of
the user's password hash and session version (as the invitation's set-password link is): a new
password changes both, so a link works once, and every link dies with a deactivation or a role
change. The "Forgot your password?" request itself is only queued (:func:`request_reset`); the
worker decides whether the address belongs to an active user (:func:`answer_reset_request`), so the
web request's answer and work are the same for every address. Changes go into the caller's unit of
work; a new password bumps ``session_version``, ending every session of the account.
"""

import functools
import gzip
import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from ..extensions import db
from ..models import PasswordResetRequest, User, utcnow
from . import ServiceError
from .activity import record
from .mail import absolute_url, normalise_email, send_mail
from .security_log import record_security_event

MIN_LENGTH = 12
RESET_SALT = "portal.password-reset"
RESET_LIFETIME = timedelta(hours=1)
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
# Names shorter than this are too often part of ordinary words to refuse a password for containing them.
SHORTEST_NAME_CHECKED = 4
RESET_LINK_INVALID = "This reset link has expired or was already used. Ask for a new one."


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower case; see portal/data/README.md)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _letters_and_digits(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def check_new_password(user: User, password: str, confirm: str) -> None:
    """Refuse (``ServiceError`` naming the field) a password that is short, common, built from the
    person's email address or the agency's name, or not repeated exactly."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise ServiceError(f"Choose a password of at least {MIN_LENGTH} characters.", field="password")
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        raise ServiceError(
            "That is one of the most commonly used passwords; choose one that is harder to guess.", field="password"
        )
    squeezed = _letters_and_digits(password)
    names = (user.email, user.email.split("@")[0], user.agency.name, user.agency.slug)
    if any(len(name) >= SHORTEST_NAME_CHECKED and name in squeezed for name in map(_letters_and_digits, names)):
        raise ServiceError("The password must not contain your email address or the agency's name.", field="password")
    if password != confirm:
        raise ServiceError("The two passwords do not match.", field="confirm")


def replace_password(user: User, password: str) -> None:
    """Store the new password and end every session of the account (a stolen cookie included)."""
    user.set_password(password)
    user.session_version += 1


def change_password(user: User, current: str, password: str, confirm: str) -> None:
    """A signed-in staff member changes their password: the current one first, then the new one twice.
    Every other session of the account ends; the caller signs this one in afresh."""
    if not user.check_password(current or ""):
        raise ServiceError("That is not your current password.", field="current")
    if password == current:
        raise ServiceError("Choose a password different from the current one.", field="password")
    check_new_password(user, password, confirm)
    replace_password(user, password)
    record(user.agency_id, "user.password_changed", f"{user.name} changed their password", actor=user)
    record_security_event("password_changed", agency_id=user.agency_id, actor=user, subject=user, how="change")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def fingerprint(user: User) -> str:
    """What a set-password or reset link signs about its user: it changes with the password hash and
    the session version, so the link dies with either."""
    return hashlib.sha256(f"{user.password_hash or ''}:{user.session_version}".encode()).hexdigest()[:24]


def reset_url(user: User, now: datetime | None = None) -> str:
    """An absolute, signed, single-use reset link for ``user``, valid for RESET_LIFETIME from ``now``."""
    issued = int((now or utcnow()).timestamp())
    token = _serializer().dumps({"u": user.id, "f": fingerprint(user), "t": issued})
    return absolute_url("account.reset_password", token=token)


def user_for_reset(token: str, now: datetime | None = None, lock: bool = False) -> User | None:
    """The active user a reset link is for, or None (forged, expired, used or revoked). ``lock``: read
    the row afresh and lock it, so two uses of one link at once set one password (the second sees
    the first's new hash and finds the link used)."""
    try:
        payload = _serializer().loads(token)
        user = db.session.get(User, int(payload["u"]), with_for_update=lock, populate_existing=lock)
        issued = int(payload["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    age = int((now or utcnow()).timestamp()) - issued
    if not 0 <= age < RESET_LIFETIME.total_seconds():
        return None
    if user is None or not user.active or payload.get("f") != fingerprint(user):
        return None
    return user


def reset_with_token(token: str, password: str, confirm: str, now: datetime | None = None) -> User:
    """Set the new password a reset link was issued for; the link and every session end at once."""
    user = user_for_reset(token, now, lock=True)
    if user is None:
        raise ServiceError(RESET_LINK_INVALID, field="password")
    check_new_password(user, password, confirm)
    replace_password(user, password)
    record(user.agency_id, "user.password_reset", f"{user.name} reset their password by email", actor=user, now=now)
    record_security_event("password_changed", agency_id=user.agency_id, actor=user, subject=user, how="reset")
    return user


def request_reset(email: str) -> None:
    """Queue "Forgot your password?" as typed; the worker answers it (:func:`answer_reset_request`)."""
    db.session.add(PasswordResetRequest(email=normalise_email(email)))


def next_reset_request() -> PasswordResetRequest | None:
    """The oldest queued reset request, claimed for this unit of work (``SKIP LOCKED`` on PostgreSQL;
    the unit of work's write lock on SQLite)."""
    return db.session.scalar(
        select(PasswordResetRequest).order_by(PasswordResetRequest.id).limit(1).with_for_update(skip_locked=True)
    )


def answer_reset_request(queued: PasswordResetRequest, now: datetime | None = None) -> bool:
    """Email a reset link when the request names an active user who has a password; drop the
    request either way. True when a link was queued."""
    user = db.session.scalar(select(User).where(User.email == queued.email, User.active.is_(True)))
    db.session.delete(queued)
    if user is None or not user.password_hash:
        return False  # an invited user who never set a password uses their invitation (or a resent one)
    minutes = int(RESET_LIFETIME.total_seconds() // 60)
    send_mail(
        user.agency,
        "password_reset",
        user.email,
        f"Reset your password for {user.agency.title}",
        "configured",
        body=(
            f"Hello {user.name},\n\nSomeone (we hope you) asked to reset your password. Choose a new one with "
            f"the button below; the link works once and expires in {minutes} minutes. Setting it signs you out "
            "everywhere.\n\nIf you did not ask for this, ignore this email: your password stays as it is."
        ),
        url=reset_url(user, now),
        button_label="Choose a new password",
    )
    return True

"""An optional second factor for staff (ASVS 4.0 V2.7, V2.8): time-based one-time codes (TOTP,
RFC 6238, with pyotp) from an authenticator app, and ten single-use recovery codes.

Enrolment stores a fresh secret, which counts only once the person confirms it with a code from
their app; then sign-in asks for a code after the password. A code is accepted once: the last
accepted time step is kept and claimed atomically, so a code seen over someone's shoulder (or sent
twice at once) does not work again. Recovery codes are kept as hashes and claimed atomically too.
Every function takes ``now`` (tests pass a fixed instant; pyotp is never asked for the wall clock).
Changes go into the caller's unit of work.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import RecoveryCode, User, utcnow
from . import ServiceError
from .activity import record
from .security_log import record_security_event

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
RECOVERY_CODE_LENGTH = 10  # about 50 bits each
# One time step either side of now: a phone's clock a little off still works.
VALID_WINDOW = 1
# A pending sign-in (password right, code not yet given) lasts this long and allows this many codes;
# the per-account back-off (login_throttle) counts every code tried as well.
PENDING_LIFETIME = timedelta(minutes=5)
PENDING_TRIES = 5
SESSION_KEY = "_second_factor"  # the pending sign-in's entry in the session
WRONG_CODE = "That code is not right. Use the current code from your app, or one of your recovery codes."


@dataclass
class Enrolment:
    """What the account page shows while a second factor is being set up."""

    secret: str
    uri: str


def required(user: User) -> bool:
    """True when ``user`` signs in with a code after the password."""
    return bool(user.totp_confirmed and user.totp_secret)


def start_enrolment(user: User) -> Enrolment:
    """A fresh secret for ``user`` (replacing an unconfirmed one); it counts once confirmed."""
    if required(user):
        raise ServiceError("A second factor is already on. Turn it off first to set up a new one.", field="code")
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    return enrolment(user)


def enrolment(user: User) -> Enrolment:
    """The secret and ``otpauth://`` URI of ``user``'s second factor, for the authenticator app."""
    if not user.totp_secret:
        raise ServiceError("Start setting up the second factor first.", field="code")
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=user.agency.title)
    return Enrolment(user.totp_secret, uri)


def confirm_enrolment(user: User, code: str, now: datetime | None = None) -> list[str]:
    """Turn the second factor on once a code from the app proves it was set up; returns the ten
    recovery codes, in clear, for showing once (only their hashes are kept). Every other session of
    the account ends (the caller signs this one in afresh)."""
    if required(user):
        raise ServiceError("The second factor is already on.", field="code")
    if not user.totp_secret:
        raise ServiceError("Start setting up the second factor first.", field="code")
    if not _claim_totp(user, code, now or utcnow()):
        raise ServiceError("That code is not right. Check that your phone's clock is set automatically.", field="code")
    user.totp_confirmed = True
    user.session_version += 1
    record(user.agency_id, "user.second_factor_on", f"{user.name} turned on a second factor", actor=user, now=now)
    record_security_event("second_factor_on", agency_id=user.agency_id, actor=user, subject=user, now=now)
    return _new_recovery_codes(user)


def verify(user: User, code: str, now: datetime | None = None) -> bool:
    """True when ``code`` is a current code from the app or an unused recovery code of ``user``;
    either is then used up."""
    now = now or utcnow()
    if not required(user):
        return False
    if _claim_totp(user, code, now):
        return True
    if _claim_recovery_code(user, code, now):
        left = remaining_recovery_codes(user)
        record(
            user.agency_id,
            "user.recovery_code_used",
            f"{user.name} signed in with a recovery code ({left} left)",
            actor=user,
            now=now,
        )
        record_security_event(
            "recovery_code_used", agency_id=user.agency_id, actor=user, subject=user, now=now, codes_left=left
        )
        return True
    return False


def disable(user: User, password: str, code: str, now: datetime | None = None) -> None:
    """Turn the second factor off: the password and a code (or recovery code) are both needed."""
    if not required(user):
        raise ServiceError("The second factor is not on.", field="code")
    if not user.check_password(password or ""):
        raise ServiceError("That is not your current password.", field="password")
    if not verify(user, code, now):
        raise ServiceError(WRONG_CODE, field="code")
    user.totp_secret, user.totp_confirmed, user.totp_last_step = None, False, None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(user.agency_id, "user.second_factor_off", f"{user.name} turned off their second factor", actor=user, now=now)
    record_security_event("second_factor_off", agency_id=user.agency_id, actor=user, subject=user, now=now)


def remaining_recovery_codes(user: User) -> int:
    """How many of ``user``'s recovery codes are still unused."""
    return db.session.execute(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def pending_user(pending: object, now: datetime | None = None) -> User | None:
    """The user a pending sign-in (the session's ``{"u", "v", "at", "tries"}``) is waiting for a code
    from, or None when it is missing, stale (older than PENDING_LIFETIME, tried PENDING_TRIES times)
    or the account changed since (deactivated, new password, factor turned off)."""
    if not isinstance(pending, dict):
        return None
    try:
        user_id, version, started, tries = (
            int(pending["u"]),
            int(pending["v"]),
            int(pending["at"]),
            int(pending["tries"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    age = int((now or utcnow()).timestamp()) - started
    if not 0 <= age < PENDING_LIFETIME.total_seconds() or tries >= PENDING_TRIES:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version or not required(user):
        return None
    return user


def pending_state(user: User, now: datetime | None = None) -> dict:
    """The session entry that says: password right, waiting for the second factor."""
    return {"u": user.id, "v": user.session_version, "at": int((now or utcnow()).timestamp()), "tries": 0}


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app with ``secret`` shows at ``now``."""
    return pyotp.TOTP(secret).at(now)


def _claim_totp(user: User, code: str, now: datetime) -> bool:
    code = re.sub(r"\s+", "", code or "")
    if not user.totp_secret or not re.fullmatch(r"\d{6}", code):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Only a later step than the last one accepted; two requests with one code: one wins.
            result = db.session.execute(
                update(User)
                .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            assert isinstance(result, CursorResult)
            if result.rowcount == 1:
                set_committed_value(user, "totp_last_step", step)
                return True
            return False
    return False


def _recovery_hash(user: User, code: str) -> str:
    normalised = re.sub(r"[\s-]+", "", (code or "").lower())
    return hashlib.sha256(f"{user.id}:{normalised}".encode()).hexdigest()


def _claim_recovery_code(user: User, code: str, now: datetime) -> bool:
    if not re.sub(r"[\s-]+", "", code or ""):
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(user, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user, code)) for code in codes)
    return codes

"""Suppression of erased people's addresses (issue 16): an erasure leaves a keyed hash of each of
the person's e-mails, never the address, so a later "New candidate" or import bringing one back is
warned and refused unless someone overrides it on purpose (and the override is in the audit log).

The hash is HMAC-SHA256 of the lower-cased, trimmed address under a key derived from SECRET_KEY:
without the key nobody can test guesses against the table. Rotating SECRET_KEY therefore forgets
every suppression (the README says so).
"""

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import SuppressedEmail, User, utcnow
from . import ServiceError
from .audit import record_audit

_KEY_PURPOSE = b"agency-portal suppression v1"
OVERRIDE_LABEL = "Add anyway: this person asked to be erased before"


class SuppressedAddress(ServiceError):
    """The address belongs to someone who was erased; adding them needs the explicit override."""

    def __init__(self) -> None:
        super().__init__(
            "This person asked to be erased before. Add them only if they asked to be added again: "
            f'tick "{OVERRIDE_LABEL}".',
            field="email",
        )


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, _KEY_PURPOSE, hashlib.sha256).digest()


def email_hash(email: str) -> str:
    """The keyed hash kept for ``email`` (hex)."""
    return hmac.new(_key(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def suppress(agency_id: int, emails: Iterable[str], now: datetime | None = None) -> int:
    """Keep a hash of each address (once each); returns how many are newly suppressed."""
    hashes = {email_hash(e) for e in emails if e and e.strip()}
    if not hashes:
        return 0
    known = set(
        db.session.scalars(
            select(SuppressedEmail.email_hash).where(
                SuppressedEmail.agency_id == agency_id, SuppressedEmail.email_hash.in_(hashes)
            )
        )
    )
    for value in sorted(hashes - known):
        db.session.add(SuppressedEmail(agency_id=agency_id, email_hash=value, created_at=now or utcnow()))
    return len(hashes - known)


def any_suppressed(agency_id: int) -> bool:
    """Whether the agency has erased anyone's address at all."""
    found = select(SuppressedEmail.id).where(SuppressedEmail.agency_id == agency_id).limit(1)
    return db.session.scalar(found) is not None


def suppressed(agency_id: int, emails: Iterable[str]) -> set[str]:
    """Which of ``emails`` (as given) belong to erased people of the agency."""
    by_hash = {email_hash(e): e for e in emails if e and e.strip()}
    if not by_hash:
        return set()
    found = db.session.scalars(
        select(SuppressedEmail.email_hash).where(
            SuppressedEmail.agency_id == agency_id, SuppressedEmail.email_hash.in_(by_hash)
        )
    )
    return {by_hash[value] for value in found}


def admit(
    agency_id: int,
    emails: Iterable[str],
    *,
    override: bool,
    by_user: User | None,
    candidate_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Let addresses in: refuse (``SuppressedAddress``) when any is suppressed and ``override`` is
    not given; with the override, lift those suppressions and log the override. Returns how many
    suppressed addresses were let in (0: none was suppressed)."""
    found = suppressed(agency_id, emails)
    if not found:
        return 0
    if not override:
        raise SuppressedAddress()
    db.session.execute(
        delete(SuppressedEmail).where(
            SuppressedEmail.agency_id == agency_id,
            SuppressedEmail.email_hash.in_([email_hash(e) for e in found]),
        )
    )
    record_audit(
        "suppression_overridden",
        agency_id=agency_id,
        actor=by_user,
        candidate_id=candidate_id,
        now=now,
        addresses=len(found),
    )
    return len(found)

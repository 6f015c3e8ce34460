"""The append-only audit log of staff actions that touch personal data (issue 16): exports,
erasures, anonymisations, suppression overrides, imports, role changes.

An entry is added to the caller's unit of work, so it is saved exactly when the action is. Nothing
here updates or deletes a row (PostgreSQL also refuses both with a trigger). ``detail`` takes
counts and ids only: never a name, an address or text about the person.
"""

from datetime import datetime

from ..extensions import db
from ..models import AUDIT_ACTIONS, AuditEntry, User, utcnow


def record_audit(
    action: str,
    *,
    agency_id: int,
    actor: User | None = None,
    candidate_id: int | None = None,
    subject_user: User | None = None,
    now: datetime | None = None,
    **detail: int | bool | None,
) -> AuditEntry:
    """Add one entry to the current transaction (``actor`` None: the worker or the CLI)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if any(isinstance(value, str) for value in detail.values()):
        raise ValueError("audit detail holds counts and ids, never text")
    entry = AuditEntry(
        agency_id=agency_id,
        at=now or utcnow(),
        action=action,
        actor_user_id=actor.id if actor is not None else None,
        candidate_id=candidate_id,
        subject_user_id=subject_user.id if subject_user is not None else None,
        detail={key: value for key, value in detail.items() if value is not None},
    )
    db.session.add(entry)
    return entry

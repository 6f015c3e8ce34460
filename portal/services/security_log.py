"""The append-only security log (issue 12, SPEC P4): record an event; read an agency's events.

Nothing here updates or deletes a row (PostgreSQL also refuses both with a trigger). An event is
added to the caller's unit of work, so it is saved exactly when the action it describes is; a
failed sign-in has nothing else to save, so its caller records it in a unit of work of its own.
Tokens and passwords never go in: a link is named by :func:`link_ref`, a short hash of its id.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import func, select

from ..extensions import db
from ..models import SECURITY_EVENT_KINDS, Agency, ClientContact, LoginToken, SecurityEvent, User, utcnow

PAGE_SIZE = 50
Principal = User | ClientContact


def link_ref(token: LoginToken) -> str:
    """A stable name for a link that cannot be turned back into it (the token id is the secret)."""
    return hashlib.sha256(token.id.encode()).hexdigest()[:12]


def record_security_event(
    kind: str,
    *,
    agency_id: int | None,
    actor: Principal | None = None,
    subject: Principal | None = None,
    now: datetime | None = None,
    **detail: str | int | bool | None,
) -> SecurityEvent:
    """Add one event to the current transaction. The client address is the request's (after
    ``ProxyFix``), or None outside a request (the worker, the CLI)."""
    if kind not in SECURITY_EVENT_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    revealed_by = actor.revealed_by if isinstance(actor, ClientContact) else None
    if revealed_by is not None:
        detail["on_behalf_by"] = revealed_by.id
    event = SecurityEvent(
        agency_id=agency_id,
        at=now or utcnow(),
        kind=kind,
        actor_user_id=actor.id if isinstance(actor, User) else None,
        actor_contact_id=actor.id if isinstance(actor, ClientContact) else None,
        subject_user_id=subject.id if isinstance(subject, User) else None,
        subject_contact_id=subject.id if isinstance(subject, ClientContact) else None,
        address=(request.remote_addr or None) if has_request_context() else None,
        detail={key: value for key, value in detail.items() if value is not None},
    )
    db.session.add(event)
    return event


def staff_sign_in_failed(email: str, reason: str) -> SecurityEvent:
    """A refused staff password sign-in (``reason``: password or throttled). The event belongs to
    the agency of the account the address names, if any; the address typed is not kept (people
    type passwords into the email field)."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    return record_security_event(
        "staff_sign_in_failed", agency_id=user.agency_id if user else None, subject=user, reason=reason
    )


def rate_limit_refused(
    route: str, limit: str, *, slug: str | None = None, email: str | None = None, user: User | None = None
) -> SecurityEvent:
    """A refusal by a per-address rate limit on ``route`` (the URL rule, which holds no token) under
    ``limit`` ("20 per 10 minutes"); the address is the request's. The event belongs to the agency the
    route names (``slug``), else to that of the account ``user`` or the typed ``email`` names; the
    address typed is not kept, nor anything else the request carried."""
    agency_id = None
    if slug:
        agency_id = db.session.scalar(select(Agency.id).where(Agency.slug == slug))
    if agency_id is None and user is None and email:
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if agency_id is None and user is not None:
        agency_id = user.agency_id
    return record_security_event("rate_limited", agency_id=agency_id, subject=user, route=route, limit=limit)


@dataclass
class EventPage:
    """One page of an agency's events, newest first, with the names of the people they mention."""

    events: list[SecurityEvent]
    page: int
    pages: int
    total: int
    users: dict[int, str]
    contacts: dict[int, str]


def agency_events(agency_id: int, *, kind: str | None = None, page: int = 1) -> EventPage:
    """The agency's events (only kind ``kind`` if given), page ``page`` of :data:`PAGE_SIZE`."""
    query = select(SecurityEvent).where(SecurityEvent.agency_id == agency_id)
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    events = list(
        db.session.scalars(
            query.order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    user_ids = {i for e in events for i in (e.actor_user_id, e.subject_user_id, e.detail.get("on_behalf_by")) if i}
    contact_ids = {i for e in events for i in (e.actor_contact_id, e.subject_contact_id) if i}
    # Only the agency's own people are named (the ids are plain columns, not foreign keys).
    users = _names(User, user_ids, agency_id)
    contacts = _names(ClientContact, contact_ids, agency_id)
    return EventPage(events, page, pages, total, users, contacts)


def _names(model: type[User] | type[ClientContact], ids: set, agency_id: int) -> dict[int, str]:
    query = select(model.id, model.name).where(model.id.in_(ids), model.agency_id == agency_id)
    return dict(db.session.execute(query).tuples().all())

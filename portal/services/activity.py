"""The timeline (A7): every action recorded with who, what and when."""

from datetime import datetime

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Activity, Application, ClientContact, User, as_utc
from ..scoping import activities_query


def record(
    agency_id: int,
    verb: str,
    summary: str,
    *,
    actor=None,
    job_id=None,
    candidate_id=None,
    application_id=None,
    client_visible=False,
    now: datetime | None = None,
    **detail,
) -> Activity:
    """Add a timeline entry to the current transaction, dated ``now`` (the wall clock if None).

    A contact acting in a session opened with a link a staff member revealed ("Copy link") is
    recorded with that staff member too: as the entry's user, in ``detail["on_behalf_by"]`` and
    in the summary, so the timeline never shows it as the contact's own doing."""
    on_behalf_by = actor.revealed_by if isinstance(actor, ClientContact) else None
    if on_behalf_by is not None:
        summary = f"{summary} (by {on_behalf_by.name} for {actor.name})"
        detail["on_behalf_by"] = on_behalf_by.id
    entry = Activity(
        agency_id=agency_id,
        verb=verb,
        summary=summary[:500],
        job_id=job_id,
        candidate_id=candidate_id,
        application_id=application_id,
        client_visible=client_visible,
        actor_user_id=actor.id if isinstance(actor, User) else (on_behalf_by.id if on_behalf_by else None),
        actor_contact_id=actor.id if isinstance(actor, ClientContact) else None,
        detail=detail,
    )
    if now is not None:
        # The service's own instant, so an action done "as of" another time is dated then.
        entry.created_at = as_utc(now)
    db.session.add(entry)
    return entry


def record_for(
    application: Application,
    verb: str,
    summary: str,
    *,
    actor=None,
    client_visible=False,
    now: datetime | None = None,
    **detail,
):
    """:func:`record` for an entry about one application: its job, candidate and agency filled in."""
    return record(
        application.agency_id,
        verb,
        summary,
        actor=actor,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        application_id=application.id,
        client_visible=client_visible,
        now=now,
        **detail,
    )


def timeline(
    viewer: User, *, job_id: int | None = None, candidate_id: int | None = None, limit: int = 100
) -> list[Activity]:
    """The latest entries about a job or a candidate that ``viewer`` may see, newest first."""
    query = (
        activities_query(viewer)
        .options(selectinload(Activity.actor_user), selectinload(Activity.actor_contact))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(limit)
    )
    if job_id is not None:
        query = query.where(Activity.job_id == job_id)
    if candidate_id is not None:
        query = query.where(Activity.candidate_id == candidate_id)
    return list(db.session.scalars(query))

"""The timeline (A7): every action recorded with who, what and when."""

from ..extensions import db
from ..models import Activity, ClientContact, User


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
    **detail,
) -> Activity:
    """Add a timeline entry to the current transaction."""
    entry = Activity(
        agency_id=agency_id,
        verb=verb,
        summary=summary[:500],
        job_id=job_id,
        candidate_id=candidate_id,
        application_id=application_id,
        client_visible=client_visible,
        actor_user_id=actor.id if isinstance(actor, User) else None,
        actor_contact_id=actor.id if isinstance(actor, ClientContact) else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry

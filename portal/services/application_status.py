"""The one owner of an application's client status: what the client sees of a candidate (C3–C9).

Every change goes through :func:`move`, which checks the transition table, moves the row with a
compare-and-set in SQL (so two contacts acting at once cannot both win, on SQLite as on
PostgreSQL) and stamps the last activity; the search outbox's statement listener queues the
candidate's document (search_sync/outbox.py). Statuses taken from history rather than from an
action (an import, the demo) are set by :func:`from_history`.
"""

from datetime import datetime

from sqlalchemy import CursorResult, update

from ..extensions import db
from ..models import Application
from ..models.applications import CLIENT_STATUSES

# Statuses in which the client can still decide: interview, hire or reject.
OPEN_FOR_DECISIONS = ("awaiting_review", "interview_requested", "interview_scheduled")
# Statuses of an application nobody has closed yet.
OPEN = (*OPEN_FOR_DECISIONS, "hire_requested")

# to: the statuses it may be reached from. An Undo of a client's reject returns to whatever the
# status was (rejected_by_client → any open one); a cancelled interview returns to its reopened
# request (interview_requested), or to review when there is none.
TRANSITIONS: dict[str, frozenset[str]] = {
    "awaiting_review": frozenset({"interview_scheduled", "rejected_by_client"}),
    "interview_requested": frozenset({"awaiting_review", "interview_scheduled", "rejected_by_client"}),
    "interview_scheduled": frozenset({"awaiting_review", "interview_requested", "rejected_by_client"}),
    "hire_requested": frozenset({*OPEN_FOR_DECISIONS, "rejected_by_client"}),
    "rejected_by_client": frozenset(OPEN),
    "hired": frozenset(OPEN),
    "closed": frozenset(OPEN),
}
assert set(TRANSITIONS) == set(CLIENT_STATUSES), "every client status needs its row in the table"

# An application's closing outcome as the client sees it.
OUTCOME_STATUS = {"hired": "hired", "rejected_by_client": "rejected_by_client"}


def can_move(application: Application, to: str) -> bool:
    """Whether the table allows ``application`` to move to ``to`` from where it is now."""
    return application.client_status in TRANSITIONS[to]


def move(
    application: Application, to: str, *, now: datetime, allowed_from: tuple[str, ...] | None = None, **values
) -> bool:
    """Move ``application`` to ``to`` if it is still in a status the table (narrowed by
    ``allowed_from``) allows; ``values`` are other columns changed in the same statement.

    Returns False, changing nothing, when the status is elsewhere, for instance because another
    contact acted a moment earlier; ``application`` is refreshed either way.
    """
    allowed = TRANSITIONS[to] if allowed_from is None else TRANSITIONS[to] & set(allowed_from)
    result = db.session.execute(
        update(Application)
        .where(Application.id == application.id, Application.client_status.in_(sorted(allowed)))
        .values(client_status=to, last_activity_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    # Session.execute is typed with the general Result; an UPDATE's carries the row count.
    assert isinstance(result, CursorResult)
    changed = result.rowcount
    db.session.refresh(application)
    return changed == 1


def close(application: Application, outcome: str, *, now: datetime, **values) -> bool:
    """Close an open application with ``outcome``: the client sees it hired, rejected or closed."""
    return move(application, OUTCOME_STATUS.get(outcome, "closed"), now=now, outcome=outcome, closed_at=now, **values)


def from_history(application: Application) -> None:
    """Set the status that ``application.outcome`` implies when the application comes from
    history (an import, demo data) rather than from an action: open means awaiting review."""
    if application.outcome is None:
        application.client_status = "awaiting_review"
    else:
        application.client_status = OUTCOME_STATUS.get(application.outcome, "closed")

"""What a recruiter reads on the shortlist board of a job (A1, issue 14 item 6): the open
applications by stage, the closed ones apart, and on each card what the client did with it
(its client status and the contacts' star ratings)."""

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import Application, Job, Rating, StageDefinition
from .pipeline import job_board
from .profile_views import ContactViews, views_by_application

# The client status as the agency reads it (the client's own wording is client_actions.STATUS_LABELS).
CLIENT_STATUS_LABELS = {
    "awaiting_review": "Client: awaiting review",
    "interview_requested": "Client: interview requested",
    "interview_scheduled": "Client: interview scheduled",
    "hire_requested": "Client: wants to hire",
    "hired": "Client: hired",
    "rejected_by_client": "Client: rejected",
    "closed": "Client: no longer in process",
}


@dataclass(frozen=True)
class CardFacts:
    """What the client did with one card: ``status`` is None while it was never shared."""

    status: str | None
    status_label: str | None
    rating_average: float | None
    rating_count: int
    # Who of the client looked at the profile or the CV, and how often (issue 16).
    views: tuple[ContactViews, ...] = ()


@dataclass
class ShortlistBoard:
    """Open applications by stage (every stage of the agency, in order), closed ones apart."""

    columns: list[tuple[StageDefinition, list[Application]]]
    closed: list[Application]
    facts: dict[int, CardFacts]


def card_facts(applications: list[Application]) -> dict[int, CardFacts]:
    """Client status, ratings and views for each of ``applications``, by application id (one
    query for all the ratings and one for all the views, so a long board costs the same as a
    short one)."""
    ids = [a.id for a in applications]
    ratings: dict[int, tuple[float, int]] = {}
    if ids:
        rows = db.session.execute(
            select(Rating.application_id, func.avg(Rating.stars), func.count(Rating.id))
            .where(Rating.application_id.in_(ids))
            .group_by(Rating.application_id)
        )
        ratings = {application_id: (float(average), count) for application_id, average, count in rows}
    # A board is one job's, so one agency's: the views are read within it.
    views = views_by_application(applications[0].agency_id, ids) if ids else {}
    facts = {}
    for application in applications:
        shared = application.shared_profile is not None
        average, count = ratings.get(application.id, (None, 0))
        facts[application.id] = CardFacts(
            status=application.client_status if shared else None,
            status_label=CLIENT_STATUS_LABELS.get(application.client_status) if shared else None,
            rating_average=round(average, 1) if average is not None else None,
            rating_count=count,
            views=tuple(views.get(application.id, ())),
        )
    return facts


def shortlist_board(job: Job) -> ShortlistBoard:
    """The board of ``job``: closed applications leave their stage column for a pile of their
    own, so the columns hold only the people still in process."""
    columns: list[tuple[StageDefinition, list[Application]]] = []
    closed: list[Application] = []
    for stage, applications in job_board(job):
        columns.append((stage, [a for a in applications if a.is_active]))
        closed.extend(a for a in applications if not a.is_active)
    closed.sort(key=lambda a: a.closed_at or a.applied_at, reverse=True)  # the latest closed first
    everyone = [a for _, applications in columns for a in applications] + closed
    return ShortlistBoard(columns=columns, closed=closed, facts=card_facts(everyone))

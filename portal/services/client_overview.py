"""Read models for the client pages (C3, C4): progress counts and ratings, a fixed number of
queries per page however many candidates are shared."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select

from ..extensions import db
from ..models import Activity, Application, ClientContact, Rating, SharedProfile
from ..scoping import shared_applications_query
from .client_actions import RatingSummary

INTERVIEWING = ("interview_requested", "interview_scheduled")
OFFERED = ("hire_requested", "hired")


@dataclass
class Progress:
    """Per-job counts shown on the home and job pages."""

    shared: int = 0
    awaiting_review: int = 0
    interviewing: int = 0
    offered: int = 0
    rejected: int = 0
    new: int = 0


def progress_by_job(contact: ClientContact, baseline: datetime | None, job_ids=None) -> dict[int, Progress]:
    """Counts per job for the contact: "awaiting your review" means not yet rated by them and
    still undecided; "new" means shared after ``baseline`` (the start of this visit)."""
    mine = and_(Rating.application_id == Application.id, Rating.contact_id == contact.id)
    is_new = SharedProfile.shared_at > baseline if baseline is not None else True
    query = (
        shared_applications_query(contact)
        .outerjoin(Rating, mine)
        .with_only_columns(
            Application.job_id,
            Application.client_status,
            func.count(Application.id),
            func.sum(case((is_new, 1), else_=0)),
            func.sum(case((Rating.id.is_(None), 1), else_=0)),
        )
        .group_by(Application.job_id, Application.client_status)
    )
    if job_ids is not None:
        query = query.where(Application.job_id.in_(list(job_ids)))
    progress: dict[int, Progress] = defaultdict(Progress)
    for job_id, status, count, new, unrated in db.session.execute(query):
        item = progress[job_id]
        item.shared += count
        item.new += int(new or 0)
        if status == "awaiting_review":
            item.awaiting_review += int(unrated or 0)
        elif status in INTERVIEWING:
            item.interviewing += count
        elif status in OFFERED:
            item.offered += count
        elif status == "rejected_by_client":
            item.rejected += count
    return dict(progress)


def ratings_for(contact: ClientContact, application_ids: list[int]) -> dict[int, RatingSummary]:
    """Own rating and average for many applications in two queries."""
    if not application_ids:
        return {}
    mine = dict(
        db.session.execute(
            select(Rating.application_id, Rating.stars).where(
                Rating.application_id.in_(application_ids), Rating.contact_id == contact.id
            )
        ).all()
    )
    averages = {
        app_id: (avg, count)
        for app_id, avg, count in db.session.execute(
            select(Rating.application_id, func.avg(Rating.stars), func.count(Rating.id))
            .where(Rating.application_id.in_(application_ids))
            .group_by(Rating.application_id)
        )
    }
    summaries = {}
    for app_id in application_ids:
        avg, count = averages.get(app_id, (None, 0))
        summaries[app_id] = RatingSummary(mine.get(app_id), round(float(avg), 1) if avg is not None else None, count)
    return summaries


def recent_activity(job_id: int, agency_id: int, limit: int = 8) -> list[Activity]:
    """What happened on the job lately that the client may see."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(Activity)
            .where(Activity.agency_id == agency_id, Activity.job_id == job_id, Activity.client_visible.is_(True))
            .options(selectinload(Activity.actor_user), selectinload(Activity.actor_contact))
            .order_by(Activity.created_at.desc(), Activity.id.desc())
            .limit(limit)
        )
    )


@dataclass
class StageGroup:
    """Cards of one shortlist stage on the job page."""

    stage: object
    applications: list = field(default_factory=list)

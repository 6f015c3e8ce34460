"""Read models for the client pages (C3–C5): progress counts, ratings, the job page's cards, the
shared files; a fixed number of queries per page however many candidates are shared. Also the
contact's last visit, which "new since your last visit" counts from."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import contains_eager, selectinload, undefer

from ..extensions import db
from ..models import (
    Activity,
    Application,
    ClientContact,
    Job,
    Rating,
    Resume,
    SharedProfile,
    StageDefinition,
    VideoResume,
)
from ..scoping import jobs_query, shared_applications_query
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
    # literal(True) binds the same parameter a bare True would, as an expression case() accepts.
    is_new = SharedProfile.shared_at > baseline if baseline is not None else literal(True)
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
        )
        .tuples()
        .all()
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
    return list(
        db.session.scalars(
            select(Activity)
            .where(Activity.agency_id == agency_id, Activity.job_id == job_id, Activity.client_visible.is_(True))
            .options(selectinload(Activity.actor_user), selectinload(Activity.actor_contact))
            .order_by(Activity.created_at.desc(), Activity.id.desc())
            .limit(limit)
        )
    )


# The group key of the rejected pile among a job's stage groups (stage ids are positive).
REJECTED_GROUP = -1


def open_jobs(contact: ClientContact, job_ids: list[int]) -> list[Job]:
    """Of these jobs, the open ones the contact may see, newest first (the home page, C3)."""
    if not job_ids:
        return []
    query = jobs_query(contact).where(Job.status == "open", Job.id.in_(job_ids)).order_by(Job.opened_at.desc())
    return list(db.session.scalars(query))


def card_batch(
    contact: ClientContact,
    job: Job,
    per_group: int,
    group: int | None = None,
    offset: int = 0,
    status: str | None = None,
) -> tuple[list[Application], dict[int, int]]:
    """The job page's cards (C4): up to ``per_group`` shared applications of each group (a stage,
    or ``REJECTED_GROUP``) from ``offset``, in stage order, and every group's total. ``group``
    limits both to one group; ``status`` to one client status (the "Awaiting your review" filter).
    One ranking query, then the chosen rows with what a card shows."""
    group_of = case((Application.client_status == "rejected_by_client", REJECTED_GROUP), else_=Application.stage_id)
    shared = shared_applications_query(contact).where(Application.job_id == job.id)
    if status is not None:
        shared = shared.where(Application.client_status == status)
    ranked = shared.with_only_columns(
        Application.id.label("id"),
        group_of.label("grp"),
        func.row_number().over(partition_by=group_of, order_by=Application.id).label("rank"),
        func.count().over(partition_by=group_of).label("total"),
    ).subquery()
    query = select(ranked.c.id, ranked.c.grp, ranked.c.total, ranked.c.rank)
    if group is not None:
        query = query.where(ranked.c.grp == group)
    rows = db.session.execute(query).all()
    totals = {grp: total for _id, grp, total, _rank in rows}
    wanted = [row_id for row_id, _grp, _total, rank in rows if offset < rank <= offset + per_group]
    if not wanted:
        return [], totals
    applications = db.session.scalars(
        select(Application)
        .where(Application.id.in_(wanted))
        .join(StageDefinition, StageDefinition.id == Application.stage_id)
        .order_by(StageDefinition.position, Application.id)
        .options(
            contains_eager(Application.stage),
            selectinload(Application.candidate),
            selectinload(Application.shared_profile),
        )
    ).all()
    return list(applications), totals


def neighbours(contact: ClientContact, application: Application) -> tuple[int | None, int | None]:
    """The shared applications before and after ``application`` on its job page, in the page's
    order (stage order, the rejected last, then by id): the profile's previous / next links."""
    rejected_last = case((Application.client_status == "rejected_by_client", 1), else_=0)
    ids = list(
        db.session.scalars(
            shared_applications_query(contact)
            .where(Application.job_id == application.job_id)
            .join(StageDefinition, StageDefinition.id == Application.stage_id)
            .with_only_columns(Application.id)
            .order_by(rejected_last, StageDefinition.position, Application.id)
        )
    )
    if application.id not in ids:
        return None, None
    index = ids.index(application.id)
    return (ids[index - 1] if index > 0 else None), (ids[index + 1] if index + 1 < len(ids) else None)


def shared_resume(application: Application, *, with_content: bool = True) -> Resume | None:
    """The resume the shared profile offers, with its content unless ``with_content`` is False
    (a page needs only its type); only one of that candidate and agency."""
    profile = application.shared_profile
    if profile is None or profile.resume_id is None:
        return None
    query = select(Resume).where(
        Resume.id == profile.resume_id,
        Resume.candidate_id == application.candidate_id,
        Resume.agency_id == application.agency_id,
    )
    return db.session.scalar(query.options(undefer(Resume.content)) if with_content else query)


def shared_video(profile: SharedProfile) -> VideoResume | None:
    """The video introduction the shared profile links to, if any."""
    return db.session.get(VideoResume, profile.video_resume_id) if profile.video_resume_id else None


def record_visit(contact: ClientContact, now: datetime) -> None:
    """Note that the contact is on the portal now; the start of their next visit counts from here."""
    contact.last_visit_at = now

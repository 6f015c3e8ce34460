"""Client contact pages: home (C3) and job page (C4)."""
from collections import defaultdict

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlalchemy.orm import contains_eager, selectinload

from ...extensions import db
from ...htmx import render
from ...models import Application, Job, StageDefinition, User
from ...scoping import get_job_or_404, jobs_query, shared_applications_query

bp = Blueprint("client", __name__, url_prefix="/<slug>/portal")


@bp.before_request
@login_required
def _only_contacts_of_this_agency():
    """Client pages are for the agency's own contacts; anyone else gets a 404."""
    from flask import request

    if not current_user.is_contact or current_user.agency.slug != request.view_args.get("slug"):
        abort(404)


@bp.get("/")
def index(slug: str):
    """The contact's open jobs that have at least one shared candidate, with counts."""
    shared_counts = (
        shared_applications_query()
        .with_only_columns(Application.job_id, func.count(Application.id))
        .group_by(Application.job_id)
    )
    counts = dict(db.session.execute(shared_counts).all())
    jobs = db.session.scalars(
        jobs_query().where(Job.status == "open", Job.id.in_(list(counts))).order_by(Job.opened_at.desc())
    ).all()
    return render("client/index.html", jobs=jobs, counts=counts)


@bp.get("/jobs/<int:job_id>")
def job(slug: str, job_id: int):
    """One job: owner's contact details and the shared candidates grouped by stage."""
    job = get_job_or_404(job_id)
    applications = db.session.scalars(
        shared_applications_query().where(Application.job_id == job.id)
        .join(StageDefinition, StageDefinition.id == Application.stage_id)
        .order_by(StageDefinition.position, Application.id)
        # One query per relationship, not one per card: the page lists hundreds of candidates.
        .options(contains_eager(Application.stage), selectinload(Application.candidate))
    ).all()
    by_stage: dict = defaultdict(list)
    rejected = []
    for application in applications:
        if application.client_status == "rejected_by_client":
            rejected.append(application)
        else:
            by_stage[application.stage].append(application)
    owner = db.session.get(User, job.owner_id)
    return render("client/job.html", job=job, owner=owner, by_stage=by_stage, rejected=rejected)

"""Recruiter pages: jobs and emailing job landing links (C2)."""
from flask import Blueprint, abort, make_response, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ...extensions import db
from ...forms import EmptyForm
from ...htmx import render, toast
from ...models import Application, ClientContact, Job, SharedProfile
from ...scoping import get_job_or_404, get_scoped_or_404, jobs_query
from ...services import ServiceError
from ...services import auth as auth_service

bp = Blueprint("agency", __name__, url_prefix="/agency")


@bp.before_request
@login_required
def _only_staff():
    """The workspace is for agency staff only."""
    if not current_user.is_staff:
        abort(404)


@bp.get("/")
def index():
    """Jobs the user may see, with how many candidates are shared on each."""
    jobs = db.session.scalars(jobs_query().order_by(Job.status.desc(), Job.opened_at.desc())).all()
    shared = dict(db.session.execute(
        select(Application.job_id, func.count())
        .join(SharedProfile, SharedProfile.application_id == Application.id)
        .where(Application.agency_id == current_user.agency_id, SharedProfile.unshared_at.is_(None))
        .group_by(Application.job_id)
    ).all())
    return render("agency/index.html", jobs=jobs, shared=shared)


@bp.get("/jobs/<int:job_id>")
def job(job_id: int):
    """A job with its client contacts, each with "Email job link" and "Copy job link"."""
    job = get_job_or_404(job_id)
    contacts = db.session.scalars(
        select(ClientContact).where(ClientContact.company_id == job.company_id,
                                    ClientContact.agency_id == current_user.agency_id)
        .order_by(ClientContact.name)
    ).all()
    return render("agency/job.html", job=job, contacts=contacts, form=EmptyForm())


@bp.post("/jobs/<int:job_id>/contacts/<int:contact_id>/link")
def copy_link(job_id: int, contact_id: int):
    """Reveal one contact's landing link for copying (a POST: it may create the token)."""
    job, contact = _job_and_contact(job_id, contact_id)
    if contact.company_id != job.company_id or not contact.active:
        return _link_result(contact, "That contact cannot receive links for this job.", ok=False)
    url = auth_service.landing_link(contact, job)
    db.session.commit()
    return _link_result(contact, "Copy this link and send it to the contact.", url=url)


@bp.post("/jobs/<int:job_id>/contacts/<int:contact_id>/send-link")
def send_link(job_id: int, contact_id: int):
    """Email one contact the landing link for this job."""
    job, contact = _job_and_contact(job_id, contact_id)
    try:
        auth_service.email_landing_link(contact, job, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _link_result(contact, exc.message, ok=False)
    return _link_result(contact, f"Link emailed to {contact.email}.")


def _job_and_contact(job_id: int, contact_id: int):
    job = get_job_or_404(job_id)
    contact = get_scoped_or_404(ClientContact, contact_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return job, contact


def _link_result(contact: ClientContact, message: str, ok: bool = True, url: str | None = None):
    response = make_response(
        render_template("agency/_link_result.html", contact=contact, message=message, ok=ok, url=url),
        200 if ok else 422,
    )
    return toast(response, message, "info" if ok else "error")

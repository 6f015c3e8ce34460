"""Jobs (A1): the list, the job form, and the job page (contacts, shortlist board, send online,
timeline)."""

from flask import abort, request, url_for
from flask_login import current_user

from ...htmx import redirect_for, render
from ...models import Job
from ...scoping import client_companies, colleagues, get_job_or_404
from ...services import no_ghosting, notes, pipeline, sharing
from ...services.activity import timeline
from ...unit_of_work import attempt
from . import bp
from .board import board_context
from .forms import JobForm, NoteForm, choices, show_refusal
from .sharing import send_online_context


@bp.get("/")
def index():
    """Jobs the user may see, with how many candidates are shared on each."""
    return render(
        "agency/index.html",
        jobs=pipeline.job_list(current_user),
        shared=sharing.shared_count_by_job(current_user.agency_id),
        not_informed=no_ghosting.overdue_count(current_user),
    )


def _job_form(job: Job | None = None) -> JobForm:
    """The job form with the agency's clients and active colleagues to choose from."""
    form = JobForm(obj=job) if job is not None and request.method == "GET" else JobForm()
    companies, users = client_companies(), colleagues()
    form.company_id.choices = choices([("", "Choose…")] + [(c.id, c.name) for c in companies])
    form.owner_id.choices = choices([("", "Choose…")] + [(u.id, u.name) for u in users])
    form.team_ids.choices = choices((u.id, u.name) for u in users)
    if request.method == "GET":
        if job is not None:
            form.team_ids.data = [u.id for u in job.hiring_team]
        else:
            form.owner_id.data = current_user.id
    return form


def _job_input(form: JobForm) -> pipeline.JobInput:
    return pipeline.JobInput(
        title=form.title.data or "",
        company_id=form.company_id.data,
        owner_id=form.owner_id.data,
        location=form.location.data,
        description=form.description.data,
        requisition_id=form.requisition_id.data,
        confidential=form.confidential.data,
        status=form.status.data or "open",
        team_ids=tuple(form.team_ids.data or ()),
        feedback_due_working_days=form.feedback_due_working_days.data,
    )


@bp.route("/jobs/new", methods=["GET", "POST"])
def new_job():
    """Create a job (A1)."""
    form = _job_form()
    if request.method == "GET":
        return render("agency/job_form.html", "agency/_job_form.html", form=form, job=None)
    if not form.validate_on_submit():
        return render("agency/job_form.html", "agency/_job_form.html", status=422, form=form, job=None)
    with attempt() as outcome:
        job = pipeline.create_job(current_user, _job_input(form))
    if outcome.refusal is not None:
        error = show_refusal(form, outcome.refusal)
        return render("agency/job_form.html", "agency/_job_form.html", status=422, form=form, job=None, error=error)
    return redirect_for(url_for("agency.job", job_id=job.id))


@bp.route("/jobs/<int:job_id>/edit", methods=["GET", "POST"])
def edit_job(job_id: int):
    """Edit a job (A1)."""
    job = get_job_or_404(job_id)
    if not pipeline.can_edit_job(current_user, job):
        abort(404)  # as every staff page someone may not use: not there for them
    form = _job_form(job)
    if request.method == "GET":
        return render("agency/job_form.html", "agency/_job_form.html", form=form, job=job)
    if not form.validate_on_submit():
        return render("agency/job_form.html", "agency/_job_form.html", status=422, form=form, job=job)
    with attempt() as outcome:
        pipeline.update_job(job, current_user, _job_input(form))
    if outcome.refusal is not None:
        error = show_refusal(form, outcome.refusal)
        return render("agency/job_form.html", "agency/_job_form.html", status=422, form=form, job=job, error=error)
    return redirect_for(url_for("agency.job", job_id=job.id))


@bp.get("/jobs/<int:job_id>")
def job(job_id: int):
    """A job: contacts with link buttons, the shortlist board by stage, and the timeline."""
    return job_page(get_job_or_404(job_id))


def job_page(job: Job, *, status: int = 200, note_form: NoteForm | None = None, note_error=None):
    """The job page, with a refused note (``note_form``) shown in place."""
    context = {**board_context(job), **send_online_context(job), "timeline": timeline(current_user, job_id=job.id)}
    return render(
        "agency/job.html",
        status=status,
        can_edit_job=pipeline.can_edit_job(current_user, job),
        note_form=note_form or NoteForm(formdata=None),
        notes=notes.job_notes(job),
        note_error=note_error,
        **context,
    )

"""Candidates (A6, A8, issue 14): the candidate page, adding and editing a person, putting them on
a job, closing an application with an outcome, and the feedback message to the candidate."""

from dataclasses import asdict, fields
from typing import Any

from flask import request, url_for
from flask_login import current_user

from ...forms import EmptyForm
from ...htmx import redirect_for, render, toast
from ...models import Candidate, Job
from ...scoping import get_application_or_404, get_candidate_or_404, get_job_or_404, visible_candidate
from ...services import candidate_messages, candidates, interviews, notes, pipeline, profile_views
from ...services.activity import timeline
from ...services.suppression import SuppressedAddress
from ...services.timezones import grouped_zone_choices
from ...unit_of_work import attempt
from . import bp
from .candidate_files import files_context
from .client_comments import has_thread, thread_context
from .consent import consent_context
from .forms import (
    AddToJobForm,
    CandidateForm,
    FeedbackForm,
    NoteForm,
    OutcomeForm,
    RescheduleForm,
    choices,
    show_refusal,
)


@bp.get("/candidates/<int:candidate_id>")
def candidate(candidate_id: int):
    """A candidate: applications on visible jobs, interviews, the comment threads with the
    clients the candidate was shared with, and the timeline."""
    person = get_candidate_or_404(candidate_id)
    return candidate_page(person)


def candidate_page(
    person: Candidate,
    *,
    status: int = 200,
    job_form: AddToJobForm | None = None,
    note_form: NoteForm | None = None,
    note_error: str | None = None,
    status_update_error: tuple[int, str] | None = None,
):
    """The candidate page, with a refused form (``job_form``, ``note_form``, a status update as
    ``(application id, message)``) shown in place."""
    applications = pipeline.candidate_applications(current_user, person)
    return render(
        "agency/candidate.html",
        status=status,
        candidate=person,
        job_form=job_form or _job_picker(),
        note_form=note_form or NoteForm(formdata=None),
        note_error=note_error,
        status_update_error=status_update_error,
        notes=notes.candidate_notes(person),
        applications=applications,
        views=profile_views.views_by_application(person.agency_id, [a.id for a in applications]),
        threads=[thread_context(a) for a in applications if has_thread(a)],
        interviews=interviews.interviews_for_applications([a.id for a in applications]),
        timeline=timeline(current_user, candidate_id=person.id),
        reschedule_form=RescheduleForm(timezone=current_user.timezone),
        form=EmptyForm(),
        **consent_context(person),
        **files_context(person),
    )


@bp.route("/applications/<int:application_id>/outcome", methods=["GET", "POST"])
def outcome(application_id: int):
    """Close an application with an outcome and a reason (A6)."""
    application = get_application_or_404(application_id)
    form = OutcomeForm()
    context: dict[str, Any] = {
        "application": application,
        "reasons": pipeline.closing_reasons(application.agency_id),
        "form": form,
        # Closing as anything but a hire cancels these; the form says so before it happens.
        "booked": [i for i in interviews.interviews_for_applications([application.id]) if i.status == "scheduled"],
    }
    if request.method == "GET":
        return render("agency/outcome.html", "agency/_outcome_form.html", **context)
    if not form.validate_on_submit():
        return render("agency/outcome.html", "agency/_outcome_form.html", status=422, **context)
    with attempt() as closing:
        pipeline.close_application(
            application, form.outcome.data, current_user, reason_id=form.reason_id.data, comment=form.comment.data
        )
    if closing.refusal is not None:
        error = show_refusal(form, closing.refusal)
        return render("agency/outcome.html", "agency/_outcome_form.html", status=422, error=error, **context)
    return redirect_for(url_for("agency.candidate", candidate_id=application.candidate_id))


@bp.route("/applications/<int:application_id>/feedback", methods=["GET", "POST"])
def feedback(application_id: int):
    """Compose and send kind feedback to the candidate from the agency's template (A8)."""
    application = get_application_or_404(application_id)
    draft = candidate_messages.compose_feedback(application)
    if request.method == "GET":
        form = FeedbackForm(subject=draft.subject, body=draft.body)
        return render(
            "agency/feedback.html", "agency/_feedback_form.html", form=form, application=application, draft=draft
        )
    form = FeedbackForm()
    context = {"form": form, "application": application, "draft": draft}
    if not form.validate_on_submit():
        return render("agency/feedback.html", "agency/_feedback_form.html", status=422, **context)
    with attempt() as outcome:
        candidate_messages.send_feedback(application, current_user, form.subject.data, form.body.data)
    if outcome.refusal is not None:
        error = show_refusal(form, outcome.refusal)
        return render("agency/feedback.html", "agency/_feedback_form.html", status=422, error=error, **context)
    return toast(
        redirect_for(url_for("agency.candidate", candidate_id=application.candidate_id)),
        "Feedback sent to the candidate.",
    )


def _job_picker() -> AddToJobForm:
    form = AddToJobForm()
    form.job_id.choices = choices([("", "Choose a job…"), *candidates.open_job_choices(current_user)])
    return form


@bp.post("/candidates/<int:candidate_id>/jobs")
def add_to_job(candidate_id: int):
    """Put the candidate on an open job's pipeline, at its first stage."""
    person = get_candidate_or_404(candidate_id)
    form = _job_picker()
    if not form.validate_on_submit():
        return candidate_page(person, status=422, job_form=form)
    with attempt() as outcome:
        application = candidates.add_to_job(person, form.job_id.data, current_user)
    if outcome.refusal is not None:
        show_refusal(form, outcome.refusal)
        return candidate_page(person, status=422, job_form=form)
    return toast(
        redirect_for(url_for("agency.candidate", candidate_id=person.id)),
        f"Added {person.name} to {application.job.title}.",
    )


def _candidate_form(person: Candidate | None) -> CandidateForm:
    """The posted form, or on GET one filled from the person (empty for a new one)."""
    if request.method != "GET":
        return CandidateForm()
    values = candidates.CandidateInput.of(person) if person is not None else candidates.CandidateInput()
    return CandidateForm(data=asdict(values), job_id=request.args.get("job_id", ""))


def _values(form: CandidateForm) -> candidates.CandidateInput:
    return candidates.CandidateInput(**{f.name: form[f.name].data or "" for f in fields(candidates.CandidateInput)})


def _form_page(
    form: CandidateForm,
    person: Candidate | None,
    job: Job | None,
    *,
    status=200,
    error=None,
    taken=None,
    suppressed=False,
):
    return render(
        "agency/candidate_form.html",
        "agency/_candidate_form.html",
        status=status,
        form=form,
        candidate=person,
        job=job,
        zones=grouped_zone_choices(),
        error=error,
        taken=taken,
        suppressed=suppressed,
    )


def _taken(refusal) -> dict:
    """For a refusal that names an existing person: that person, when the user may see them
    (else the message says only that someone has the address); for an erased person's address,
    the "Add anyway" box."""
    if isinstance(refusal, SuppressedAddress):
        return {"suppressed": True}
    if not isinstance(refusal, candidates.EmailTaken):
        return {}
    owner = visible_candidate(refusal.owner.id)
    if owner is None:
        refusal.message = "This e-mail belongs to someone on a job you cannot see: ask an admin."
    return {"taken": owner}


@bp.route("/candidates/new", methods=["GET", "POST"])
def new_candidate():
    """Add a candidate; from a job's board (``job_id``) they also join that job's pipeline."""
    job_id = request.values.get("job_id", type=int)
    job = get_job_or_404(job_id) if job_id else None
    form = _candidate_form(None)
    if request.method == "GET":
        return _form_page(form, None, job)
    if not form.validate_on_submit():
        return _form_page(form, None, job, status=422)
    with attempt() as outcome:
        person = candidates.create_candidate(current_user, _values(form), override_suppression=form.add_anyway.data)
        if job is not None:
            candidates.add_to_job(person, job.id, current_user)
    if outcome.refusal is not None:
        extra = _taken(outcome.refusal)
        error = show_refusal(form, outcome.refusal)
        return _form_page(form, None, job, status=422, error=error, **extra)
    if job is not None:
        return toast(redirect_for(url_for("agency.job", job_id=job.id)), f"Added {person.name} to {job.title}.")
    return toast(redirect_for(url_for("agency.candidate", candidate_id=person.id)), f"Added {person.name}.")


@bp.route("/candidates/<int:candidate_id>/edit", methods=["GET", "POST"])
def edit_candidate(candidate_id: int):
    """Edit a candidate's details."""
    person = get_candidate_or_404(candidate_id)
    form = _candidate_form(person)
    if request.method == "GET":
        return _form_page(form, person, None)
    if not form.validate_on_submit():
        return _form_page(form, person, None, status=422)
    with attempt() as outcome:
        candidates.update_candidate(person, current_user, _values(form), override_suppression=form.add_anyway.data)
    if outcome.refusal is not None:
        extra = _taken(outcome.refusal)
        error = show_refusal(form, outcome.refusal)
        return _form_page(form, person, None, status=422, error=error, **extra)
    return toast(redirect_for(url_for("agency.candidate", candidate_id=person.id)), f"Saved {person.name}.")

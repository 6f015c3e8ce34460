"""Candidates (A6, A8): the candidate page, closing an application with an outcome, and the
feedback message to the candidate."""

from typing import Any

from flask import request, url_for
from flask_login import current_user

from ...forms import EmptyForm
from ...htmx import redirect_for, render, toast
from ...scoping import get_application_or_404, get_candidate_or_404
from ...services import candidate_messages, interviews, pipeline
from ...services.activity import timeline
from ...unit_of_work import attempt
from . import bp
from .candidate_files import files_context
from .client_comments import has_thread, thread_context
from .forms import FeedbackForm, OutcomeForm, RescheduleForm, show_refusal


@bp.get("/candidates/<int:candidate_id>")
def candidate(candidate_id: int):
    """A candidate: applications on visible jobs, interviews, the comment threads with the
    clients the candidate was shared with, and the timeline."""
    person = get_candidate_or_404(candidate_id)
    applications = pipeline.candidate_applications(current_user, person)
    return render(
        "agency/candidate.html",
        candidate=person,
        applications=applications,
        threads=[thread_context(a) for a in applications if has_thread(a)],
        interviews=interviews.interviews_for_applications([a.id for a in applications]),
        timeline=timeline(current_user, candidate_id=person.id),
        reschedule_form=RescheduleForm(timezone=current_user.timezone),
        form=EmptyForm(),
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

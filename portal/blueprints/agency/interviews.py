"""Interview scheduling (A5): confirming a proposed time, letting the candidate choose, proposing
other times (the scheduling region of the task page), and moving or cancelling an interview
(its card on the candidate page)."""

from datetime import UTC, datetime, timedelta

from flask import flash, make_response, render_template, request, url_for
from flask_login import current_user

from ...forms import EmptyForm
from ...htmx import is_htmx, redirect_for, render
from ...models import Interview, InterviewRequest
from ...scoping import get_interview_or_404, get_interview_request_or_404
from ...services import ServiceError, interview_answers, interviews
from ...services import tasks as task_service
from ...unit_of_work import attempt
from . import bp
from .forms import ConfirmForm, ProposeForm, RescheduleForm, form_errors
from .tasks import schedule_context, task_region


def _schedule_region(row: InterviewRequest, status: int = 200, **extra):
    """The task page's scheduling region for this request; ``extra`` as for ``schedule_context``."""
    task = task_service.task_for_interview_request(row.id)
    if task is None:
        return make_response(
            render_template("partials/error.html", message=extra.get("schedule_error") or "No task."), status
        )
    return task_region(task, "schedule", schedule_context(row, **extra), status)


def _suggestions(refusal: ServiceError | None) -> list[datetime]:
    """The free start times a scheduling conflict offers instead; none for other refusals."""
    return refusal.suggestions if isinstance(refusal, interviews.SchedulingConflict) else []


def _local_to_utc(value: datetime, zone_name: str) -> datetime:
    """A wall-clock time entered in ``zone_name``, as UTC (callers pass only filled-in fields)."""
    return value.replace(tzinfo=interviews.zone(zone_name)).astimezone(UTC)


@bp.post("/interview-requests/<int:request_id>/confirm")
def confirm_interview(request_id: int):
    """Confirm a proposed slot (or a suggested window): conflict-checked, then invitations."""
    row = get_interview_request_or_404(request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _schedule_region(row, 422, confirm_form=form, schedule_error=form_errors(form))
    try:
        starts_at = datetime.fromisoformat(form.starts_at.data).astimezone(UTC) if form.starts_at.data else None
    except ValueError:
        return _schedule_region(row, 422, confirm_form=form, schedule_error="Choose one of the proposed times.")
    slot_id = int(form.slot_id.data) if (form.slot_id.data or "").isdigit() else None
    with attempt() as outcome:
        interview = interviews.confirm_interview(
            row,
            current_user,
            slot_id=slot_id,
            starts_at=starts_at,
            location=form.location.data,
            meeting_link=form.meeting_link.data,
        )
    if outcome.refusal is not None:
        return _schedule_region(
            row,
            422,
            confirm_form=form,
            schedule_error=outcome.refusal.message,
            suggestions=_suggestions(outcome.refusal),
        )
    when = interviews.format_in_zone(interview.starts_at, current_user.timezone)
    response = _schedule_region(row, schedule_message=f"Interview confirmed for {when}; invitations are on their way.")
    response.headers["HX-Trigger"] = "task-changed"  # the status region reloads: the task is done
    return response


@bp.post("/interview-requests/<int:request_id>/self-schedule")
def send_self_schedule_link(request_id: int):
    """Email the candidate a link to choose one of the proposed times themselves."""
    row = get_interview_request_or_404(request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _schedule_region(row, 422, confirm_form=form, schedule_error=form_errors(form))
    with attempt() as outcome:
        interviews.send_self_schedule_link(
            row, current_user, location=form.location.data, meeting_link=form.meeting_link.data
        )
    if outcome.refusal is not None:
        return _schedule_region(row, 422, confirm_form=form, schedule_error=outcome.refusal.message)
    return _schedule_region(row, schedule_message="The candidate was emailed a link to choose a time.")


@bp.post("/interview-requests/<int:request_id>/propose")
def propose_times(request_id: int):
    """Send other times back to the client."""
    row = get_interview_request_or_404(request_id)
    form = ProposeForm()
    if not form.validate_on_submit():
        return _schedule_region(row, 422, propose_form=form, propose_error=form_errors(form, "Check the times."))
    starts = [_local_to_utc(f.data, form.timezone.data) for f in (form.first, form.second, form.third) if f.data]
    with attempt() as outcome:
        interviews.propose_times(
            row,
            current_user,
            starts,
            timedelta(minutes=form.minutes.data),
            form.timezone.data,
            location=form.location.data if row.format == "onsite" else None,
            meeting_link=form.meeting_link.data if row.format == "video" else None,
        )
    if outcome.refusal is not None:
        return _schedule_region(row, 422, propose_form=form, propose_error=outcome.refusal.message)
    return _schedule_region(row, propose_message="The new times were sent to the client.")


def _interview_card(row: Interview, status: int = 200, *, reschedule_form: RescheduleForm | None = None, **messages):
    """One interview's card (``agency/_interview.html``); ``messages``: ``error``, ``suggestions``,
    ``message``."""
    html = render_template(
        "agency/_interview.html",
        interview=row,
        form=EmptyForm(),
        reschedule_form=reschedule_form or RescheduleForm(formdata=None, timezone=current_user.timezone),
        **_suggestion_context(row),
        **messages,
    )
    return make_response(html, status)


def _suggestion_context(row: Interview) -> dict:
    """Free times after a clash are shown in the owner's zone and the zone of whoever asked."""
    owner_zone, asker_zone = interview_answers.interview_zones(row)
    return {
        "suggestion_views": interview_answers.suggestions_in_zones,
        "owner_zone": owner_zone,
        "asker_zone": asker_zone,
    }


@bp.get("/interviews/<int:interview_id>/cancel")
def confirm_cancel_interview(interview_id: int):
    """The confirm step before a cancellation: the card asks (htmx), or a page does (no script)."""
    row = get_interview_or_404(interview_id)
    keep_url = url_for("agency.candidate", candidate_id=interview_answers.interview_candidate_id(row))
    if is_htmx():
        return _interview_card(row, confirm_cancel=True, keep_url=keep_url)
    return render("agency/cancel_interview.html", interview=row, form=EmptyForm(), keep_url=keep_url)


@bp.post("/interviews/<int:interview_id>/reschedule")
def reschedule_interview(interview_id: int):
    """Move an interview; everyone gets an updated invitation (same UID, higher SEQUENCE)."""
    row = get_interview_or_404(interview_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        return _interview_card(row, 422, reschedule_form=form, error="Choose the new time.")
    with attempt() as outcome:
        interviews.reschedule_interview(row, current_user, _local_to_utc(form.starts_at.data, form.timezone.data))
    if outcome.refusal is not None:
        return _interview_card(
            row, 422, reschedule_form=form, error=outcome.refusal.message, suggestions=_suggestions(outcome.refusal)
        )
    return _interview_card(row, message="Moved; updated invitations are on their way.")


@bp.post("/interviews/<int:interview_id>/cancel")
def cancel_interview(interview_id: int):
    """Cancel an interview; everyone gets a cancellation (METHOD:CANCEL, same UID)."""
    row = get_interview_or_404(interview_id)
    if not request.form.get("confirmed"):
        return confirm_cancel_interview(interview_id)  # nothing is cancelled without the confirm step
    with attempt() as outcome:
        interviews.cancel_interview(row, current_user)
    if not is_htmx():
        flash(outcome.refusal.message if outcome.refusal is not None else "Cancelled; everyone has been told.")
        return redirect_for(url_for("agency.candidate", candidate_id=interview_answers.interview_candidate_id(row)))
    if outcome.refusal is not None:
        return _interview_card(row, 422, error=outcome.refusal.message)
    return _interview_card(row, message="Cancelled; everyone has been told.")

"""The client's side of interview scheduling (issue 13, item 4): accept one of the agency's
proposed times in one tap, or say none of them work. Plain forms (POST, then back to the
candidate page), so the status, the "Interview" section and the actions all show the outcome."""

from flask import flash, request, url_for
from flask_login import current_user

from ...htmx import redirect_for, render
from ...models import Application
from ...ratelimit import Wait, retry_after, throttle
from ...scoping import get_company_application_or_404
from ...services import interview_answers
from ...unit_of_work import attempt
from . import bp
from .gone import refuse_if_gone

# As in decisions.py (not imported from there: decisions imports the candidate page, which
# imports this module).
TOO_FAST = "You are going faster than the portal allows. Nothing was saved."


def _too_fast() -> Wait | None:
    """How long this contact must wait, having used up their client-action rate (None: go ahead);
    the caller answers 429 in place, saying when to try again."""
    return throttle("action", "CLIENT_ACTION_RATE")


def client_interview_context(application: Application, **messages) -> dict:
    """``client/_interview_section.html``: the booked interviews and the times on offer, in the
    contact's zone; ``messages``: ``interview_error``, ``note``."""
    return {"interview_view": interview_answers.client_interview_view(current_user, application), **messages}


def _refused(application: Application, message: str, status: int, **extra):
    """The candidate page again, the refusal in the "Interview" section; nothing was saved."""
    from .candidates import candidate_context

    context = {
        **candidate_context(application),
        **client_interview_context(application, interview_error=message, **extra),
    }
    return render("client/candidate.html", status=status, **context)


@bp.post("/candidates/<int:application_id>/interview/accept")
def accept_time(slug: str, application_id: int):
    """Accept one of the agency's proposed times: the interview is confirmed as usual."""
    application = get_company_application_or_404(application_id)
    slot_id = request.form.get("slot_id", "")
    if not slot_id.isdigit():
        return _refused(application, "Choose one of the proposed times.", 422)
    if wait := _too_fast():
        return retry_after(_refused(application, f"{TOO_FAST} {wait.words}", 429), wait)
    with attempt() as outcome:
        interview = interview_answers.accept_proposed_time(current_user, application, int(slot_id))
    refuse_if_gone(outcome.refusal)
    if outcome.refusal is not None:
        return _refused(application, outcome.refusal.message, 409)
    if interview is None:
        flash("Time accepted. Your recruiter will confirm it with the place.")
    else:
        flash("Interview confirmed. A calendar invitation is on its way to you.")
    return redirect_for(url_for("client.candidate", slug=slug, application_id=application.id) + "#interview-section")


@bp.post("/candidates/<int:application_id>/interview/other-times")
def ask_for_other_times(slug: str, application_id: int):
    """ "None of these work": the recruiter is asked for other times, with the optional note."""
    application = get_company_application_or_404(application_id)
    note = request.form.get("note", "")
    if wait := _too_fast():
        return retry_after(_refused(application, f"{TOO_FAST} {wait.words}", 429, note=note), wait)
    with attempt() as outcome:
        interview_answers.ask_for_other_times(current_user, application, note)
    refuse_if_gone(outcome.refusal)
    if outcome.refusal is not None:
        return _refused(application, outcome.refusal.message, 422, note=note)
    flash("Your recruiter was asked for other times.")
    return redirect_for(url_for("client.candidate", slug=slug, application_id=application.id) + "#interview-section")

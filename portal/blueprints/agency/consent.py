"""Consent (A2a) from the candidate's page and the share page: record an answer the recruiter
heard, or e-mail the candidate a link to answer themselves ("Ask the candidate")."""

from flask import url_for
from flask_login import current_user

from ...htmx import is_htmx, redirect_for, render, toast
from ...models import Candidate, utcnow
from ...scoping import client_companies, get_application_or_404, get_candidate_or_404
from ...services import consent as consent_service
from ...services.activity import timeline
from ...services.sharing import declined_message
from ...services.timezones import zone_or_utc
from ...unit_of_work import attempt
from . import bp
from .consent_forms import AskConsentForm, RecordConsentForm, fill_company_choices
from .forms import show_refusal


@bp.app_context_processor
def _consent_helpers():
    return {"consent_channel": consent_service.channel_label, "declined_message": declined_message}


def consent_context(
    candidate: Candidate,
    *,
    record_form: RecordConsentForm | None = None,
    ask_form: AskConsentForm | None = None,
    company_id: int | None = None,
    application_id: int | None = None,
    error: str | None = None,
) -> dict:
    """What ``agency/_consent.html`` needs beside ``candidate``: the history and both forms, for
    ``company_id`` first when given (the share page of ``application_id``, which the forms then
    return to)."""
    today = utcnow().astimezone(zone_or_utc(current_user.timezone)).date()
    record_form = record_form or RecordConsentForm(
        formdata=None, prefix="consent", company_id=company_id, given_on=today, application_id=application_id
    )
    ask_form = ask_form or AskConsentForm(
        formdata=None, prefix="ask", company_id=company_id, application_id=application_id
    )
    fill_company_choices(record_form, ask_form, client_companies())
    return {
        "consents": consent_service.consent_history(candidate),
        "record_form": record_form,
        "ask_form": ask_form,
        "consent_error": error,
    }


def _share_page(candidate: Candidate, application_id: int | None) -> str | None:
    """The share page a consent form came from, when it is one of this candidate's."""
    if not application_id:
        return None
    application = get_application_or_404(application_id)
    if application.candidate_id != candidate.id:
        return None
    return url_for("agency.share", application_id=application.id) + "#consent-guard"


def _answer(candidate: Candidate, form: RecordConsentForm | AskConsentForm, refusal, message: str):
    """The consent section again: in place with the refusal (422), or fresh with a toast; back to
    the share page when the form came from there."""
    if refusal is not None or form.errors:
        error = show_refusal(form, refusal) or "Nothing was saved: correct the fields marked below."
        forms = {"record_form": form} if isinstance(form, RecordConsentForm) else {"ask_form": form}
        context = consent_context(candidate, error=error, **forms)
        return render("agency/consent.html", "agency/_consent.html", status=422, candidate=candidate, **context)
    back = _share_page(candidate, form.application_id.data)
    if back is None and not is_htmx():
        back = url_for("agency.candidate", candidate_id=candidate.id) + "#consent"
    if back:
        return toast(redirect_for(back), message)
    context = consent_context(candidate)
    recent = timeline(current_user, candidate_id=candidate.id)
    return toast(
        render(
            "agency/consent.html",
            "agency/_consent.html",
            candidate=candidate,
            timeline=recent,
            timeline_oob=True,
            **context,
        ),
        message,
    )


@bp.post("/candidates/<int:candidate_id>/consent")
def record_consent(candidate_id: int):
    """Record an answer the recruiter heard: for which client, agreed or declined, how, which day."""
    candidate = get_candidate_or_404(candidate_id)
    form = RecordConsentForm(prefix="consent")
    fill_company_choices(form, AskConsentForm(formdata=None, prefix="ask"), client_companies())
    refusal = None
    if form.validate_on_submit():
        with attempt() as outcome:
            consent_service.record_consent(
                candidate,
                current_user,
                company_id=form.company_id.data,
                answer=form.answer.data,
                channel=form.channel.data,
                given_on=form.given_on.data,
            )
        refusal = outcome.refusal
    return _answer(candidate, form, refusal, f"Consent answer recorded for {candidate.name}.")


@bp.post("/candidates/<int:candidate_id>/consent/ask")
def ask_consent(candidate_id: int):
    """E-mail the candidate a link to agree or decline being presented to one client."""
    candidate = get_candidate_or_404(candidate_id)
    form = AskConsentForm(prefix="ask")
    fill_company_choices(RecordConsentForm(formdata=None, prefix="consent"), form, client_companies())
    refusal = None
    if form.validate_on_submit():
        with attempt() as outcome:
            consent_service.ask_consent(candidate, current_user, company_id=form.company_id.data)
        refusal = outcome.refusal
    return _answer(candidate, form, refusal, f"Consent request e-mailed to {candidate.name}.")

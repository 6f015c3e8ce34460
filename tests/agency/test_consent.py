"""Consent (A2a) as services, without HTTP: recorded answers, asking the candidate by e-mail,
their answer through the link, expiry, and what the share guard then says."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Activity, Alert, ConsentRecord
from portal.services import ServiceError
from portal.services import consent as service
from portal.services.sharing import share_candidate, share_guards
from portal.worker import deliver_mail
from tests.factories import make_agency, make_application, make_company, make_job

# Fixed instants far from the wall clock: every call here passes now=.
ASKED = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)


def _entries(candidate_id: int) -> list[str]:
    rows = db.session.scalars(select(Activity).where(Activity.candidate_id == candidate_id).order_by(Activity.id))
    return [row.summary for row in rows]


def test_a_recorded_consent_clears_the_share_guard_and_is_on_the_timeline(desk):
    consent = service.record_consent(
        desk.candidate,
        desk.recruiter,
        company_id=desk.job.company_id,
        answer="given",
        channel="phone",
        given_on=date(2030, 6, 1),
        now=ASKED,
    )
    # A past day is stored at noon in the recorder's zone (London, summer time: 11:00 UTC).
    assert consent.given_at == datetime(2030, 6, 1, 11, 0, tzinfo=UTC)
    assert (consent.status, consent.channel, consent.recorded_by_id) == ("given", "phone", desk.recruiter.id)
    assert share_guards(desk.application).consent == consent
    assert _entries(desk.candidate.id) == [
        "Kavya Rao agreed to be presented to Hudson Widgets (by phone, on 01 Jun 2030); recorded by Rhea Recruiter"
    ]


def test_today_is_stored_as_now(desk):
    consent = service.record_consent(
        desk.candidate,
        desk.recruiter,
        company_id=None,
        answer="given",
        channel="written",
        given_on=date(2030, 6, 3),
        now=ASKED,
    )
    assert consent.given_at == ASKED and consent.company_id is None


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"answer": "maybe"}, "answer", "Choose whether the candidate agreed or declined."),
        ({"channel": "pigeon"}, "channel", "Choose how the candidate answered."),
        ({"channel": "link"}, "channel", "Choose how the candidate answered."),
        ({"given_on": None}, "given_on", "Give the day the candidate answered."),
        ({"given_on": date(2030, 6, 4)}, "given_on", "The day cannot be in the future."),
        ({"company_id": 999_999}, "company_id", "Choose one of your clients."),
    ],
)
def test_recording_refuses_what_is_missing_or_wrong(desk, changes, field, message):
    values = {"company_id": desk.job.company_id, "answer": "given", "channel": "email", "given_on": date(2030, 6, 2)}
    with pytest.raises(ServiceError) as refused:
        service.record_consent(desk.candidate, desk.recruiter, **{**values, **changes}, now=ASKED)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_another_agencys_client_is_refused(desk):
    other = make_company(make_agency("elsewhere"), name="Not Yours")
    with pytest.raises(ServiceError, match="Choose one of your clients"):
        service.ask_consent(desk.candidate, desk.recruiter, company_id=other.id, now=ASKED)


def test_a_decline_is_shown_by_the_guard_and_refuses_a_share_without_a_reason(desk):
    application = make_application(make_job(desk.job.company, desk.recruiter), desk.candidate, shared=False)
    service.record_consent(
        desk.candidate,
        desk.recruiter,
        company_id=desk.job.company_id,
        answer="declined",
        channel="in_person",
        given_on=date(2030, 6, 2),
        now=ASKED,
    )
    guards = share_guards(application)
    assert guards.consent is None and guards.declined is not None and guards.needs_override
    with pytest.raises(ServiceError) as refused:
        share_candidate(application, desk.recruiter, now=ASKED)
    assert refused.value.message.startswith("Kavya Rao declined to be presented to Hudson Widgets on 2 Jun 2030.")


def test_the_latest_answer_wins(desk):
    for day, answer in ((1, "given"), (2, "declined")):
        service.record_consent(
            desk.candidate,
            desk.recruiter,
            company_id=desk.job.company_id,
            answer=answer,
            channel="phone",
            given_on=date(2030, 6, day),
            now=ASKED,
        )
    assert share_guards(desk.application).declined is not None


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # A later "not to anyone" overrides an earlier yes to this client.
        (((1, "given", True), (2, "declined", False)), "declined"),
        # A later yes to this client lifts an earlier "not to anyone".
        (((1, "declined", False), (2, "given", True)), "given"),
        # A general yes never lifts a decline of this client, however late.
        (((1, "declined", True), (2, "given", False)), "declined"),
    ],
)
def test_the_newest_answer_about_this_client_or_any_client_decides(desk, answers, expected):
    for day, answer, this_client in answers:
        service.record_consent(
            desk.candidate,
            desk.recruiter,
            company_id=desk.job.company_id if this_client else None,
            answer=answer,
            channel="phone",
            given_on=date(2030, 6, day),
            now=ASKED,
        )
    guards = share_guards(desk.application)
    assert (guards.consent is not None, guards.declined is not None) == (expected == "given", expected == "declined")


def _ask(desk, smtp):
    consent = service.ask_consent(desk.candidate, desk.recruiter, company_id=desk.job.company_id, now=ASKED)
    db.session.commit()
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    token = re.search(r"http://\S+/desk/consent/(\S+)", text).group(1)
    return consent, received, text, token


def test_asking_emails_a_link_with_reply_to_the_recruiter(desk, smtp):
    consent, received, text, _token = _ask(desk, smtp)
    assert received["to"] == [desk.candidate.primary_email]
    assert received["message"]["Reply-To"] == desk.recruiter.email
    assert received["message"]["Subject"] == "May we present you to Hudson Widgets?"
    assert "until 03 July 2030" in text
    assert (consent.status, consent.given_at, consent.requested_at) == ("requested", None, ASKED)
    guards = share_guards(desk.application)
    assert guards.requested == consent and guards.consent is None
    assert _entries(desk.candidate.id) == ["Asked Kavya Rao by e-mail for consent to be presented to Hudson Widgets"]


def test_the_candidate_agrees_then_changes_their_mind_until_the_link_expires(desk, smtp):
    consent, _, _, token = _ask(desk, smtp)
    link = service.check_consent_link(desk.candidate.agency_id, token, now=ASKED + timedelta(days=1))
    assert link is not None and link.state == "ok" and link.company.name == "Hudson Widgets"
    assert service.what_is_shared(link).jobs == ["Widget Engineer"]

    service.answer_consent(link, "given", now=ASKED + timedelta(days=1))
    service.answer_consent(link, "given", now=ASKED + timedelta(days=2))  # the same answer again: no change
    assert consent.given_at == ASKED + timedelta(days=1)
    assert share_guards(desk.application).consent == consent

    later = ASKED + timedelta(days=29, hours=23)
    service.answer_consent(
        service.check_consent_link(desk.candidate.agency_id, token, now=later), "declined", now=later
    )
    assert (consent.status, consent.given_at) == ("declined", later)
    assert share_guards(desk.application).declined == consent
    assert _entries(desk.candidate.id)[1:] == [
        "Kavya Rao agreed to be presented to Hudson Widgets (through the e-mailed link)",
        "Kavya Rao declined to be presented to Hudson Widgets (through the e-mailed link)",
    ]

    alerts = db.session.scalars(select(Alert).where(Alert.user_id == desk.recruiter.id).order_by(Alert.id)).all()
    assert [(a.message, a.link) for a in alerts] == [
        ("Kavya Rao agreed to be presented to Hudson Widgets.", f"/agency/candidates/{desk.candidate.id}"),
        ("Kavya Rao declined to be presented to Hudson Widgets.", f"/agency/candidates/{desk.candidate.id}"),
    ]
    assert all(a.mail_id for a in alerts)  # the recruiter chose immediate alert e-mails

    expired = ASKED + timedelta(days=30)
    link = service.check_consent_link(desk.candidate.agency_id, token, now=expired)
    assert link is not None and link.state == "expired"
    with pytest.raises(ServiceError, match="expired"):
        service.answer_consent(link, "given", now=expired)
    assert consent.status == "declined"


def test_forged_or_foreign_links_are_not_read(desk, smtp):
    _, _, _, token = _ask(desk, smtp)
    assert service.check_consent_link(desk.candidate.agency_id, token[:-2] + "xx", now=ASKED) is None
    other = make_agency("other-desk")
    assert service.check_consent_link(other.id, token, now=ASKED) is None
    db.session.query(ConsentRecord).delete()
    assert service.check_consent_link(desk.candidate.agency_id, token, now=ASKED) is None


def test_a_candidate_without_an_email_cannot_be_asked(desk):
    desk.candidate.emails = []
    db.session.flush()
    with pytest.raises(ServiceError, match="has no e-mail address"):
        service.ask_consent(desk.candidate, desk.recruiter, company_id=desk.job.company_id, now=ASKED)


def test_history_lists_answers_and_requests_newest_first(desk, smtp):
    recorded = service.record_consent(
        desk.candidate,
        desk.recruiter,
        company_id=None,
        answer="given",
        channel="email",
        given_on=date(2030, 5, 1),
        now=ASKED,
    )
    asked, _, _, _ = _ask(desk, smtp)
    assert service.consent_history(desk.candidate) == [asked, recorded]
    assert [service.channel_label(c) for c in (asked, recorded)] == ["through the e-mailed link", "by e-mail"]

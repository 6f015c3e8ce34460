"""Consent over HTTP: the candidate page and share page forms (422 in place, scoping), and the
candidate's link (a GET changes nothing, a CSRF-protected POST answers, dead links say so)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, ConsentRecord, MailOutbox, utcnow
from portal.services import consent as service
from tests.agency.conftest import Desk
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_candidate, make_company, make_tenant

HX = {"HX-Request": "true"}


@pytest.fixture
def signed_in(app, client, desk: Desk):
    login_as(client, desk.recruiter)
    return client


def _post(client, url, data=None, htmx=True):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, headers=HX if htmx else {})


def _record(desk, **changes):
    return {
        "consent-company_id": str(desk.job.company_id),
        "consent-answer": "given",
        "consent-channel": "phone",
        # Yesterday in UTC is never in the future in London, the recruiter's zone.
        "consent-given_on": (utcnow() - timedelta(days=1)).date().isoformat(),
        **changes,
    }


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_candidate_page_records_consent_in_place_with_the_timeline(signed_in, desk):
    page = signed_in.get(f"/agency/candidates/{desk.candidate.id}").get_data(as_text=True)
    assert 'id="consent"' in page and "Ask the candidate" in page and "No consent recorded or asked for yet." in page
    response = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/consent", _record(desk))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith('<section id="consent"')
    assert "Hudson Widgets</strong>:\n      agreed" in html and "(by phone; recorded by Rhea Recruiter)" in html
    assert 'id="timeline" hx-swap-oob="true"' in html and "Kavya Rao agreed to be presented to Hudson Widgets" in html
    assert _count(ConsentRecord) == 1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"consent-channel": ""}, "Choose how the candidate answered."),
        ({"consent-given_on": ""}, "Give the day the candidate answered."),
        ({"consent-given_on": "2999-01-01"}, "The day cannot be in the future."),
        ({"consent-company_id": "999999"}, "Not a valid choice."),
    ],
)
def test_recording_refuses_in_place_and_saves_nothing(signed_in, desk, changes, message):
    response = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/consent", _record(desk, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'class="field-error"' in html
    assert _count(ConsentRecord) == 0 and _count(Activity) == 0


def test_asking_queues_the_email_and_a_missing_client_is_refused(signed_in, desk):
    refused = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/consent/ask", {"ask-company_id": ""})
    assert refused.status_code == 422 and "Choose one of your clients." in refused.get_data(as_text=True)
    assert _count(MailOutbox) == 0
    response = _post(
        signed_in, f"/agency/candidates/{desk.candidate.id}/consent/ask", {"ask-company_id": str(desk.job.company_id)}
    )
    assert response.status_code == 200 and "asked by e-mail" in response.get_data(as_text=True)
    (mail,) = db.session.scalars(select(MailOutbox)).all()
    assert mail.reply_to == desk.recruiter.email and mail.kind == "candidate.consent_request"


def test_from_the_share_page_the_browser_returns_there_and_sees_the_consent(signed_in, desk):
    share = f"/agency/applications/{desk.application.id}/share"
    page = signed_in.get(share).get_data(as_text=True)
    assert "No consent to present this candidate" in page and 'id="record-consent-form"' in page
    data = _record(desk, **{"consent-application_id": str(desk.application.id)})
    response = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/consent", data)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"{share}#consent-guard"
    assert "Consent given" in signed_in.get(share).get_data(as_text=True)


def test_another_agencys_candidate_is_404(signed_in, desk):
    other = make_candidate(make_agency("elsewhere"))
    db.session.commit()
    for url in (f"/agency/candidates/{other.id}/consent", f"/agency/candidates/{other.id}/consent/ask"):
        assert _post(signed_in, url, _record(desk)).status_code == 404
    assert _count(ConsentRecord) == 0


def test_another_agencys_client_is_not_a_choice(signed_in, desk):
    foreign = make_company(make_agency("elsewhere"), name="Foreign Co")
    db.session.commit()
    response = _post(
        signed_in, f"/agency/candidates/{desk.candidate.id}/consent/ask", {"ask-company_id": str(foreign.id)}
    )
    assert response.status_code == 422 and _count(MailOutbox) == 0


def test_a_post_without_the_csrf_token_saves_nothing(signed_in, desk):
    response = signed_in.post(f"/agency/candidates/{desk.candidate.id}/consent", data=_record(desk))
    assert response.status_code == 400 and _count(ConsentRecord) == 0


@pytest.fixture
def link(desk):
    row = service.ask_consent(desk.candidate, desk.recruiter, company_id=desk.job.company_id)
    db.session.commit()
    return f"/desk/consent/{service.consent_token(row)}", row.id


def _status(consent_id):
    db.session.expire_all()
    return db.session.get(ConsentRecord, consent_id).status


def test_opening_the_link_changes_nothing_and_a_post_answers(client, desk, link):
    url, consent_id = link
    for _ in range(2):  # a mail scanner's prefetch, then the candidate
        page = client.get(url)
        assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "May we present you to Hudson Widgets?" in html and "Widget Engineer" in html
    assert "You have not answered yet." in html and "(Asia/Kolkata)" in html
    assert _status(consent_id) == "requested" and _count(Activity) == 1  # the request only

    refused = client.post(url, data={"answer": "given"})
    assert refused.status_code == 400 and _status(consent_id) == "requested"

    answered = client.post(url, data={"answer": "given", "csrf_token": csrf_token(client)})
    assert answered.status_code == 200 and "you agreed to be presented" in answered.get_data(as_text=True)
    assert _status(consent_id) == "given"
    changed = client.post(url, data={"answer": "declined", "csrf_token": csrf_token(client)})
    assert "we will not present you" in changed.get_data(as_text=True) and _status(consent_id) == "declined"
    bad = client.post(url, data={"answer": "maybe", "csrf_token": csrf_token(client)})
    assert bad.status_code == 422 and _status(consent_id) == "declined"


def test_forged_foreign_and_expired_links_show_a_clear_page(client, desk, link):
    url, consent_id = link
    forged = client.get(url[:-3] + "abc")
    assert forged.status_code == 404 and "This link is not valid" in forged.get_data(as_text=True)
    make_tenant("bravo")
    db.session.commit()
    foreign = client.get(url.replace("/desk/", "/bravo/"))
    assert foreign.status_code == 404 and "This link is not valid" in foreign.get_data(as_text=True)
    assert client.get("/nobody/consent/abc").status_code == 404

    row = db.session.get(ConsentRecord, consent_id)
    row.requested_at = utcnow() - timedelta(days=service.LINK_DAYS, minutes=1)
    db.session.commit()
    expired = client.get(url)
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
    late = client.post(url, data={"answer": "given", "csrf_token": csrf_token(client)})
    assert late.status_code == 410 and _status(consent_id) == "requested"


def test_the_emailed_link_is_the_page(client, desk, smtp):
    from portal.worker import deliver_mail

    service.ask_consent(desk.candidate, desk.recruiter, company_id=desk.job.company_id)
    db.session.commit()
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"http://[^/\s]+(/desk/consent/\S+)", text).group(1)
    assert client.get(path).status_code == 200


def test_without_javascript_the_forms_work_as_pages(signed_in, desk):
    url = f"/agency/candidates/{desk.candidate.id}/consent"
    refused = _post(signed_in, url, _record(desk, **{"consent-channel": ""}), htmx=False)
    html = refused.get_data(as_text=True)
    assert (
        refused.status_code == 422
        and html.startswith("<!doctype html>")
        and "Choose how the candidate answered." in html
    )
    saved = _post(signed_in, url, _record(desk), htmx=False)
    assert saved.status_code == 303 and saved.headers["Location"] == f"/agency/candidates/{desk.candidate.id}#consent"
    assert "Consent answer recorded for Kavya Rao." in signed_in.get(saved.headers["Location"]).get_data(as_text=True)


def test_a_share_page_of_another_candidate_is_not_returned_to(signed_in, desk):
    other = make_candidate(desk.recruiter.agency)
    db.session.commit()
    data = _record(desk, **{"consent-application_id": str(desk.application.id)})
    response = _post(signed_in, f"/agency/candidates/{other.id}/consent", data)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers

"""The candidate survey in Chromium: the recruiter sends the final feedback, the candidate opens
the survey link from the e-mail (read from the real SMTP server), answers "How were you
treated?" with a radio button and a comment, and a second answer is refused kindly."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import SurveyAnswer
from portal.worker import deliver_mail
from tests.e2e.browser import assert_accessible, sign_in, wait_for_htmx, watch_csp
from tests.factories import make_tenant

pytestmark = pytest.mark.e2e
SURVEY_LINK = re.compile(r"https?://\S+/survey/\S+")


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("survey-e2e")
        candidate = tenant.application.candidate
        candidate.first_name, candidate.last_name = "Maya", "Okafor"
        db.session.commit()
        yield tenant


def test_the_candidate_answers_the_survey_from_the_final_email(app, smtp, live_server, tenant, page, browser):
    csp_errors = watch_csp(page)
    sign_in(page, live_server.url, tenant.recruiter.email)
    page.goto(f"{live_server.url}/agency/applications/{tenant.application.id}/feedback")
    page.get_by_role("button", name="Send feedback").click()
    wait_for_htmx(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Okafor")
    expect(page.locator("#informing-" + str(tenant.application.id))).to_contain_text("Candidate informed")

    with app.app_context():
        assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    link = SURVEY_LINK.search(text).group(0)

    candidate = browser.new_context().new_page()
    candidate_csp = watch_csp(candidate)
    candidate.goto(link)
    group = candidate.get_by_role("group", name="How were you treated?")
    expect(group).to_be_visible()
    for value in "12345":
        expect(group.get_by_label(value, exact=True)).to_be_visible()
    assert_accessible(candidate, "survey page")
    group.get_by_label("4", exact=True).check()
    candidate.get_by_label("Anything you would like to add? (optional)").fill("Quick and kind.")
    candidate.get_by_role("button", name="Send my answer").click()
    expect(candidate.locator("#survey-answered")).to_contain_text("Thank you: your answer is recorded.")
    assert_accessible(candidate, "survey answered page")

    candidate.goto(link)
    expect(candidate.locator("#survey-already")).to_contain_text("you have already answered")
    expect(candidate.get_by_role("group", name="How were you treated?")).to_have_count(0)
    with app.app_context():
        answers = [(a.score, a.comment) for a in db.session.scalars(select(SurveyAnswer))]
    assert answers == [(4, "Quick and kind.")]
    assert csp_errors == [] and candidate_csp == []

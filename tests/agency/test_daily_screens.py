"""Issue 14 item 6, the screens a recruiter uses all day: the board (client status and ratings on
the cards, closed applications apart, a stage move only on "Move", bulk actions at the top), job
pickers that name the client, and search results that link to the candidate."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Alert, Rating, StageHistory, Task
from portal.services import application_status
from portal.services.alerts import alert_job_owner, send_digests
from portal.services.board import card_facts, shortlist_board
from portal.services.client_actions import request_hire
from portal.services.search import job_choices
from portal.worker import deliver_mail
from tests.agency.conftest import Desk
from tests.conftest import csrf_token, login_as
from tests.factories import make_application, make_company, make_contact, make_job

HX = {"HX-Request": "true"}
CLOSED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def signed_in(app, client, desk: Desk):
    login_as(client, desk.recruiter)
    return client


def _rate(application, contact, stars):
    db.session.add(
        Rating(agency_id=application.agency_id, application_id=application.id, contact_id=contact.id, stars=stars)
    )


def _close(application, outcome="withdrawn"):
    application.outcome, application.closed_at = outcome, CLOSED_AT


# Services, without HTTP -------------------------------------------------------------------


def test_board_keeps_closed_applications_apart(desk):
    closed = make_application(desk.job)
    _close(closed)
    db.session.commit()
    board = shortlist_board(desk.job)
    in_columns = [a.id for _, applications in board.columns for a in applications]
    assert in_columns == [desk.application.id]
    assert [a.id for a in board.closed] == [closed.id]
    assert [stage.name for stage, _ in board.columns][:3] == [s.name for s in desk.recruiter.agency.stages][:3]
    assert set(board.facts) == {desk.application.id, closed.id}


def test_card_facts_give_the_client_status_and_the_average_rating(desk):
    other = make_contact(desk.contact.company, name="Omar Other")
    unshared = make_application(desk.job, shared=False)
    _rate(desk.application, desk.contact, 5)
    _rate(desk.application, other, 4)
    application_status.move(desk.application, "hire_requested", now=CLOSED_AT)
    db.session.commit()
    facts = card_facts([desk.application, unshared])
    assert facts[desk.application.id].status == "hire_requested"
    assert facts[desk.application.id].status_label == "Client: wants to hire"
    assert (facts[desk.application.id].rating_average, facts[desk.application.id].rating_count) == (4.5, 2)
    # Never shared: the client has seen nothing, so there is no client status to show.
    assert facts[unshared.id].status is None and facts[unshared.id].rating_count == 0


def test_job_choices_name_the_client_beside_the_title(desk):
    globex = make_company(desk.recruiter.agency, name="Globex")
    acme = make_company(desk.recruiter.agency, name="Acme")
    first = make_job(acme, desk.recruiter, title="Data Analyst")
    second = make_job(globex, desk.recruiter, title="Data Analyst")
    db.session.commit()
    labels = dict(job_choices(desk.recruiter))
    assert labels[first.id] == "Data Analyst \u2014 Acme"
    assert labels[second.id] == "Data Analyst \u2014 Globex"
    assert labels[desk.job.id] == "Widget Engineer \u2014 Hudson Widgets"


# Views over HTTP ----------------------------------------------------------------------------


def test_board_cards_show_client_status_ratings_and_a_closed_pile(signed_in, desk):
    _rate(desk.application, desk.contact, 4)
    closed = make_application(desk.job)
    _close(closed)
    db.session.commit()
    page = signed_in.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    card = page[page.index(f'id="application-{desk.application.id}"') :].split("</article>")[0]
    assert "Client: awaiting review" in card and "4.0" in card and "(1 rating)" in card
    pile = page[page.index('id="closed-applications"') :].split("</details>")[0]
    assert f'id="application-{closed.id}"' in pile and "Withdrawn" in pile
    columns = page[page.index('class="board-columns"') : page.index('id="closed-applications"')]
    assert f'id="application-{closed.id}"' not in columns
    # The bulk actions come before the first card, not after every column.
    assert page.index('id="board-bulk"') < page.index(f'id="application-{desk.application.id}"')


def test_stage_select_posts_nothing_by_itself_and_move_does(signed_in, desk):
    page = signed_in.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    card = page[page.index(f'id="application-{desk.application.id}"') :].split("</article>")[0]
    select_tag = card[card.index("<select") : card.index(">", card.index("<select"))]
    assert "hx-post" not in select_tag and "hx-trigger" not in select_tag
    assert f'id="move-{desk.application.id}"' in card and "Move" in card
    target = desk.recruiter.agency.stages[4]
    url = f"/agency/applications/{desk.application.id}/stage"
    moved = signed_in.post(url, data={"csrf_token": csrf_token(signed_in), "stage_id": target.id}, headers=HX)
    html = moved.get_data(as_text=True)
    assert moved.status_code == 200 and html.startswith('<div id="board"') and "Moved Kavya Rao to Interview." in html
    assert db.session.scalar(select(func.count()).select_from(StageHistory)) == 1


def test_move_without_javascript_comes_back_to_the_card(signed_in, desk):
    target = desk.recruiter.agency.stages[3]
    response = signed_in.post(
        f"/agency/applications/{desk.application.id}/stage",
        data={"csrf_token": csrf_token(signed_in), "stage_id": target.id},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/agency/jobs/{desk.job.id}#application-{desk.application.id}"


def test_a_refused_move_without_javascript_comes_back_to_the_page_saying_why(signed_in, desk):
    url = f"/agency/applications/{desk.application.id}/stage"
    response = signed_in.post(url, data={"csrf_token": csrf_token(signed_in), "stage_id": "999999"})
    assert response.status_code == 303
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "Choose one of the agency" in page
    assert db.session.scalar(select(func.count()).select_from(StageHistory)) == 0


def test_unshare_returns_the_card_with_its_facts(signed_in, desk):
    response = signed_in.post(
        f"/agency/applications/{desk.application.id}/unshare", data={"csrf_token": csrf_token(signed_in)}, headers=HX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith("<article") and "Share <span" in html


def test_search_pickers_name_the_client(signed_in, desk):
    acme = make_company(desk.recruiter.agency, name="Acme")
    make_job(acme, desk.recruiter, title="Data Analyst")
    make_job(make_company(desk.recruiter.agency, name="Globex"), desk.recruiter, title="Data Analyst")
    db.session.commit()
    page = signed_in.get("/search").get_data(as_text=True)
    assert "Data Analyst \u2014 Acme" in page and "Data Analyst \u2014 Globex" in page


# Alerts link to the task they are about ----------------------------------------------------

HIRE_ASKED = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def test_an_alert_about_a_task_links_to_it_on_screen_and_in_its_mail(desk, smtp):
    request_hire(desk.contact, desk.application, now=HIRE_ASKED)
    db.session.commit()
    task = db.session.scalar(select(Task).where(Task.application_id == desk.application.id))
    alert = db.session.scalar(select(Alert).where(Alert.kind == "hire_requested"))
    assert task is not None and alert.link == f"/agency/tasks/{task.id}"
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    html = received["message"].get_body(preferencelist=("html",)).get_content()
    assert f"/agency/tasks/{task.id}" in text and task.title in text
    assert f"/agency/tasks/{task.id}" in html and "Open the task" in html


def test_an_alert_without_a_task_links_to_the_job(desk):
    alert = alert_job_owner(desk.application, "client_commented", "Nia commented", "c1", now=HIRE_ASKED)
    assert alert.link == f"/agency/jobs/{desk.job.id}"


def test_the_digest_links_each_alert_to_its_task(desk, smtp):
    desk.recruiter.alert_email = "digest"
    db.session.commit()
    request_hire(desk.contact, desk.application, now=HIRE_ASKED)
    alert_job_owner(desk.application, "client_commented", "Nia commented", "c1", now=HIRE_ASKED)
    db.session.commit()
    task = db.session.scalar(select(Task).where(Task.application_id == desk.application.id))
    assert send_digests() == 1  # alerts are stamped by the clock: all of them are due
    db.session.commit()
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert f"/agency/tasks/{task.id}" in text and f"/agency/jobs/{desk.job.id}" in text


def test_alert_list_links_to_the_task(signed_in, desk):
    request_hire(desk.contact, desk.application, now=HIRE_ASKED)
    db.session.commit()
    task = db.session.scalar(select(Task).where(Task.application_id == desk.application.id))
    page = signed_in.get("/agency/alerts").get_data(as_text=True)
    assert f'href="/agency/tasks/{task.id}"' in page


# The share form is compact ------------------------------------------------------------------


def test_share_form_folds_its_sections_and_opens_the_guards_with_something_to_check(signed_in, desk):
    fresh = make_application(desk.job, shared=False)
    db.session.commit()
    page = signed_in.get(f"/agency/applications/{fresh.id}/share").get_data(as_text=True)
    assert '<details class="fold" id="fold-guards" data-keep-open open>' in page  # no consent recorded
    assert '<details class="fold" id="fold-profile" data-keep-open>' in page
    assert '<details class="fold" id="fold-visibility" data-keep-open>' in page
    assert "1 thing to check" in page and 'name="fields-0-label"' in page and "js/folds.js" in page
    # The preview follows the form's fields and buttons, so it can sit beside them.
    assert page.index("Share with the client") < page.index('id="share-preview"')
    fragment = signed_in.post(
        f"/agency/applications/{fresh.id}/share",
        data={"csrf_token": csrf_token(signed_in), "preview": "1", "fields-0-label": "Summary", "fields-0-value": "Hi"},
        headers=HX,
    ).get_data(as_text=True)
    assert fragment.startswith('<form id="share-form"') and 'id="fold-profile"' in fragment

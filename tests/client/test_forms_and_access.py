"""Issue 13, items 5 and 6 over HTTP: the interview form's rows and default button, focus and
announcement markers after swaps, the Undo countdown's seconds, the job page's filter and stage
links, previous / next candidate, "Check your email", the 429 page, one toast per action, sign-in
back to the page asked for, the favicon, versioned and compressed static files, e-mails that fit a
phone, "Send online" and blind shares."""

import gzip
import json
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import render_template, url_for
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, ClientContact, InterviewRequest, Job, LoginToken, MailOutbox, SharedProfile
from portal.services import ServiceError
from portal.services import auth as auth_service
from portal.services.client_profile import client_profile, scrub_name
from portal.services.sharing import newly_shared, online_message, send_online
from tests.conftest import csrf_token, login_as
from tests.factories import make_application, make_candidate, make_tenant

HX = {"HX-Request": "true"}
# A fixed instant, so the seconds left to undo do not depend on how fast the test runs.
FROZEN = datetime(2031, 5, 14, 9, 30, tzinfo=UTC)
LONG_URL = "https://portal.example/" + "x" * 300


@pytest.fixture
def world(app, client):
    with app.app_context():
        tenant = make_tenant("formsco")
        tenant.application.candidate.first_name, tenant.application.candidate.last_name = "Mara", "Stephenson"
        db.session.commit()
        login_as(client, tenant.contact)
        yield tenant


def portal(t, suffix=""):
    return f"/{t.agency.slug}/portal{suffix}"


def candidate_url(t, application_id=None, suffix=""):
    return portal(t, f"/candidates/{application_id or t.application.id}{suffix}")


def post(client, path, data=None, htmx=True, **headers):
    return client.post(
        path, data=data or {}, headers={"X-CSRFToken": csrf_token(client), **(HX if htmx else {}), **headers}
    )


def slot_rows(html: str) -> list[str]:
    return re.findall(r'name="(slots-\d+-day)"', html)


def interview_data(**rows) -> dict:
    base = {"format": "video", "timezone": "Europe/London", "notes": ""}
    return {**base, **rows}


# Item 5: the interview form


def test_the_first_submit_button_is_request_interview(client, world):
    html = client.get(candidate_url(world, suffix="/interview")).get_data(as_text=True)
    form = html[html.index('<form id="interview-form"') :]
    first_submit = re.search(r"<button type=\"submit\"[^>]*>([^<]+)</button>", form)
    # Enter in any field presses the form's first submit button: never "Add another time".
    assert first_submit.group(1) == "Request interview"
    assert 'tabindex="-1" aria-hidden="true"' in first_submit.group(0)
    assert "Remove time 1" in form and "Add another time" in form


def test_add_another_time_moves_focus_to_the_new_row(client, world):
    response = post(
        client, candidate_url(world, suffix="/interview"), interview_data(**{"slots-0-minutes": "60", "add_slot": "1"})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and slot_rows(html) == ["slots-0-day", "slots-1-day"]
    assert 'data-focus="slots-1-day"' in html


def test_each_row_is_removable_and_the_rest_are_renumbered(client, world):
    data = interview_data(
        **{
            "slots-0-day": "2031-06-02",
            "slots-0-start": "09:00",
            "slots-0-minutes": "60",
            "slots-1-day": "2031-06-03",
            "slots-1-start": "10:00",
            "slots-1-minutes": "45",
            "slots-2-day": "2031-06-04",
            "slots-2-start": "11:00",
            "slots-2-minutes": "30",
            "remove_slot": "1",
        }
    )
    html = post(client, candidate_url(world, suffix="/interview"), data).get_data(as_text=True)
    assert slot_rows(html) == ["slots-0-day", "slots-1-day"]
    assert 'value="2031-06-02"' in html and 'value="2031-06-04"' in html and "2031-06-03" not in html
    assert "Remove time 2" in html and "Remove time 3" not in html
    assert 'data-focus="slots-1-day"' in html
    # Removing the only row leaves one empty row to fill in.
    single = interview_data(
        **{"slots-0-day": "2031-06-02", "slots-0-start": "09:00", "slots-0-minutes": "60", "remove_slot": "0"}
    )
    html = post(client, candidate_url(world, suffix="/interview"), single).get_data(as_text=True)
    assert slot_rows(html) == ["slots-0-day"] and "2031-06-02" not in html


def test_empty_rows_are_ignored_on_submit(app, client, world):
    later = date.today() + timedelta(days=400)
    data = interview_data(
        **{
            "slots-0-day": "",
            "slots-0-start": "",
            "slots-0-minutes": "60",
            "slots-1-day": later.isoformat(),
            "slots-1-start": "10:00",
            "slots-1-minutes": "45",
            "slots-2-day": "",
            "slots-2-start": "",
            "slots-2-minutes": "60",
        }
    )
    response = post(client, candidate_url(world, suffix="/interview"), data)
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(candidate_url(world))
    with app.app_context():
        request_row = db.session.scalar(select(InterviewRequest))
        assert [s.starts_at.date() for s in request_row.proposed_slots] == [later]


def test_all_rows_empty_is_refused_on_the_first_row(client, world):
    data = interview_data(**{"slots-0-minutes": "60", "slots-1-minutes": "60"})
    response = post(client, candidate_url(world, suffix="/interview"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and slot_rows(html) == ["slots-0-day"]
    assert re.search(r'id="slots-0-day"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="slots-0-day"', html)
    assert "Enter a date." in html


def test_a_refused_row_is_named_after_empty_rows_were_dropped(client, world):
    data = interview_data(
        **{
            "slots-0-minutes": "60",
            "slots-1-day": "2020-01-06",
            "slots-1-start": "10:00",
            "slots-1-minutes": "60",
        }
    )
    html = post(client, candidate_url(world, suffix="/interview"), data).get_data(as_text=True)
    # The past time was row 2 as typed and is row 1 now: the error sits on the row shown.
    assert slot_rows(html) == ["slots-0-day"] and 'id="slots-0-start-error"' in html and "in the past" in html


# Item 5: focus, live region and countdown after a reject


@pytest.mark.time_machine(FROZEN, tick=False)
def test_reject_moves_focus_to_undo_and_counts_down_from_ten(client, world):
    response = post(client, candidate_url(world, suffix="/reject"), {"on": "job"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-focus="undo-{world.application.id}"' in html and f'id="undo-{world.application.id}"' in html
    assert 'data-seconds-left="10"' in html and "10 seconds left to undo" in html
    announce = re.search(r'data-announce="([^"]+)"', html).group(1)
    assert announce == "Candidate A-" + str(world.application.id) + " rejected. Undo is available for 10 seconds." or (
        announce == "Mara Stephenson rejected. Undo is available for 10 seconds."
    )
    undone = post(client, candidate_url(world, suffix="/undo-reject"), {"on": "job"}).get_data(as_text=True)
    assert f'data-focus="reject-{world.application.id}"' in undone and "Reject undone" in undone


@pytest.mark.time_machine(FROZEN, tick=False)
def test_the_countdown_shows_the_seconds_the_server_has_left(app, client, world, time_machine):
    post(client, candidate_url(world, suffix="/reject"))
    time_machine.move_to(FROZEN + timedelta(seconds=4), tick=False)
    html = client.get(candidate_url(world)).get_data(as_text=True)
    assert 'data-seconds-left="6"' in html and "6 seconds left to undo" in html
    time_machine.move_to(FROZEN + timedelta(seconds=11), tick=False)
    assert "data-seconds-left" not in client.get(candidate_url(world)).get_data(as_text=True)


def test_base_page_has_a_polite_live_region_and_loads_the_access_script(client, world):
    html = client.get(portal(world, "/")).get_data(as_text=True)
    assert re.search(r'<div id="announcer" class="visually-hidden" role="status" aria-live="polite"', html)
    assert re.search(r'<script src="/static/js/access\.js\?v=[0-9a-f]{16}" defer>', html)
    assert "<script>" not in html  # strict CSP: no inline script


def test_rating_swap_announces_the_new_average_and_keeps_star_ids(client, world):
    html = post(client, candidate_url(world, suffix="/rating"), {"stars": "4"}).get_data(as_text=True)
    assert f'id="rating-{world.application.id}-4"' in html and "data-announce-on-swap" in html


# Item 5: e-mails that fit 375 px


@pytest.mark.parametrize("template", ["agency_notice", "alert", "configured"])
def test_every_html_mail_is_fluid_and_breaks_long_words(app, world, template):
    with app.test_request_context():
        context = {
            "agency": world.agency,
            "subject": "Subject",
            "greeting": "Ann",
            "paragraphs": ["See " + LONG_URL],
            "items": ["Candidate A-1"],
            "url": LONG_URL,
            "label": "Open",
            "user": world.recruiter,
            "alert": type("A", (), {"message": "New " + LONG_URL})(),
            "body": "Hello\n\n" + LONG_URL,
            "button_label": "Open",
        }
        html = render_template(f"email/{template}.html", **context)
    assert "max-width:560px" in html and "table-layout:fixed" in html and 'width="100%"' in html
    body_cell = re.search(r'<td class="message-body" style="([^"]+)"', html).group(1)
    assert "overflow-wrap:anywhere" in body_cell and "word-break:break-word" in body_cell
    assert re.search(r'class="paste-url" style="[^"]*word-break:break-all', html)
    assert not re.search(r'width="[0-9]{3,}"|(?<!max-)width:\s*[4-9][0-9]{2}px', html), (
        "no fixed width wider than a phone"
    )


# Item 5: "Send online"


def _shared(job, status="awaiting_review", **kw):
    application = make_application(job, **kw)
    application.client_status = status
    return application


def test_send_online_lists_only_candidates_awaiting_review_with_the_note(app, ctx, smtp):
    tenant = make_tenant("onlineco")
    rejected = _shared(tenant.job, "rejected_by_client")
    hired = _shared(tenant.job, "hired")
    asked = _shared(tenant.job, "interview_requested")
    fresh = _shared(tenant.job)
    db.session.commit()
    assert {a.id for a in newly_shared(tenant.job)} == {tenant.application.id, fresh.id}
    preview = online_message(tenant.job, tenant.recruiter, "  Two strong people this week.  ")
    assert preview.paragraphs[0] == "Two strong people this week."
    assert sorted(preview.items) == sorted([tenant.application.candidate.name, fresh.candidate.name])
    for other in (rejected, hired, asked):
        assert other.candidate.name not in preview.items
    assert send_online(tenant.job, [tenant.contact.id], tenant.recruiter, note="Two strong people this week.") == 1
    mail = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "job.sent_online"))
    assert "Two strong people this week." in mail.text_body and "Two strong people this week." in mail.html_body
    for other in (rejected, hired, asked):
        assert other.candidate.name not in mail.text_body
    entry = db.session.scalar(select(Activity).where(Activity.verb == "job.sent_online"))
    assert entry is not None
    with pytest.raises(ServiceError, match="awaiting the client's review"):
        send_online(tenant.job, [tenant.contact.id], tenant.recruiter)


def test_send_online_refuses_a_long_note(ctx):
    tenant = make_tenant("longnote")
    with pytest.raises(ServiceError) as refused:
        send_online(tenant.job, [tenant.contact.id], tenant.recruiter, note="x" * 2001)
    assert refused.value.field == "note"


def test_send_online_form_previews_the_mail_and_sends_the_note(app, client):
    with app.app_context():
        tenant = make_tenant("previewco")
        gone = _shared(tenant.job, "rejected_by_client")
        gone_name, name, contact_id, job_id = (
            gone.candidate.name,
            tenant.application.candidate.name,
            tenant.contact.id,
            tenant.job.id,
        )
        db.session.commit()
        login_as(client, tenant.recruiter)
    page = client.get(f"/agency/jobs/{job_id}").get_data(as_text=True)
    assert "Preview of the e-mail" in page and "Personal note (optional)" in page
    form = page[page.index('id="send-online"') :]
    assert name in form and gone_name not in form[: form.index("</form>")]
    preview = post(client, f"/agency/jobs/{job_id}/send-online", {"note": "Meet them soon", "preview": "1"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Meet them soon" in html and "Sent to" not in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 0
    sent = post(
        client, f"/agency/jobs/{job_id}/send-online", {"note": "Meet them soon", "contact_ids": str(contact_id)}
    )
    assert sent.status_code == 200 and "Sent to 1 contact(s)." in sent.get_data(as_text=True)
    assert 'data-focus="send-online-result"' in sent.get_data(as_text=True)
    with app.app_context():
        assert "Meet them soon" in db.session.scalar(select(MailOutbox.text_body))


# Item 5: blind shares


def test_blind_share_takes_the_name_out_of_free_text(ctx):
    tenant = make_tenant("blindco")
    candidate = tenant.application.candidate
    candidate.first_name, candidate.last_name = "Mara", "Stephenson"
    profile = tenant.application.shared_profile
    profile.blind = True
    profile.fields = [
        {"label": "Summary", "value": "Mara Stephenson led sales. Mara's team grew; stephenson won awards."},
        {"label": "Skills", "value": "Marathon running, SaaS"},
        {"label": "Full name", "value": "Mara Stephenson"},
    ]
    db.session.commit()
    view = client_profile(tenant.application, anonymous=True)
    shown = {line.label: line for line in view.shown_lines}
    assert shown["Summary"].value == "The candidate led sales. The candidate's team grew; the candidate won awards."
    assert shown["Summary"].name_removed and not shown["Skills"].name_removed
    assert shown["Skills"].value == "Marathon running, SaaS"
    assert "Full name" not in shown
    named = client_profile(tenant.application, anonymous=False)
    assert {line.label: line.value for line in named.shown_lines}["Summary"].startswith("Mara Stephenson led")


def test_scrub_name_keeps_words_that_merely_contain_the_name(ctx):
    candidate = make_candidate(make_tenant("wordsco").agency, first_name="Ann", last_name="Lee")
    assert (
        scrub_name("Annual plan by Ann, reviewed by LEE.", candidate)
        == "Annual plan by the candidate, reviewed by the candidate."
    )


def test_blind_candidate_page_and_share_form_say_so(app, client, world):
    with app.app_context():
        profile = db.session.get(SharedProfile, world.application.shared_profile.id)
        profile.blind = True
        profile.fields = [{"label": "Summary", "value": "Mara built the EMEA team."}]
        db.session.commit()
    page = client.get(candidate_url(world)).get_data(as_text=True)
    assert "The candidate built the EMEA team." in page and "Mara" not in page
    login_as(client, world.recruiter)
    form = client.get(f"/agency/applications/{world.application.id}/share").get_data(as_text=True)
    assert 'id="blind-hint"' in form and "taken out of every other line" in form
    assert "Name taken out (blind share)" in form


# Item 6: the job page


def test_job_page_filters_to_awaiting_review_and_links_each_stage(app, client, world):
    with app.app_context():
        job = db.session.get(Job, world.job.id)
        asked = _shared(job, "interview_requested")
        rejected = _shared(job, "rejected_by_client")
        asked_name, rejected_name = asked.candidate.name, rejected.candidate.name
        stage = world.agency.stages[2]
        db.session.commit()
        stage_id, stage_name = stage.id, stage.name
    page = client.get(portal(world, f"/jobs/{world.job.id}")).get_data(as_text=True)
    assert f'<a href="#stage-{stage_id}">{stage_name} (2)</a>' in page
    assert '<a href="#rejected">Rejected (1)</a>' in page and '<details class="stage rejected" id="rejected">' in page
    assert "Awaiting your review (1)" in page and asked_name in page and rejected_name in page
    filtered = client.get(portal(world, f"/jobs/{world.job.id}?show=awaiting")).get_data(as_text=True)
    assert world.application.candidate.name in filtered
    assert asked_name not in filtered and rejected_name not in filtered
    assert re.search(r'href="[^"]*\?show=awaiting" aria-current="page"', filtered)
    # An unknown filter shows everyone.
    assert asked_name in client.get(portal(world, f"/jobs/{world.job.id}?show=nonsense")).get_data(as_text=True)


def test_more_cards_keep_the_filter(app, client, world):
    from portal.blueprints.client.jobs import CARDS_PER_GROUP

    with app.app_context():
        job = db.session.get(Job, world.job.id)
        for _ in range(CARDS_PER_GROUP + 1):
            _shared(job)
        _shared(job, "interview_requested")
        db.session.commit()
    page = client.get(portal(world, f"/jobs/{world.job.id}?show=awaiting")).get_data(as_text=True)
    more = re.search(r'hx-get="([^"]*/cards[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "show=awaiting" in more
    cards = client.get(more, headers=HX).get_data(as_text=True)
    assert cards.count('class="card candidate-card"') == 2  # the 27 awaiting minus the first 25


def test_previous_and_next_candidate_follow_the_job_page_order(app, client, world):
    with app.app_context():
        job = db.session.get(Job, world.job.id)
        later_stage = world.agency.stages[3].id
        second = _shared(job)
        rejected = _shared(job, "rejected_by_client")
        last_stage = _shared(job, stage_id=later_stage)
        db.session.commit()
        order = [world.application.id, second.id, last_stage.id, rejected.id]
    for index, application_id in enumerate(order):
        html = client.get(candidate_url(world, application_id)).get_data(as_text=True)
        previous = re.search(r'rel="prev" href="[^"]*/candidates/(\d+)"', html)
        following = re.search(r'rel="next" href="[^"]*/candidates/(\d+)"', html)
        assert (int(previous.group(1)) if previous else None) == (order[index - 1] if index else None)
        assert (int(following.group(1)) if following else None) == (
            order[index + 1] if index + 1 < len(order) else None
        )


# Item 6: sign-in


def test_check_your_email_replaces_the_sign_in_card(client, world):
    response = client.post(
        f"/{world.agency.slug}/login",
        data={"csrf_token": csrf_token(client), "email": "someone@client.example"},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#sign-in" and response.headers["HX-Reswap"] == "outerHTML"
    assert html.count("<h1") == 1 and 'id="check-email"' in html and "<form" not in html
    assert "within 30 minutes" in html and "use it again while it is valid" in html
    page = client.get(f"/{world.agency.slug}/login").get_data(as_text=True)
    assert '<section class="card narrow sign-in" id="sign-in">' in page
    plain = client.post(
        f"/{world.agency.slug}/login", data={"csrf_token": csrf_token(client), "email": "someone@client.example"}
    ).get_data(as_text=True)
    assert plain.count("<h1") == 1 and "Check your email" in plain


def test_a_fresh_landing_link_is_described_as_reusable(app, client, world):
    with app.app_context():
        contact = db.session.get(ClientContact, world.contact.id)
        url = auth_service.issue_link(contact, "landing", db.session.get(Job, world.job.id))
        token_row = db.session.scalar(select(LoginToken))
        token_row.expires_at = token_row.created_at - timedelta(minutes=1)
        db.session.commit()
    path = urlsplit(url).path
    html = client.post(f"{path}/resend", data={"csrf_token": csrf_token(client)}).get_data(as_text=True)
    assert html.count("<h1") == 1 and "fresh link" in html and "keeps working for 14 days" in html
    assert world.job.title in html


def test_sign_in_after_an_expired_session_returns_to_the_page_asked_for(app, client, world):
    with client.session_transaction() as session:
        session.clear()
    asked = candidate_url(world)
    bounced = client.get(asked)
    assert bounced.status_code == 302 and bounced.headers["Location"] == f"/{world.agency.slug}/login?next={asked}"
    client.get(bounced.headers["Location"])
    with app.app_context():
        contact = db.session.get(ClientContact, world.contact.id)
        link = urlsplit(auth_service.issue_link(contact, "sign_in")).path
        db.session.commit()
    landed = client.post(link, data={"csrf_token": csrf_token(client)})
    assert landed.status_code == 303 and landed.headers["Location"] == asked
    # Used once: the next sign-in lands on the home page as usual.
    with app.app_context():
        contact = db.session.get(ClientContact, world.contact.id)
        again = urlsplit(auth_service.issue_link(contact, "sign_in")).path
        db.session.commit()
    assert client.post(again, data={"csrf_token": csrf_token(client)}).headers["Location"] == portal(world, "/")


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/otheragency/portal/jobs/1", "/agency/"],
)
def test_a_next_outside_this_agencys_portal_is_ignored(app, client, world, target):
    with client.session_transaction() as session:
        session.clear()
    client.get(f"/{world.agency.slug}/login", query_string={"next": target})
    with app.app_context():
        contact = db.session.get(ClientContact, world.contact.id)
        link = urlsplit(auth_service.issue_link(contact, "sign_in")).path
        db.session.commit()
    assert client.post(link, data={"csrf_token": csrf_token(client)}).headers["Location"] == portal(world, "/")


def test_an_htmx_action_after_expiry_names_the_page_it_came_from(client, world):
    with client.session_transaction() as session:
        session.clear()
    page = f"http://localhost{portal(world, f'/jobs/{world.job.id}')}"
    response = post(client, candidate_url(world, suffix="/reject"), **{"HX-Current-URL": page})
    assert (
        response.headers["HX-Redirect"] == f"/{world.agency.slug}/login?next={portal(world, f'/jobs/{world.job.id}')}"
    )
    foreign = post(client, candidate_url(world, suffix="/reject"), **{"HX-Current-URL": "https://evil.example/x"})
    assert foreign.headers["HX-Redirect"] == f"/{world.agency.slug}/login"


# Item 6: 429, toasts


def test_the_429_page_says_when_to_try_again(app):
    from werkzeug.exceptions import TooManyRequests

    from portal.errors import _too_many, try_again_words

    assert try_again_words(None) is None
    assert try_again_words(1) == "Try again in 1 second."
    assert try_again_words(45) == "Try again in 45 seconds."
    assert try_again_words(90) == "Try again in 2 minutes."
    with app.test_request_context("/acme/login"):
        exc = TooManyRequests()
        exc.retry_after = 90  # as the rate limiter's error carries it
        html = _too_many(exc).get_data(as_text=True)
        assert "Try again in 2 minutes." in html and 'data-retry-after="90"' in html
        generic = _too_many(TooManyRequests()).get_data(as_text=True)
        assert "Please wait a few minutes and try again." in generic and "Try again in" not in generic
    with app.test_request_context("/acme/login", headers=HX):
        exc = TooManyRequests()
        exc.retry_after = 30
        response = _too_many(exc)
        assert (
            json.loads(response.headers["HX-Trigger"])["toast"]["message"]
            == "Too many attempts. Try again in 30 seconds."
        )


def test_a_redirect_carries_its_message_once_as_a_flash_not_a_toast(app, client, world):
    from portal.htmx import hx_redirect, toast

    with app.test_request_context("/"):
        response = toast(hx_redirect("/somewhere"), "Done.")
        assert "HX-Trigger" not in response.headers
        from flask import get_flashed_messages

        assert get_flashed_messages() == ["Done."]
    login_as(client, world.recruiter)
    shared = post(
        client,
        f"/agency/applications/{world.application.id}/share",
        {"blind": "", "consent_override_reason": "Spoke on the phone"},
    )
    assert shared.status_code == 204 and "HX-Trigger" not in shared.headers
    page = client.get(urlsplit(shared.headers["HX-Redirect"]).path).get_data(as_text=True)
    assert page.count(f"{world.application.candidate.name} is shared.") == 1


def test_an_unshared_candidate_answers_in_place_without_a_toast(app, client, world):
    with app.app_context():
        db.session.get(SharedProfile, world.application.shared_profile.id).unshared_at = FROZEN
        db.session.commit()
    response = post(client, candidate_url(world, suffix="/reject"))
    assert response.status_code == 409 and "HX-Trigger" not in response.headers
    assert 'role="alert"' in response.get_data(as_text=True)


# Item 6: favicon and static files


def test_favicon_is_linked_and_served(client, world):
    html = client.get(portal(world, "/")).get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html).group(1)
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml" and b"<svg" in response.data


def test_static_urls_are_versioned_and_cached_for_a_year(app, client):
    with app.test_request_context():
        href = url_for("static", filename="css/portal.css")
    path, query = href.split("?")
    assert re.fullmatch(r"v=[0-9a-f]{16}", query)
    versioned = client.get(href)
    assert versioned.status_code == 200 and versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.mimetype == "text/css"
    for unversioned in (client.get(path), client.get(f"{path}?v=0000000000000000")):
        assert unversioned.headers["Cache-Control"] == "public, no-cache"
    etag = versioned.headers["ETag"]
    assert client.get(href, headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/static/nope.css").status_code == 404
    assert client.get("/static/../portal/__init__.py").status_code == 404


def test_static_text_is_gzipped_for_browsers_that_accept_it(app, client):
    with app.test_request_context():
        href = url_for("static", filename="vendor/htmx-2.0.11.min.js")
    plain = client.get(href)
    zipped = client.get(href, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data) / 2
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    refused = client.get(href, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_signed_in_pages_keep_no_store_but_static_files_cache(client, world):
    assert client.get(portal(world, "/")).headers["Cache-Control"] == "no-store"
    html = client.get(portal(world, "/")).get_data(as_text=True)
    script = re.search(r'<script src="(/static/js/portal\.js\?v=[0-9a-f]+)"', html).group(1)
    assert "immutable" in client.get(script).headers["Cache-Control"]

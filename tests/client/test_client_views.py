"""Client pages over HTTP: pages and htmx fragments, in-place errors, resumes, hidden fields."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, InterviewRequest, Resume, SharedProfile, VideoResume, utcnow
from tests.conftest import csrf_token, login_as
from tests.factories import make_application, make_tenant

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HX = {"HX-Request": "true"}


@pytest.fixture
def world(app, client):
    with app.app_context():
        tenant = make_tenant("viewco")
        resume = Resume(
            agency_id=tenant.agency.id, candidate_id=tenant.application.candidate_id, filename="cv.pdf", content=PDF
        )
        video = VideoResume(
            agency_id=tenant.agency.id,
            candidate_id=tenant.application.candidate_id,
            title="Intro",
            url="https://video.example/intro",
        )
        db.session.add_all([resume, video])
        db.session.flush()
        profile = tenant.application.shared_profile
        profile.resume_id, profile.video_resume_id = resume.id, video.id
        profile.fields = [
            {"label": "Summary", "value": "Builds data pipelines."},
            {"label": "Salary expectation", "value": "£99k secret", "hidden": True},
        ]
        tenant.application.candidate.phone = "+44 7700 900123"
        db.session.commit()
        login_as(client, tenant.contact)
        yield tenant


def url(t, suffix=""):
    return f"/{t.agency.slug}/portal/candidates/{t.application.id}{suffix}"


def post(client, path, data=None, htmx=True):
    headers = {"X-CSRFToken": csrf_token(client), **(HX if htmx else {})}
    return client.post(path, data=data or {}, headers=headers)


def test_home_and_job_pages_show_progress_and_cards(client, world):
    home = client.get(f"/{world.agency.slug}/portal/").get_data(as_text=True)
    assert world.job.title in home and "Awaiting your review" in home and "New since your last visit" in home
    page = client.get(f"/{world.agency.slug}/portal/jobs/{world.job.id}").get_data(as_text=True)
    assert world.application.candidate.name in page
    assert world.unshared_application.candidate.name not in page
    assert world.recruiter.email in page and "Open 0 days" in page
    for name in ("1 star", "2 stars", "5 stars"):
        assert f'<span class="visually-hidden">{name}</span>' in page


def test_candidate_profile_hides_hidden_fields_and_links_the_resume(client, world):
    page = client.get(url(world)).get_data(as_text=True)
    assert "Builds data pipelines." in page
    assert "£99k secret" not in page and "+44 7700 900123" not in page
    assert world.application.candidate.primary_email not in page
    assert "View resume (PDF)" in page and "https://video.example/intro" in page


def test_email_and_phone_appear_once_hired(app, client, world):
    with app.app_context():
        db.session.get(Application, world.application.id).client_status = "hired"
        db.session.commit()
    page = client.get(url(world)).get_data(as_text=True)
    assert "+44 7700 900123" in page and "£99k secret" not in page


def test_resume_is_served_inline_or_as_download_only_to_the_job_contacts(app, client, world):
    inline = client.get(url(world, "/resume"))
    assert inline.status_code == 200 and inline.data == PDF
    assert inline.headers["Content-Type"] == "application/pdf"
    assert inline.headers["Content-Disposition"].startswith("inline;")
    assert client.get(url(world, "/resume?download=1")).headers["Content-Disposition"].startswith("attachment;")
    login_as(client, world.other_contact)
    assert client.get(url(world, "/resume")).status_code == 404


def test_rating_fragment_and_out_of_band_counters(client, world):
    response = post(client, url(world, "/rating"), {"stars": "4", "on": "job"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and 'id="rating-' in html and "checked" in html
    assert 'hx-swap-oob="true"' in html and "Average 4.0 from 1 rating" in html
    cleared = post(client, url(world, "/rating"), {"clear": "1"}).get_data(as_text=True)
    assert "No ratings yet" in cleared and "hx-swap-oob" not in cleared


def test_rating_fragment_names_the_candidate_as_the_page_does(app, client, world):
    with app.app_context():
        db.session.get(Application, world.application.id).shared_profile.blind = True
        db.session.commit()
    legend = f'<span class="visually-hidden"> of Candidate A-{world.application.id}</span>'
    assert legend in client.get(url(world)).get_data(as_text=True)
    fragment = post(client, url(world, "/rating"), {"stars": "3"}).get_data(as_text=True)
    assert legend in fragment and world.application.candidate.name not in fragment


def test_rating_without_htmx_redirects_back_to_the_page(client, world):
    response = post(client, url(world, "/rating"), {"stars": "2"}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(url(world))


def test_interview_form_errors_render_next_to_the_field(client, world):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    data = {
        "format": "video",
        "timezone": "Europe/London",
        "slots-0-day": yesterday,
        "slots-0-start": "10:00",
        "slots-0-minutes": "60",
    }
    response = post(client, url(world, "/interview"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html
    assert re.search(r'id="slots-0-start"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="slots-0-start"', html)
    assert 'id="slots-0-start-error">This time is in the past' in html


def test_add_another_time_adds_a_row_without_validating(client, world):
    response = post(
        client,
        url(world, "/interview"),
        {"add_slot": "1", "timezone": "Asia/Kolkata", "slots-0-day": "", "slots-0-minutes": "60"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="slots-1-day"' in html and "field-error" not in html
    assert '<option selected value="Asia/Kolkata">' in html or 'value="Asia/Kolkata" selected' in html


def test_interview_request_redirects_with_a_message(app, client, world):
    day = (date.today() + timedelta(days=3)).isoformat()
    response = post(
        client,
        url(world, "/interview"),
        {
            "format": "onsite",
            "timezone": "Asia/Kolkata",
            "slots-0-day": day,
            "slots-0-start": "10:00",
            "slots-0-minutes": "45",
            "notes": "",
        },
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(url(world))
    assert "Interview requested" in client.get(url(world)).get_data(as_text=True)
    with app.app_context():
        request_row = db.session.scalar(select(InterviewRequest))
        assert (request_row.format, request_row.timezone) == ("onsite", "Asia/Kolkata")


def test_hire_confirm_page_then_request(client, world):
    assert "Confirm hire" in client.get(url(world, "/hire")).get_data(as_text=True)
    past = post(client, url(world, "/hire"), {"start_date": "2020-01-01"})
    assert past.status_code == 422 and "can&#39;t be in the past" in past.get_data(as_text=True)
    done = post(client, url(world, "/hire"), {"start_date": "", "note": "Great"})
    assert done.status_code == 204
    assert "Hire requested" in client.get(url(world)).get_data(as_text=True)


def test_reject_then_undo_then_reason(client, world):
    rejected = post(client, url(world, "/reject"), {"on": "job"}).get_data(as_text=True)
    assert "Rejected by client" in rejected and ">Undo</button>" in rejected and "data-expires-at" in rejected
    assert "Send reason" in rejected and 'hx-swap-oob="true"' in rejected
    undone = post(client, url(world, "/undo-reject")).get_data(as_text=True)
    assert "Awaiting your review" in undone and ">Reject</button>" in undone
    post(client, url(world, "/reject"))
    missing = post(client, url(world, "/reject-reason"), {})
    assert missing.status_code == 422 and "Choose a reason or write a comment." in missing.get_data(as_text=True)
    prefix = f"app{world.application.id}-"
    saved = post(client, url(world, "/reject-reason"), {prefix + "comment": "Not enough SQL"})
    assert saved.status_code == 200 and "your reason was sent" in saved.get_data(as_text=True)


def test_acting_on_a_candidate_unshared_meanwhile_says_so_in_place(app, client, world):
    with app.app_context():
        db.session.scalar(
            select(SharedProfile).where(SharedProfile.application_id == world.application.id)
        ).unshared_at = utcnow()
        db.session.commit()
    response = post(client, url(world, "/reject"))
    assert response.status_code == 409 and "no longer shared with you" in response.get_data(as_text=True)
    assert client.get(url(world)).status_code == 404


def test_a_never_shared_application_is_a_404_for_every_action(client, world):
    for suffix in ("/reject", "/rating", "/undo-reject", "/reject-reason", "/comments", "/hire", "/interview"):
        path = f"/{world.agency.slug}/portal/candidates/{world.unshared_application.id}{suffix}"
        assert post(client, path).status_code == 404, suffix


def test_comment_thread_fragment(client, world):
    empty = post(client, url(world, "/comments"), {"body": ""})
    assert empty.status_code == 422 and "Write a comment first." in empty.get_data(as_text=True)
    posted = post(client, url(world, "/comments"), {"body": "Let's meet her"}).get_data(as_text=True)
    assert "Let&#39;s meet her" in posted and world.contact.name in posted and "<html" not in posted


def test_comment_without_htmx_answers_with_the_whole_candidate_page(client, world):
    response = post(client, url(world, "/comments"), {"body": "Posted without script"}, htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "Posted without script" in html
    assert f'id="decision-{world.application.id}"' in html and f'id="rating-{world.application.id}"' in html
    fragment = post(client, url(world, "/comments"), {"body": "With htmx"}).get_data(as_text=True)
    assert f'id="comments-{world.application.id}"' in fragment and "decision-" not in fragment


def test_blind_share_hides_identity_until_an_interview_is_requested(app, client, world):
    name = world.application.candidate.name
    pseudonym = f"Candidate A-{world.application.id}"
    with app.app_context():
        profile = db.session.get(Application, world.application.id).shared_profile
        profile.blind = True
        profile.fields = [
            {"label": "Name", "value": name},
            {"label": "Current company", "value": "Globex"},
            {"label": "Summary", "value": "Builds data pipelines."},
        ]
        db.session.commit()
    job_page = f"/{world.agency.slug}/portal/jobs/{world.job.id}"
    for path in (url(world), url(world, "/interview"), url(world, "/hire"), job_page):
        page = client.get(path).get_data(as_text=True)
        assert name not in page and "Globex" not in page, path
    assert pseudonym in client.get(url(world)).get_data(as_text=True)
    assert "Builds data pipelines." in client.get(url(world)).get_data(as_text=True)
    assert client.get(url(world, "/resume")).status_code == 404
    # Commenting, then rejecting and undoing, reveal nothing: the timeline names the pseudonym.
    post(client, url(world, "/comments"), {"body": "Interesting"})
    post(client, url(world, "/reject"))
    post(client, url(world, "/undo-reject"))
    page = client.get(job_page).get_data(as_text=True)
    assert name not in page and f"commented on {pseudonym}" in page
    # Asking for an interview reveals the person.
    day = (date.today() + timedelta(days=3)).isoformat()
    post(
        client,
        url(world, "/interview"),
        {"format": "video", "timezone": "UTC", "slots-0-day": day, "slots-0-start": "10:00", "slots-0-minutes": "30"},
    )
    revealed = client.get(url(world)).get_data(as_text=True)
    assert name in revealed and "Globex" in revealed and client.get(url(world, "/resume")).status_code == 200


def test_new_since_last_visit_counts_from_the_start_of_this_visit(app, client, world):
    with app.app_context():
        contact = db.session.get(type(world.contact), world.contact.id)
        contact.last_visit_at = utcnow() - timedelta(hours=2)
        db.session.get(Application, world.application.id).shared_profile.shared_at = utcnow() - timedelta(days=1)
        make_application(db.session.get(type(world.job), world.job.id))
        db.session.commit()
    html = client.get(f"/{world.agency.slug}/portal/").get_data(as_text=True)
    assert re.search(r"New since your last visit</dt><dd>1</dd>", html), html


def test_candidate_urls_match_the_routes(app):
    from flask import url_for

    from portal.blueprints.client.partials import CandidateUrls

    with app.test_request_context():
        urls = CandidateUrls("acme")
        for endpoint in CandidateUrls.SUFFIXES:
            assert urls.of(endpoint, 42) == url_for(f"client.{endpoint}", slug="acme", application_id=42)


def test_email_and_phone_are_hidden_by_default(app, client):
    with app.app_context():
        tenant = make_tenant("defaultco")
        tenant.application.candidate.phone = "+44 7700 900999"
        db.session.commit()
        login_as(client, tenant.contact)
        page = client.get(f"/defaultco/portal/candidates/{tenant.application.id}").get_data(as_text=True)
        assert tenant.application.candidate.primary_email not in page and "+44 7700 900999" not in page


def test_company_co_branding_logo_is_shown_to_that_company_only(app, client, world):
    from portal.models import ClientCompany
    from portal.services.branding import process_logo
    from tests.admin.conftest import image_bytes

    with app.app_context():
        db.session.get(ClientCompany, world.company.id).logo_png = process_logo(image_bytes("PNG"), "acme.png")
        db.session.commit()
    page = client.get(f"/{world.agency.slug}/portal/").get_data(as_text=True)
    assert f'class="co-brand-logo" src="/{world.agency.slug}/portal/company-logo"' in page
    logo = client.get(f"/{world.agency.slug}/portal/company-logo")
    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/png" and logo.data.startswith(b"\x89PNG")
    assert (
        client.get(
            f"/{world.agency.slug}/portal/company-logo", headers={"If-None-Match": logo.headers["ETag"]}
        ).status_code
        == 304
    )
    login_as(client, world.other_contact)
    assert "co-brand-logo" not in client.get(f"/{world.agency.slug}/portal/").get_data(as_text=True)
    assert client.get(f"/{world.agency.slug}/portal/company-logo").status_code == 404


def test_long_shortlists_load_in_batches_as_the_contact_scrolls(app, client, world):
    from portal.blueprints.client.jobs import CARDS_PER_GROUP

    with app.app_context():
        job = db.session.get(type(world.job), world.job.id)
        extra = [make_application(job) for _ in range(CARDS_PER_GROUP + 5)]
        names = [a.candidate.name for a in extra]
        stage_id = extra[0].stage_id
        db.session.commit()
    page = client.get(f"/{world.agency.slug}/portal/jobs/{world.job.id}").get_data(as_text=True)
    total = CARDS_PER_GROUP + 6  # the world's shared application is in the same stage
    assert f"({total})</span>" in page and page.count('class="card candidate-card"') == CARDS_PER_GROUP
    assert "Show more (6 left)" in page and names[-1] not in page
    more = client.get(
        f"/{world.agency.slug}/portal/jobs/{world.job.id}/cards?group={stage_id}&offset={CARDS_PER_GROUP}", headers=HX
    )
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and "<html" not in html and "Show more" not in html
    assert html.count('class="card candidate-card"') == 6 and names[-1] in html
    # Without htmx the batch URL leads back to the page.
    plain = client.get(f"/{world.agency.slug}/portal/jobs/{world.job.id}/cards?group={stage_id}&offset=25")
    assert plain.status_code == 303

"""Agency pages and fragments over HTTP: each htmx view as a page and as a fragment, refusals
in place (422) with nothing saved, and the routes added for tasks, scheduling and alerts."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, Alert, Job, SharedProfile, StageHistory, Task
from portal.services.alerts import alert_job_owner
from tests.agency.conftest import Desk
from tests.conftest import csrf_token, login_as
from tests.factories import make_application, make_interview_request, make_user

UTC = UTC
HX = {"HX-Request": "true"}


@pytest.fixture
def signed_in(app, client, desk: Desk):
    login_as(client, desk.recruiter)
    return client


def _post(client, url, data=None, htmx=True):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, headers=HX if htmx else {})


def test_job_page_shows_board_send_online_and_timeline(signed_in, desk):
    page = signed_in.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    assert 'id="board"' in page and 'form="board-bulk"' in page and "Kavya Rao" in page
    assert "Send online" in page and 'id="timeline"' in page
    assert "Email job link" in page and "Show job link" in page


def test_stage_move_returns_the_card_and_records_history(signed_in, desk):
    target = desk.recruiter.agency.stages[4]
    response = _post(signed_in, f"/agency/applications/{desk.application.id}/stage", {"stage_id": target.id})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith('<div id="board"')
    assert "Moved Kavya Rao to Interview." in html
    interview_column = html[html.index(f'id="stage-{target.id}"') :]
    assert f'<option value="{target.id}" selected>' in interview_column.split("</section>")[0]
    assert db.session.scalar(select(func.count()).select_from(StageHistory)) == 1
    refused = _post(signed_in, f"/agency/applications/{desk.application.id}/stage", {"stage_id": target.id})
    assert refused.status_code == 422 and "already in Interview" in refused.get_data(as_text=True)


def test_share_page_shows_guards_and_refusal_in_place(signed_in, desk):
    fresh = make_application(desk.job, shared=False)
    db.session.commit()
    page = signed_in.get(f"/agency/applications/{fresh.id}/share").get_data(as_text=True)
    assert "No consent to present this candidate" in page and 'name="fields-0-label"' in page
    refused = _post(
        signed_in, f"/agency/applications/{fresh.id}/share", {"fields-0-label": "Summary", "fields-0-value": "Great"}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<html" not in html and "give a reason to share anyway" in html
    assert db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == fresh.id)) is None
    shared = _post(
        signed_in,
        f"/agency/applications/{fresh.id}/share",
        {
            "fields-0-label": "Summary",
            "fields-0-value": "Great",
            "fields-1-label": "Phone",
            "fields-1-value": "123",
            "fields-1-hidden": "y",
            "consent_override_reason": "Consent by phone",
        },
    )
    assert shared.status_code == 204 and shared.headers["HX-Redirect"] == f"/agency/jobs/{desk.job.id}"
    profile = db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == fresh.id))
    assert profile.fields == [
        {"label": "Summary", "value": "Great", "hidden": False, "contact": False},
        {"label": "Phone", "value": "123", "hidden": True, "contact": False},
    ]
    assert profile.show_contact_details is False


def test_bulk_unshare_and_nothing_selected(signed_in, desk):
    refused = _post(signed_in, f"/agency/jobs/{desk.job.id}/bulk", {"action": "share"})
    assert refused.status_code == 422 and "Select at least one candidate." in refused.get_data(as_text=True)
    done = _post(
        signed_in, f"/agency/jobs/{desk.job.id}/bulk", {"action": "unshare", "application_ids": [desk.application.id]}
    )
    assert done.status_code == 200 and "Unshared 1 candidate(s)." in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SharedProfile, desk.application.shared_profile.id).unshared_at is not None


TASK_PAGE_SLOT = datetime(2030, 3, 11, 14, 0, tzinfo=UTC)  # London on GMT, New York already on EDT


@pytest.mark.time_machine(TASK_PAGE_SLOT - timedelta(days=7))  # the page and the confirmation read the clock
def test_task_completion_refusal_renders_in_place(signed_in, desk):
    start = TASK_PAGE_SLOT
    request = make_interview_request(desk.application, desk.contact, [(start, start + timedelta(hours=1))])
    task = db.session.scalar(select(Task).where(Task.interview_request_id == request.id))
    db.session.commit()
    page = signed_in.get(f"/agency/tasks/{task.id}").get_data(as_text=True)
    assert "14:00–15:00 (Europe/London)" in page and "(UTC)" in page
    assert 'id="slots"' in page and "Confirm this time" in page
    refused = _post(signed_in, f"/agency/tasks/{task.id}/complete")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and html.startswith('<section id="task-status"')
    assert "Missing: a confirmed interview" in html
    confirmed = _post(
        signed_in,
        f"/agency/interview-requests/{request.id}/confirm",
        {"slot_id": request.proposed_slots[0].id, "meeting_link": "https://meet.example/q"},
    )
    assert confirmed.status_code == 200 and "Interview confirmed for" in confirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Task, task.id).status == "done"


def test_task_regions_save_once_or_refuse_in_place(signed_in, desk):
    from portal.models import TaskChecklistItem, TaskComment
    from portal.services.tasks import generate_task

    task = generate_task(desk.application, "send_feedback", "fb:regions")
    db.session.commit()
    item_id = task.checklist[0].id
    refused = _post(signed_in, f"/agency/tasks/{task.id}/comments", {"body": "   "})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and html.startswith('<section id="task-comments"')
    assert "Write a comment first." in html
    added = _post(signed_in, f"/agency/tasks/{task.id}/comments", {"body": "Calling her tomorrow."})
    assert added.status_code == 200 and "Calling her tomorrow." in added.get_data(as_text=True)
    ticked = _post(signed_in, f"/agency/tasks/{task.id}/checklist/{item_id}", {"done": "y"})
    assert ticked.status_code == 200 and ticked.get_data(as_text=True).startswith('<section id="task-status"')
    reassign = _post(signed_in, f"/agency/tasks/{task.id}/reassign", {"assignee_id": "999999"})
    assert reassign.status_code == 422 and "Choose an active colleague." in reassign.get_data(as_text=True)
    skip = _post(signed_in, f"/agency/tasks/{task.id}/skip", {"reason": "no"})
    assert skip.status_code == 422 and "at least 5 characters" in skip.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(TaskComment.body)).all() == ["Calling her tomorrow."]
    assert db.session.get(TaskChecklistItem, item_id).done is True
    assert db.session.get(Task, task.id).status == "open"


def test_a_task_region_posted_without_htmx_comes_back_in_the_whole_page(signed_in, desk):
    from portal.services.tasks import generate_task

    task = generate_task(desk.application, "send_feedback", "fb:page-post")
    db.session.commit()
    refused = _post(signed_in, f"/agency/tasks/{task.id}/comments", {"body": ""}, htmx=False)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<html" in html and "Write a comment first." in html
    for region in ('id="task-status"', 'id="task-assign"', 'id="task-comments"'):
        assert region in html, region


def test_inbox_and_team_view_highlight_overdue(signed_in, desk):
    from portal.services.tasks import generate_task

    generate_task(desk.application, "send_feedback", "fb:1", now=datetime(2020, 1, 1, tzinfo=UTC))
    db.session.commit()
    inbox = signed_in.get("/agency/tasks").get_data(as_text=True)
    assert "Send feedback to the candidate: Kavya Rao" in inbox and "Overdue" in inbox
    assert signed_in.get("/agency/tasks/team").status_code == 404  # the head of the agency's view
    login_as(signed_in, desk.admin)
    team = signed_in.get("/agency/tasks/team").get_data(as_text=True)
    assert 'id="workload"' in team and "Rhea Recruiter" in team


def test_alert_badge_list_and_mark_read(signed_in, desk):
    alert_job_owner(desk.application, "interview_requested", "Nia asked to interview Kavya", "v1")
    db.session.commit()
    badge = signed_in.get("/agency/alerts/badge", headers=HX).get_data(as_text=True)
    assert 'hx-trigger="every 15s' in badge and ">1</span>" in badge
    fragment = signed_in.get("/agency/alerts", headers=HX).get_data(as_text=True)
    assert fragment.startswith('<section id="alert-list">') and "Nia asked to interview Kavya" in fragment
    alert_id = db.session.scalar(select(Alert.id))
    response = _post(signed_in, f"/agency/alerts/{alert_id}/read")
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "alerts-changed"
    assert ">0</span>" in signed_in.get("/agency/alerts/badge").get_data(as_text=True)


def test_candidate_page_feedback_and_outcome(signed_in, desk):
    page = signed_in.get(f"/agency/candidates/{desk.candidate.id}").get_data(as_text=True)
    assert 'Looking for work: <strong id="looking-for-work">Yes' in page
    form = signed_in.get(f"/agency/applications/{desk.application.id}/feedback").get_data(as_text=True)
    assert "Your application for Widget Engineer" in form and "Asia/Kolkata" in form
    refused = _post(signed_in, f"/agency/applications/{desk.application.id}/feedback", {"subject": "Hi", "body": ""})
    assert refused.status_code == 422 and "Write the message." in refused.get_data(as_text=True)
    sent = _post(
        signed_in,
        f"/agency/applications/{desk.application.id}/feedback",
        {"subject": "About your application", "body": "Thank you for your time, Kavya. Best wishes."},
    )
    assert sent.status_code == 204
    assert db.session.scalar(select(Activity.id).where(Activity.verb == "candidate.feedback_sent")) is not None
    done = _post(signed_in, f"/agency/applications/{desk.application.id}/outcome", {"outcome": "hired"})
    assert done.status_code == 204
    page = signed_in.get(f"/agency/candidates/{desk.candidate.id}").get_data(as_text=True)
    assert 'Looking for work: <strong id="looking-for-work">No' in page and "Hired: Kavya Rao" in page


def test_create_job_with_validation_in_place(signed_in, desk):
    refused = _post(
        signed_in, "/agency/jobs/new", {"title": "", "company_id": desk.job.company_id, "owner_id": desk.recruiter.id}
    )
    assert refused.status_code == 422 and "Give the job a title." in refused.get_data(as_text=True)
    created = _post(
        signed_in,
        "/agency/jobs/new",
        {"title": "Gadget Lead", "company_id": desk.job.company_id, "owner_id": desk.recruiter.id, "status": "open"},
    )
    assert created.status_code == 204
    assert db.session.scalar(select(Job).where(Job.title == "Gadget Lead")) is not None


def test_other_agency_and_confidential_objects_are_404(app, client, desk):
    from tests.factories import make_agency, make_job, make_user

    other = make_agency()
    stranger = make_user(other)
    outsider = make_user(desk.recruiter.agency)
    secret = make_job(desk.job.company, desk.recruiter, confidential=True)
    hidden = make_application(secret, shared=False)
    from portal.services.tasks import generate_task

    task = generate_task(hidden, "send_feedback", "fb:conf")
    db.session.commit()
    login_as(client, stranger)
    assert client.get(f"/agency/applications/{desk.application.id}/share").status_code == 404
    login_as(client, outsider)
    for url in (
        f"/agency/tasks/{task.id}",
        f"/agency/applications/{hidden.id}/share",
        f"/agency/candidates/{hidden.candidate_id}",
    ):
        response = client.get(url)
        assert response.status_code == 404 or secret.title not in response.get_data(as_text=True), url
    assert client.get("/agency/tasks/team").status_code == 404


@pytest.mark.parametrize(
    "path, fragment_start",
    [
        ("/agency/tasks/{task}", '<section id="task-status"'),
        ("/agency/applications/{application}/share", '<form id="share-form"'),
        ("/agency/applications/{application}/feedback", '<form id="feedback-form"'),
        ("/agency/applications/{application}/outcome", '<form id="outcome-form"'),
        ("/agency/jobs/new", '<form id="job-form"'),
        ("/agency/jobs/{job}/edit", '<form id="job-form"'),
        ("/agency/alerts", '<section id="alert-list">'),
    ],
)
def test_each_htmx_view_serves_page_and_fragment(signed_in, desk, path, fragment_start):
    from portal.services.tasks import generate_task

    task = generate_task(desk.application, "send_feedback", "fb:page")
    db.session.commit()
    url = path.format(task=task.id, application=desk.application.id, job=desk.job.id)
    page = signed_in.get(url)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    fragment = signed_in.get(url, headers=HX)
    html = fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in html and html.lstrip().startswith(fragment_start), html[:200]


def test_a_recruiter_outside_the_job_sees_no_edit_button_and_cannot_edit_it(app, client, desk):
    outsider = make_user(desk.recruiter.agency)
    db.session.commit()
    login_as(client, outsider)
    page = client.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    assert "Widget Engineer" in page and "Edit job" not in page
    assert client.get(f"/agency/jobs/{desk.job.id}/edit").status_code == 404
    refused = _post(client, f"/agency/jobs/{desk.job.id}/edit", {"title": "Mine now", "owner_id": outsider.id})
    assert refused.status_code == 404
    db.session.expire_all()
    assert db.session.get(Job, desk.job.id).title == "Widget Engineer"
    login_as(client, desk.recruiter)
    assert "Edit job" in client.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)

"""No-ghosting (issue 15 item 2): the "inform by" date follows shares, interviews and decisions;
the job owner's task comes once, however many workers run the pass; overdue candidates show on
the agency-wide view; the one-click status update reaches the candidate dated in their zone."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agency, Alert, Application, EmailTemplate, Interview, MailOutbox, Task, utcnow
from portal.services import client_actions, no_ghosting, pipeline, scheduled
from portal.services.candidate_messages import compose_feedback, send_feedback
from portal.services.interviews import cancel_interview, cancel_interviews_of_rejected, confirm_interview
from portal.services.sharing import share_candidate
from portal.services.tasks import complete_task, missing_for_completion
from portal.worker import deliver_mail
from tests.conftest import login_as
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_interview_request,
    make_job,
    make_user,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; every other instant is relative to it
DAY = timedelta(days=1)


def _agency(desk) -> Agency:
    return db.session.get_one(Agency, desk.job.agency_id)


def _share(desk, application, now):
    share_candidate(application, desk.recruiter, consent_override_reason="Agreed on the phone", now=now)
    db.session.commit()


def _book(desk, application, starts_at, now):
    request = make_interview_request(application, desk.contact, [(starts_at, starts_at + timedelta(hours=1))])
    interview = confirm_interview(
        request, desk.recruiter, slot_id=request.proposed_slots[0].id, meeting_link="https://meet.example/i", now=now
    )
    db.session.commit()
    return interview


def test_the_date_follows_the_share_interviews_and_decisions(desk):
    application = make_application(desk.job, make_candidate(_agency(desk)), shared=False)
    db.session.commit()
    assert application.inform_by_at is None  # not shared: nothing owed yet

    _share(desk, application, T0)
    assert application.inform_by_at == T0 + 45 * DAY  # no interview yet: counted from the share

    first = _book(desk, application, T0 + 10 * DAY, now=T0 + DAY)
    second_start = T0 + 20 * DAY
    assert application.inform_by_at == T0 + 10 * DAY + timedelta(hours=1) + 45 * DAY
    # A second, later interview moves the date after it.
    request = make_interview_request(application, desk.contact, [(second_start, second_start + timedelta(hours=2))])
    second = confirm_interview(
        request, desk.recruiter, slot_id=request.proposed_slots[0].id, meeting_link="https://m.example/2", now=T0
    )
    db.session.commit()
    assert application.inform_by_at == second_start + timedelta(hours=2) + 45 * DAY
    # Cancelling the later one brings the date back to the earlier interview.
    cancel_interview(second, desk.recruiter, now=T0 + 2 * DAY)
    db.session.commit()
    assert application.inform_by_at == T0 + 10 * DAY + timedelta(hours=1) + 45 * DAY
    assert first.status == "scheduled"

    # The client rejects: the decision rule (5 days) applies; cancelling the interviews of the
    # rejected candidate afterwards does not move it.
    rejected_at = T0 + 12 * DAY
    client_actions.reject(desk.contact, application, now=rejected_at)
    db.session.commit()
    assert application.inform_by_at == rejected_at + 5 * DAY
    # Undo within the window: back to the interview rule.
    client_actions.undo_reject(desk.contact, application, now=rejected_at + timedelta(seconds=5))
    db.session.commit()
    assert application.inform_by_at == T0 + 10 * DAY + timedelta(hours=1) + 45 * DAY

    client_actions.reject(desk.contact, application, now=rejected_at + DAY)
    db.session.commit()
    assert cancel_interviews_of_rejected(now=rejected_at + 2 * DAY) == 1
    db.session.commit()
    assert application.inform_by_at == rejected_at + DAY + 5 * DAY
    assert db.session.scalar(select(Interview.status).where(Interview.id == first.id)) == "cancelled"


def test_a_hire_request_is_a_decision_and_the_recorded_hire_informs(desk):
    application = make_application(desk.job, make_candidate(_agency(desk)), shared=False)
    db.session.commit()
    _share(desk, application, T0)
    asked = T0 + 3 * DAY
    client_actions.request_hire(desk.contact, application, now=asked)
    db.session.commit()
    assert application.inform_by_at == asked + 5 * DAY
    assert no_ghosting.not_informed(desk.recruiter, now=asked + 6 * DAY) == [application]
    pipeline.close_application(application, "hired", desk.recruiter, now=asked + DAY)
    db.session.commit()
    assert application.candidate_informed_at == asked + DAY
    assert no_ghosting.not_informed(desk.recruiter, now=asked + 60 * DAY) == []


def test_the_agency_closing_after_a_share_is_a_decision_and_a_withdrawal_owes_nothing(desk):
    agency = _agency(desk)
    rejected = make_application(desk.job, make_candidate(agency), shared=False)
    withdrawn = make_application(desk.job, make_candidate(agency), shared=False)
    db.session.commit()
    for application in (rejected, withdrawn):
        _share(desk, application, T0)
    reasons = {r.kind: r.id for r in pipeline.closing_reasons(agency.id)}
    pipeline.close_application(
        rejected, "rejected_by_agency", desk.recruiter, reason_id=reasons["rejection"], now=T0 + DAY
    )
    pipeline.close_application(withdrawn, "withdrawn", desk.recruiter, reason_id=reasons["loss"], now=T0 + DAY)
    db.session.commit()
    assert rejected.inform_by_at == T0 + 6 * DAY
    assert withdrawn.inform_by_at is None


def test_the_final_feedback_informs_the_candidate_and_carries_the_survey_link(desk, smtp):
    application = desk.application
    no_ghosting.refresh_inform_by(application, now=T0)
    client_actions.reject(desk.contact, application, now=T0)
    db.session.commit()
    assert no_ghosting.not_informed(desk.recruiter, now=T0 + 6 * DAY) == [application]
    draft = compose_feedback(application)
    send_feedback(application, desk.recruiter, draft.subject, draft.body, now=T0 + DAY)
    db.session.commit()
    assert application.candidate_informed_at == T0 + DAY
    assert no_ghosting.not_informed(desk.recruiter, now=T0 + 60 * DAY) == []
    assert deliver_mail() == 2  # the owner's alert of the reject, and the feedback
    (received,) = [m for m in smtp.inbox.wait_for(2) if m["to"] == [desk.candidate.primary_email]]
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert "How were you treated?" in text and f"/{_agency(desk).slug}/survey/" in text


def test_the_offer_draft_for_a_hire(desk):
    no_ghosting.refresh_inform_by(desk.application, now=T0)
    client_actions.request_hire(desk.contact, desk.application, now=T0)
    db.session.commit()
    draft = compose_feedback(desk.application)
    assert draft.subject == "Good news about Widget Engineer"
    assert "Hudson Widgets would like to offer you the Widget Engineer role" in draft.body


def _due_application(desk, inform_by: datetime) -> Application:
    application = desk.application
    application.inform_by_at = inform_by
    db.session.commit()
    return application


def test_the_task_comes_warn_days_before_the_date_once(desk):
    inform_by = T0 + 30 * DAY
    application = _due_application(desk, inform_by)
    early = inform_by - (no_ghosting.WARN_DAYS + 1) * DAY
    assert no_ghosting.warn_owners(early) == {"inform tasks": 0}
    on_time = inform_by - no_ghosting.WARN_DAYS * DAY
    assert no_ghosting.warn_owners(on_time) == {"inform tasks": 1}
    assert no_ghosting.warn_owners(on_time + DAY) == {"inform tasks": 0}
    task = db.session.scalar(select(Task).where(Task.type == "inform_candidate"))
    assert task.assignee_id == desk.recruiter.id and task.application_id == application.id
    assert task.due_at == inform_by
    alert = db.session.scalar(select(Alert).where(Alert.kind == "inform_candidate"))
    # The owner reads the date in London (UTC+1 in April, summer time).
    assert alert.message == f"Tell Kavya Rao where they stand on Widget Engineer by {_london(inform_by)}."
    # The task is done once the candidate was told (or sent a status update).
    for item in task.checklist:
        item.done = True
    assert missing_for_completion(task)
    draft = compose_feedback(application)
    send_feedback(application, desk.recruiter, draft.subject, draft.body, now=on_time)
    complete_task(task, desk.recruiter, now=on_time)
    db.session.commit()
    # Informed: no further task whatever the date does.
    application.inform_by_at = inform_by + 10 * DAY
    db.session.commit()
    assert no_ghosting.warn_owners(inform_by + 10 * DAY) == {"inform tasks": 0}


def _london(instant: datetime) -> str:
    from zoneinfo import ZoneInfo

    local = instant.astimezone(ZoneInfo("Europe/London"))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} (Europe/London)"


def test_a_moved_date_warns_again(desk):
    inform_by = T0 + 30 * DAY
    _due_application(desk, inform_by)
    assert no_ghosting.warn_owners(inform_by - DAY) == {"inform tasks": 1}
    desk.application.inform_by_at = inform_by + 20 * DAY
    db.session.commit()
    assert no_ghosting.warn_owners(inform_by + 16 * DAY) == {"inform tasks": 1}
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.type == "inform_candidate")) == 2


def test_a_date_moved_within_the_day_moves_the_task_and_is_not_found_again(desk):
    inform_by = T0 + 30 * DAY
    _due_application(desk, inform_by)
    assert no_ghosting.warn_owners(inform_by - DAY) == {"inform tasks": 1}
    desk.application.inform_by_at = inform_by + timedelta(hours=2)  # an interview moved by two hours
    db.session.commit()
    assert no_ghosting.warn_owners(inform_by - DAY) == {"inform tasks": 0}
    (task,) = db.session.scalars(select(Task).where(Task.type == "inform_candidate"))
    assert task.due_at == inform_by + timedelta(hours=2)
    assert no_ghosting._due_for_task(inform_by - DAY) == []  # nothing left for the next pass to claim


def test_the_step_is_registered_in_the_reminders_pass(desk):
    assert ("no-ghosting", no_ghosting.warn_owners) in scheduled.steps("reminders")
    _due_application(desk, T0 + 3 * DAY)
    assert scheduled.run_pass(now=T0, group="reminders")["no-ghosting"] == {"inform tasks": 1}


def test_two_workers_give_one_task_and_one_alert(make_app):
    workers = [make_app(), make_app()]
    with workers[0].app_context():
        agency = make_agency()
        owner = make_user(agency)
        job = make_job(make_company(agency), owner)
        applications = [make_application(job) for _ in range(8)]
        for n, application in enumerate(applications):
            application.inform_by_at = T0 + n * timedelta(hours=3)
        db.session.commit()
    start = threading.Barrier(2)
    reports: list[dict] = []
    errors: list[BaseException] = []

    def worker(worker_app):
        try:
            with worker_app.app_context():
                start.wait(10)
                reports.append(no_ghosting.warn_owners(T0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(report["inform tasks"] for report in reports) == 8
    with workers[0].app_context():
        assert db.session.scalar(select(func.count()).select_from(Task).where(Task.type == "inform_candidate")) == 8
        assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "inform_candidate")) == 8


def test_overdue_shows_on_the_agency_wide_view(app, desk):
    now = utcnow()
    overdue = desk.application
    overdue.inform_by_at = now - DAY
    soon = make_application(desk.job, make_candidate(_agency(desk), first_name="Soren", last_name="Soon"))
    soon.inform_by_at = now + 2 * DAY
    informed = make_application(desk.job, make_candidate(_agency(desk), first_name="Ines", last_name="Told"))
    informed.inform_by_at, informed.candidate_informed_at = now - DAY, now - 2 * DAY
    db.session.commit()
    client = app.test_client()
    login_as(client, desk.recruiter)
    home = client.get("/agency/").get_data(as_text=True)
    assert "Overdue: candidate not informed (1)" in home
    page = client.get("/agency/not-informed").get_data(as_text=True)
    assert "Kavya Rao" in page and "Soren Soon" not in page and "Ines Told" not in page
    assert "Overdue: candidate not informed</span>" in page
    page = client.get("/agency/not-informed?show=soon").get_data(as_text=True)
    assert "Kavya Rao" in page and "Soren Soon" in page and "Ines Told" not in page
    board = client.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    assert board.count("Overdue: candidate not informed</span>") == 1
    # Another agency's staff see none of it.
    other = make_user(make_agency())
    db.session.commit()
    login_as(client, other)
    assert "Kavya Rao" not in client.get("/agency/not-informed").get_data(as_text=True)
    assert "Overdue: candidate not informed (0)" in client.get("/agency/").get_data(as_text=True)


def test_the_status_update_reaches_the_candidate_dated_in_their_zone(desk, smtp):
    inform_by = T0 + 19 * DAY + timedelta(hours=11)  # Saturday 21 March 20:00 UTC: Sunday 01:30 in Kolkata
    desk.application.inform_by_at = inform_by
    db.session.commit()
    no_ghosting.send_status_update(desk.application, desk.recruiter, now=T0)
    db.session.commit()
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    assert received["to"] == [desk.candidate.primary_email]
    assert received["message"]["Subject"] == "Your application for Widget Engineer: an update"
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert "you are still with Hudson Widgets" in text
    assert "We expect their answer by Sunday 22 March 2026 (Asia/Kolkata)" in " ".join(text.split())
    assert "Hello Kavya" in text and text.count("Hello") == 1
    assert desk.application.candidate_informed_at is None  # an update is not the answer
    assert desk.application.inform_by_at == inform_by  # and does not move the date


def test_the_status_update_uses_the_agency_wording_and_the_owner_zone_when_the_candidate_has_none(desk, smtp):
    desk.candidate.timezone = None
    db.session.add(
        EmailTemplate(
            agency_id=desk.job.agency_id,
            key="status_update",
            subject="News on {job}",
            body="Still waiting on {client}; answer by {expected_by}. {recruiter}",
        )
    )
    desk.application.inform_by_at = T0 + 20 * DAY - timedelta(minutes=30)  # Sunday 22 March 08:30 UTC
    db.session.commit()
    no_ghosting.send_status_update(desk.application, desk.recruiter, now=T0)
    db.session.commit()
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    assert received["message"]["Subject"] == "News on Widget Engineer"
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert "answer by Sunday 22 March 2026 (Europe/London). Rhea Recruiter" in text


@pytest.mark.parametrize(
    "state, message",
    [
        ("passed", "The date to tell the candidate has passed"),
        ("informed", "already been given the answer"),
        ("closed", "still with the client"),
    ],
)
def test_a_status_update_is_refused_when_none_is_due(desk, state, message):
    from portal.services import ServiceError

    desk.application.inform_by_at = T0 + 10 * DAY
    now = T0
    if state == "passed":
        now = T0 + 11 * DAY
    elif state == "informed":
        desk.application.candidate_informed_at = T0
    else:
        client_actions.reject(desk.contact, desk.application, now=T0)
    db.session.commit()
    with pytest.raises(ServiceError, match=message):
        no_ghosting.send_status_update(desk.application, desk.recruiter, now=now)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(MailOutbox.kind == "candidate.status_update")) == 0


def test_the_button_on_the_candidate_page_sends_it_and_says_so(app, desk):
    desk.application.inform_by_at = utcnow() + 10 * DAY
    db.session.commit()
    client = app.test_client()
    login_as(client, desk.recruiter)
    page = client.get(f"/agency/candidates/{desk.candidate.id}").get_data(as_text=True)
    assert "Send status update" in page and "Tell the candidate where they stand by" in page
    from tests.conftest import csrf_token

    response = client.post(
        f"/agency/applications/{desk.application.id}/status-update", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303
    assert db.session.scalar(select(MailOutbox.kind)) == "candidate.status_update"
    timeline = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent Kavya Rao a status update" in timeline
    # Past the date the button answers in place, naming why.
    desk.application.inform_by_at = utcnow() - DAY
    db.session.commit()
    refused = client.post(
        f"/agency/applications/{desk.application.id}/status-update", data={"csrf_token": csrf_token(client)}
    )
    assert refused.status_code == 422
    assert "The date to tell the candidate has passed" in refused.get_data(as_text=True)

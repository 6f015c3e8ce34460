"""Task rules (A3): each completion refusal names what is missing; skip, reassign, comment."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Activity, Task
from portal.services import ServiceError
from portal.services.candidate_messages import compose_feedback, send_feedback
from portal.services.interviews import confirm_interview
from portal.services.pipeline import close_application
from portal.services.tasks import (
    agency_workload,
    comment_on_task,
    complete_task,
    generate_task,
    is_overdue,
    reassign_task,
    set_checklist_item,
    skip_task,
)
from tests.agency.conftest import FRIDAY_BEFORE_US_DST
from tests.factories import make_interview_request, make_job, make_user

UTC = UTC


def _tick_all(task):
    for item in task.checklist:
        set_checklist_item(task, item.id, True)


def test_organise_interview_needs_a_confirmed_interview(desk):
    start = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    request = make_interview_request(desk.application, desk.contact, [(start, start + timedelta(hours=1))])
    task = db.session.scalar(select(Task).where(Task.interview_request_id == request.id))
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        complete_task(task, desk.recruiter)
    assert refused.value.message == (
        "This task cannot be completed yet. Missing: a confirmed interview (pick one of the proposed times, "
        "or propose others); checklist item not ticked: \u201cReview the client's proposed slots\u201d; "
        "checklist item not ticked: \u201cCheck the candidate's availability\u201d; "
        "checklist item not ticked: \u201cConfirm the interview\u201d."
    )
    _tick_all(task)
    with pytest.raises(ServiceError, match=r"Missing: a confirmed interview \(pick"):
        complete_task(task, desk.recruiter)
    confirm_interview(
        request,
        desk.recruiter,
        slot_id=request.proposed_slots[0].id,
        meeting_link="https://meet.example/x",
        now=FRIDAY_BEFORE_US_DST,
    )
    assert db.session.get(Task, task.id).status == "done"
    # The booking completed the task through the task rules: it is on the timeline like any completion.
    completed = db.session.scalar(select(Activity).where(Activity.verb == "task.completed"))
    assert completed.detail == {"task_id": task.id} and completed.actor_user_id == desk.recruiter.id


def test_send_feedback_needs_a_sent_message_or_a_skip_with_reason(desk):
    task = generate_task(desk.application, "send_feedback", "send_feedback:test")
    db.session.commit()
    _tick_all(task)
    with pytest.raises(ServiceError) as refused:
        complete_task(task, desk.recruiter)
    assert refused.value.message == (
        "This task cannot be completed yet. Missing: a feedback message sent to "
        "the candidate (or skip the task with a reason)."
    )
    draft = compose_feedback(desk.application)
    send_feedback(desk.application, desk.recruiter, draft.subject, draft.body)
    complete_task(task, desk.recruiter)
    assert task.status == "done" and task.completed_at is not None


@pytest.mark.parametrize(
    "reason, message",
    [
        ("", "Say why the feedback is skipped (at least 5 characters)."),
        ("no", "Say why the feedback is skipped (at least 5 characters)."),
    ],
)
def test_skip_needs_a_reason(desk, reason, message):
    task = generate_task(desk.application, "send_feedback", "send_feedback:skip")
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        skip_task(task, desk.recruiter, reason)
    assert refused.value.message == message
    assert task.status == "open"


def test_skip_records_the_reason_and_only_feedback_tasks_can_be_skipped(desk):
    task = generate_task(desk.application, "send_feedback", "send_feedback:skip")
    offer = generate_task(desk.application, "process_offer", "process_offer:skip")
    db.session.commit()
    skip_task(task, desk.recruiter, "Candidate asked not to be contacted")
    assert (task.status, task.skip_reason) == ("skipped", "Candidate asked not to be contacted")
    with pytest.raises(ServiceError, match="Only a feedback task can be skipped"):
        skip_task(offer, desk.recruiter, "Not needed at all")
    with pytest.raises(ServiceError, match="already skipped"):
        complete_task(task, desk.recruiter)


def test_process_offer_needs_the_outcome(desk):
    task = generate_task(desk.application, "process_offer", "process_offer:test")
    db.session.commit()
    _tick_all(task)
    with pytest.raises(ServiceError) as refused:
        complete_task(task, desk.recruiter)
    assert refused.value.message == (
        "This task cannot be completed yet. Missing: the outcome of the offer "
        "(record the hire, or close the application with a reason)."
    )
    close_application(desk.application, "hired", desk.recruiter)
    complete_task(task, desk.recruiter)
    assert task.status == "done"


def test_reassign_comment_overdue_and_the_agency_wide_view(desk):
    task = generate_task(desk.application, "send_feedback", "send_feedback:r", now=FRIDAY_BEFORE_US_DST)
    colleague = make_user(desk.recruiter.agency, name="Colin Colleague")
    db.session.commit()
    with pytest.raises(ServiceError, match="already assigned"):
        reassign_task(task, desk.admin, desk.recruiter.id)
    with pytest.raises(ServiceError, match="Choose an active colleague"):
        reassign_task(task, desk.admin, 999999)
    reassign_task(task, desk.admin, colleague.id)
    assert task.assignee_id == colleague.id
    with pytest.raises(ServiceError, match="Write a comment first"):
        comment_on_task(task, colleague, "   ")
    comment_on_task(task, colleague, "Calling her tomorrow.")
    verbs = db.session.scalars(select(Activity.verb).where(Activity.application_id == desk.application.id)).all()
    assert {"task.reassigned", "task.commented"} <= set(verbs)
    later = FRIDAY_BEFORE_US_DST + timedelta(days=3)
    assert is_overdue(task, later) and not is_overdue(task, FRIDAY_BEFORE_US_DST)
    rows = {
        row.user.name: (row.open_count, row.overdue_count) for row in agency_workload(desk.recruiter.agency_id, later)
    }
    assert rows["Colin Colleague"] == (1, 1) and rows["Rhea Recruiter"] == (0, 0)


def test_confidential_job_task_cannot_go_to_someone_off_the_team(desk):
    job = make_job(desk.job.company, desk.recruiter, confidential=True)
    from tests.factories import make_application

    application = make_application(job)
    task = generate_task(application, "send_feedback", "send_feedback:conf")
    outsider = make_user(desk.recruiter.agency, name="Otto Outsider")
    db.session.commit()
    with pytest.raises(ServiceError, match="not on this confidential job's hiring team"):
        reassign_task(task, desk.recruiter, outsider.id)
    reassign_task(task, desk.recruiter, desk.admin.id)

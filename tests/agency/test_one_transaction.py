"""The one transaction rule for the workspace's services (STYLE rule 9): they change the session
and never commit, so the caller's rollback undoes everything they did, outbox rows included."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Alert, Application, Candidate, Interview, InterviewRequest, Reason, Task
from portal.services import alerts, candidate_messages, interviews, pipeline, sharing, tasks
from tests.agency.conftest import FRIDAY_BEFORE_US_DST, Desk
from tests.factories import make_application, make_candidate, make_interview, make_interview_request

SLOT = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


@dataclass
class Bench:
    """The desk with one of everything the actions work on."""

    desk: Desk
    unshared: Application
    newcomer: Candidate
    feedback_task: Task
    request: InterviewRequest
    interview: Interview


@pytest.fixture
def bench(desk) -> Bench:
    unshared = make_application(desk.job, shared=False)
    newcomer = make_candidate(desk.recruiter.agency)
    feedback_task = tasks.generate_task(desk.application, "send_feedback", "send_feedback:txn")
    request = make_interview_request(desk.application, desk.contact, [(SLOT, SLOT + timedelta(hours=1))])
    interview = make_interview(make_application(desk.job), desk.recruiter, SLOT + timedelta(days=1))
    desk.recruiter.alert_email = "digest"
    db.session.add(Alert(agency_id=desk.job.agency_id, user_id=desk.recruiter.id, kind="test", message="Pending"))
    db.session.commit()
    return Bench(desk, unshared, newcomer, feedback_task, request, interview)


def _new_job(bench):
    desk = bench.desk
    values = pipeline.JobInput(title="Gadget Lead", company_id=desk.job.company_id, owner_id=desk.recruiter.id)
    pipeline.create_job(desk.recruiter, values)


def _edit_job(bench):
    desk = bench.desk
    values = pipeline.JobInput(title="Widget Lead", company_id=desk.job.company_id, owner_id=desk.recruiter.id)
    pipeline.update_job(desk.job, desk.recruiter, values)


def _move_stage(bench):
    desk = bench.desk
    pipeline.move_stage(desk.application, desk.recruiter.agency.stages[4].id, desk.recruiter)


def _close(bench):
    desk = bench.desk
    reason = db.session.scalar(select(Reason).where(Reason.agency_id == desk.job.agency_id, Reason.kind == "loss"))
    pipeline.close_application(desk.application, "withdrawn", desk.recruiter, reason_id=reason.id)


def _add_application(bench):
    pipeline.add_application(bench.desk.job, bench.newcomer, bench.desk.recruiter)


def _share(bench):
    sharing.share_candidate(bench.unshared, bench.desk.recruiter, consent_override_reason="Consent by phone")


def _bulk_share(bench):
    desk = bench.desk
    sharing.bulk_share(desk.job, [bench.unshared.id], desk.recruiter, consent_override_reason="Consent by phone")


def _unshare(bench):
    sharing.unshare_candidate(bench.desk.application, bench.desk.recruiter)


def _bulk_unshare(bench):
    sharing.bulk_unshare(bench.desk.job, [bench.desk.application.id], bench.desk.recruiter)


def _send_online(bench):
    sharing.send_online(bench.desk.job, [bench.desk.contact.id], bench.desk.recruiter)


def _complete_feedback_task(bench):
    desk, task = bench.desk, bench.feedback_task
    draft = candidate_messages.compose_feedback(desk.application)
    candidate_messages.send_feedback(desk.application, desk.recruiter, draft.subject, draft.body)
    for item in task.checklist:
        tasks.set_checklist_item(task, item.id, True)
    tasks.complete_task(task, desk.recruiter)


def _skip(bench):
    tasks.skip_task(bench.feedback_task, bench.desk.recruiter, "Asked not to be contacted")


def _reassign(bench):
    tasks.reassign_task(bench.feedback_task, bench.desk.recruiter, bench.desk.admin.id)


def _comment(bench):
    tasks.comment_on_task(bench.feedback_task, bench.desk.recruiter, "Calling tomorrow.")


def _tick(bench):
    tasks.set_checklist_item(bench.feedback_task, bench.feedback_task.checklist[0].id, True)


def _confirm(bench):
    request, link = bench.request, "https://meet.example/x"
    slot_id = request.proposed_slots[0].id
    interviews.confirm_interview(
        request, bench.desk.recruiter, slot_id=slot_id, meeting_link=link, now=FRIDAY_BEFORE_US_DST
    )


def _propose(bench):
    starts, duration = [SLOT + timedelta(days=1)], timedelta(minutes=30)
    interviews.propose_times(
        bench.request, bench.desk.recruiter, starts, duration, "Europe/London", now=FRIDAY_BEFORE_US_DST
    )


def _self_schedule_link(bench):
    interviews.send_self_schedule_link(bench.request, bench.desk.recruiter, meeting_link="https://meet.example/x")


def _reschedule(bench):
    new_start = SLOT + timedelta(days=2)
    interviews.reschedule_interview(bench.interview, bench.desk.recruiter, new_start, now=FRIDAY_BEFORE_US_DST)


def _cancel(bench):
    interviews.cancel_interview(bench.interview, bench.desk.recruiter, now=FRIDAY_BEFORE_US_DST)


def _digest(bench):
    assert alerts.send_digests() == 1


ACTIONS = [
    _new_job,
    _edit_job,
    _move_stage,
    _close,
    _add_application,
    _share,
    _bulk_share,
    _unshare,
    _bulk_unshare,
    _send_online,
    _complete_feedback_task,
    _skip,
    _reassign,
    _comment,
    _tick,
    _confirm,
    _propose,
    _self_schedule_link,
    _reschedule,
    _cancel,
    _digest,
]


def _row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.__name__.lstrip("_"))
def test_the_callers_rollback_undoes_the_whole_action(bench, action):
    before = (_row_counts(), _watched_columns(bench))
    action(bench)
    db.session.flush()
    assert (_row_counts(), _watched_columns(bench)) != before, "the action changed nothing"
    db.session.rollback()
    assert (_row_counts(), _watched_columns(bench)) == before


def _watched_columns(bench: Bench) -> tuple:
    """What the actions that only update rows change (the session's pending state included)."""
    desk, task = bench.desk, bench.feedback_task
    return (
        desk.job.title,
        desk.application.stage_id,
        desk.application.outcome,
        task.status,
        task.assignee_id,
        tuple(item.done for item in task.checklist),
        bench.interview.status,
        bench.interview.ics_sequence,
        bench.request.status,
    )


def test_marking_alerts_read_is_undone_by_the_callers_rollback(bench):
    assert alerts.mark_read(bench.desk.recruiter) == 1
    db.session.rollback()
    assert alerts.unread_count(bench.desk.recruiter) == 1

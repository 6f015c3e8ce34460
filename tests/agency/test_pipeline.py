"""Pipeline and outcomes (A1, A6): stage history, reasons, looking-for-work, job forms."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Reason, StageHistory
from portal.services import ServiceError
from portal.services.pipeline import JobInput, add_application, close_application, create_job, move_stage, update_job
from tests.factories import make_agency, make_company, make_job, make_user


def _reason(agency_id, label):
    return db.session.scalar(select(Reason).where(Reason.agency_id == agency_id, Reason.label == label))


def test_stage_moves_are_recorded(desk):
    stages = desk.recruiter.agency.stages
    move_stage(desk.application, stages[4].id, desk.recruiter)
    move_stage(desk.application, stages[3].id, desk.recruiter)
    history = db.session.scalars(select(StageHistory).order_by(StageHistory.id)).all()
    assert [(h.from_stage_id, h.to_stage_id) for h in history] == [
        (stages[2].id, stages[4].id),
        (stages[4].id, stages[3].id),
    ]
    with pytest.raises(ServiceError, match="already in Client review"):
        move_stage(desk.application, stages[3].id, desk.recruiter)
    other = make_agency()
    with pytest.raises(ServiceError, match="Choose one of the agency's stages"):
        move_stage(desk.application, other.stages[0].id, desk.recruiter)


def test_hire_turns_looking_for_work_off_and_a_new_application_back_on(desk):
    close_application(desk.application, "hired", desk.recruiter)
    assert desk.candidate.looking_for_work is False
    assert desk.application.client_status == "hired"
    add_application(make_job(desk.job.company, desk.recruiter), desk.candidate, desk.recruiter)
    assert desk.candidate.looking_for_work is True


def test_already_found_a_job_turns_it_off_other_reasons_do_not(desk):
    second = add_application(make_job(desk.job.company, desk.recruiter), desk.candidate, desk.recruiter)
    close_application(
        desk.application, "withdrawn", desk.recruiter, reason_id=_reason(desk.job.agency_id, "Relocated").id
    )
    assert desk.candidate.looking_for_work is True
    close_application(
        second, "withdrawn", desk.recruiter, reason_id=_reason(desk.job.agency_id, "Already found a job").id
    )
    assert desk.candidate.looking_for_work is False


@pytest.mark.parametrize(
    "outcome, reason_label, message",
    [
        ("maybe", None, "Choose an outcome."),
        ("rejected_by_client", None, "Choose a reason from the list."),
        ("rejected_by_agency", "Already found a job", "Choose a reason from the list."),
    ],
)
def test_outcome_validation(desk, outcome, reason_label, message):
    reason = _reason(desk.job.agency_id, reason_label) if reason_label else None
    with pytest.raises(ServiceError) as refused:
        close_application(desk.application, outcome, desk.recruiter, reason_id=reason.id if reason else None)
    assert refused.value.message == message
    assert desk.application.outcome is None


def test_create_and_edit_a_job(desk):
    values = JobInput(
        title=" Data Lead ",
        company_id=desk.job.company_id,
        owner_id=desk.recruiter.id,
        confidential=True,
        requisition_id="REQ-9",
        team_ids=(desk.admin.id,),
    )
    job = create_job(desk.recruiter, values)
    assert (job.title, job.confidential, job.requisition_id) == ("Data Lead", True, "REQ-9")
    assert {u.id for u in job.hiring_team} == {desk.admin.id, desk.recruiter.id}
    values.status, values.title = "closed", "Data Lead (filled)"
    update_job(job, desk.recruiter, values)
    assert job.status == "closed" and job.closed_at is not None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": "  "}, "Give the job a title."),
        ({"company_id": -1}, "Choose one of your clients."),
        ({"owner_id": -1}, "Choose an active colleague as the owner."),
        ({"team_ids": (-5,)}, "Choose active colleagues for the hiring team."),
    ],
)
def test_job_validation(desk, change, message):
    values = JobInput(title="X", company_id=desk.job.company_id, owner_id=desk.recruiter.id)
    for key, value in change.items():
        setattr(values, key, value)
    with pytest.raises(ServiceError) as refused:
        create_job(desk.recruiter, values)
    assert refused.value.message == message


def test_job_of_another_agencys_client_is_refused(desk):
    other = make_agency()
    foreign = make_company(other)
    make_user(other)
    with pytest.raises(ServiceError, match="Choose one of your clients"):
        create_job(desk.recruiter, JobInput(title="X", company_id=foreign.id, owner_id=desk.recruiter.id))


def test_only_the_owner_the_hiring_team_and_admins_edit_a_job(desk):
    """Any recruiter who can see a job works its pipeline; reassigning it or hiding it (marking it
    confidential) is for its owner, its hiring team and admins."""
    colleague, teammate = make_user(desk.recruiter.agency), make_user(desk.recruiter.agency)
    desk.job.hiring_team.append(teammate)
    db.session.flush()
    takeover = JobInput(title=desk.job.title, company_id=desk.job.company_id, owner_id=colleague.id, confidential=True)
    with pytest.raises(ServiceError, match="Only the job's owner, its hiring team and admins can edit this job"):
        update_job(desk.job, colleague, takeover)
    assert (desk.job.owner_id, desk.job.confidential) == (desk.recruiter.id, False)
    for editor in (desk.recruiter, teammate, desk.admin):
        update_job(
            desk.job,
            editor,
            JobInput(
                title="Widget Engineer II",
                company_id=desk.job.company_id,
                owner_id=desk.recruiter.id,
                team_ids=(teammate.id,),
            ),
        )
    assert desk.job.title == "Widget Engineer II"

"""Every service that writes an application, candidate or job leaves the search index fresh: after
the worker drains the outbox, ``flask search check``'s content comparison finds nothing stale,
missing or extra. A completeness guard makes a new writing service fail until it is walked here
or listed, with its reason, among the services that write nothing a document shows."""

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

import portal.services
from portal.extensions import db
from portal.models import Application, Candidate, Interview, InterviewRequest, Reason, Task
from portal.services import (
    application_status,
    candidate_files,
    candidate_messages,
    candidates,
    client_actions,
    client_comments,
    erasure,
    importer,
    interview_answers,
    interviews,
    pipeline,
    pipeline_config,
    retention,
    search,
    sharing,
    tasks,
)
from portal.services.client_actions import SlotInput
from portal.unit_of_work import unit_of_work
from search_sync import facts, outbox
from search_sync.check import check, indexed_hashes
from search_sync.documents import document_id
from search_sync.indexer import client, push
from search_sync.settings import index_name
from tests.documents import make_docx, make_pdf
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_interview,
    make_interview_request,
    make_job,
    make_user,
)
from tests.search.conftest import index_now

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@dataclass
class Bench:
    """An agency with one of everything the services work on, all indexed."""

    agency: object
    admin: object
    recruiter: object
    contact: object
    job: object
    secret_job: object
    application: Application  # shared, on the public job
    secret_application: Application  # on the confidential job
    unshared: Application
    newcomer: Candidate  # on no job yet
    rejected: Application  # rejected by the client a moment ago (undo window open)
    request: InterviewRequest
    interview: Interview
    feedback_task: Task
    spare_stage: object
    used_reason: Reason
    spare_reason: Reason


def build_bench() -> Bench:
    agency = make_agency("fresh")
    admin, recruiter = make_user(agency, "admin"), make_user(agency)
    company = make_company(agency)
    contact = make_contact(company)
    job = make_job(company, recruiter, title="Widget Engineer")
    secret_job = make_job(company, recruiter, title="Stealth CFO", confidential=True)
    application = make_application(job, make_candidate(agency, headline="Rust"))
    secret_application = make_application(secret_job)
    unshared = make_application(job, shared=False)
    newcomer = make_candidate(agency, headline="Newcomer")
    rejected = make_application(job)
    used_reason = db.session.scalar(
        select(Reason).where(Reason.agency_id == agency.id, Reason.kind == "rejection").order_by(Reason.id)
    )
    spare_stage = pipeline_config.add_stage(admin, "Spare")
    spare_reason = pipeline_config.add_reason(admin, "rejection", "Spare reason")
    pipeline.close_application(secret_application, "rejected_by_agency", recruiter, reason_id=used_reason.id, now=NOW)
    interviewed = make_application(job)
    request = make_interview_request(interviewed, contact, [(SLOT, SLOT + timedelta(hours=1))])
    interview = make_interview(make_application(job), recruiter, SLOT + timedelta(days=1))
    feedback_task = tasks.generate_task(application, "send_feedback", "send_feedback:fresh", now=NOW)
    client_actions.reject(contact, rejected, now=NOW)
    db.session.commit()
    return Bench(
        agency,
        admin,
        recruiter,
        contact,
        job,
        secret_job,
        application,
        secret_application,
        unshared,
        newcomer,
        rejected,
        request,
        interview,
        feedback_task,
        spare_stage,
        used_reason,
        spare_reason,
    )


def _job_input(b: Bench, **changes) -> pipeline.JobInput:
    values = {
        "title": b.job.title,
        "company_id": b.job.company_id,
        "owner_id": b.job.owner_id,
        "confidential": b.job.confidential,
        "team_ids": tuple(u.id for u in b.job.hiring_team),
    }
    return pipeline.JobInput(**{**values, **changes})


def _import(name: str, content: bytes):
    def run(b: Bench):
        report = importer.import_file(b.agency, name, content)
        assert report.problems == [], report.problems

    return run


def _stages(b: Bench):
    return pipeline_config.stages(b.agency.id)


# Keyed by "module.function" (a suffix after "#" tells several walks of one function apart).
SCENARIOS = {
    # The client's actions (Core compare-and-set through application_status.move).
    "client_actions.reject": lambda b: client_actions.reject(b.contact, b.application, now=NOW),
    "client_actions.undo_reject": lambda b: client_actions.undo_reject(
        b.contact, b.rejected, now=NOW + timedelta(seconds=5)
    ),
    "client_actions.explain_reject": lambda b: client_actions.explain_reject(
        b.contact, b.rejected, reason_id=b.used_reason.id, comment="Too junior", now=NOW
    ),
    "client_actions.request_hire": lambda b: client_actions.request_hire(b.contact, b.application, now=NOW),
    "client_actions.request_interview": lambda b: client_actions.request_interview(
        b.contact,
        b.application,
        interview_format="video",
        timezone_name="UTC",
        slots=[SlotInput(date(2026, 11, 25), time(9, 30), 60)],
        now=NOW,
    ),
    "client_actions.rate": lambda b: client_actions.rate(b.contact, b.application, 4, now=NOW + timedelta(days=1)),
    "client_actions.add_comment": lambda b: client_actions.add_comment(
        b.contact, b.application, "Strong profile", now=NOW + timedelta(days=1)
    ),
    # Sharing.
    "sharing.share_candidate": lambda b: sharing.share_candidate(
        b.unshared, b.recruiter, consent_override_reason="Consent by phone", now=NOW
    ),
    "sharing.bulk_share": lambda b: sharing.bulk_share(
        b.job, [b.unshared.id], b.recruiter, consent_override_reason="Consent by phone", now=NOW
    ),
    "sharing.unshare_candidate": lambda b: sharing.unshare_candidate(b.application, b.recruiter, now=NOW),
    "sharing.bulk_unshare": lambda b: sharing.bulk_unshare(b.job, [b.application.id], b.recruiter, now=NOW),
    "sharing.send_online": lambda b: sharing.send_online(b.job, [b.contact.id], b.recruiter),
    # The pipeline.
    "pipeline.create_job": lambda b: pipeline.create_job(b.recruiter, _job_input(b, title="Gadget Lead"), now=NOW),
    "pipeline.update_job#title": lambda b: pipeline.update_job(
        b.job, b.recruiter, _job_input(b, title="Lead"), now=NOW
    ),
    "pipeline.update_job#confidential": lambda b: pipeline.update_job(
        b.job, b.recruiter, _job_input(b, confidential=True), now=NOW
    ),
    "pipeline.update_job#hiring_team": lambda b: pipeline.update_job(
        b.job, b.recruiter, _job_input(b, team_ids=(b.recruiter.id, b.admin.id)), now=NOW
    ),
    "pipeline.move_stage": lambda b: pipeline.move_stage(b.application, _stages(b)[4].id, b.recruiter, now=NOW),
    "pipeline.close_application#hired": lambda b: pipeline.close_application(
        b.application, "hired", b.recruiter, now=NOW
    ),
    "pipeline.close_application#rejected": lambda b: pipeline.close_application(
        b.application, "rejected_by_agency", b.recruiter, reason_id=b.used_reason.id, now=NOW
    ),
    "pipeline.add_application": lambda b: pipeline.add_application(b.job, b.newcomer, b.recruiter, source="Referral"),
    "search.add_to_shortlist": lambda b: search.add_to_shortlist(b.recruiter, b.secret_job.id, [b.newcomer.id]),
    # The pipeline's configuration: stage names, order and reason labels are shown in documents.
    "pipeline_config.add_stage": lambda b: pipeline_config.add_stage(b.admin, "Reference check"),
    "pipeline_config.rename_stage": lambda b: pipeline_config.rename_stage(b.admin, _stages(b)[2], "First look"),
    "pipeline_config.move_stage": lambda b: pipeline_config.move_stage(b.admin, _stages(b)[2], "down"),
    "pipeline_config.delete_stage": lambda b: pipeline_config.delete_stage(b.admin, b.spare_stage),
    "pipeline_config.add_reason": lambda b: pipeline_config.add_reason(b.admin, "loss", "Counter-offer"),
    "pipeline_config.rename_reason": lambda b: pipeline_config.rename_reason(b.admin, b.used_reason, "Not a fit"),
    "pipeline_config.delete_reason": lambda b: pipeline_config.delete_reason(b.admin, b.spare_reason),
    # Interviews and tasks (they move the client status or close tasks around an application).
    "interviews.confirm_interview": lambda b: interviews.confirm_interview(
        b.request, b.recruiter, slot_id=b.request.proposed_slots[0].id, meeting_link="https://meet.example/x", now=NOW
    ),
    "interviews.propose_times": lambda b: interviews.propose_times(
        b.request, b.recruiter, [SLOT + timedelta(days=2)], timedelta(minutes=30), "Europe/London", now=NOW
    ),
    "interviews.reschedule_interview": lambda b: interviews.reschedule_interview(
        b.interview, b.recruiter, SLOT + timedelta(days=3), now=NOW
    ),
    "interviews.cancel_interview": lambda b: interviews.cancel_interview(b.interview, b.recruiter, now=NOW),
    "interviews.cancel_interviews_of_rejected": lambda b: (
        make_interview(b.rejected, b.recruiter, SLOT + timedelta(days=2)),
        interviews.cancel_interviews_of_rejected(now=NOW + timedelta(minutes=1)),
    ),
    "interviews.cancel_scheduled_interviews": lambda b: interviews.cancel_scheduled_interviews(
        db.session.get(Application, b.interview.application_id), b.recruiter, "Interview cancelled", now=NOW
    ),
    "client_actions.cancel_open_requests": lambda b: client_actions.cancel_open_requests(
        db.session.get(Application, b.request.application_id), now=NOW
    ),
    "pipeline.close_application#withdrawn": lambda b: pipeline.close_application(
        db.session.get(Application, b.interview.application_id),
        "withdrawn",
        b.recruiter,
        reason_id=_loss_reason(b).id,
        now=NOW,
    ),
    "tasks.retract_request_tasks": lambda b: tasks.retract_request_tasks(b.request.id, now=NOW),
    "tasks.restore_tasks": lambda b: tasks.restore_tasks(b.agency.id, tasks.retract_request_tasks(b.request.id)),
    "client_comments.reply_to_client": lambda b: client_comments.reply_to_client(
        b.recruiter, b.application, "Her notice is four weeks.", now=NOW + timedelta(days=1)
    ),
    "interviews.send_self_schedule_link": lambda b: interviews.send_self_schedule_link(
        b.request, b.recruiter, meeting_link="https://meet.example/x"
    ),
    # The answers to a proposal (issue 13): accepting confirms an interview, a further round asks again.
    "interview_answers.accept_proposed_time": lambda b: interview_answers.accept_proposed_time(
        b.contact, _counter_proposed(b).application, _counter_proposed(b).slot_id, now=NOW
    ),
    "interview_answers.ask_for_other_times": lambda b: interview_answers.ask_for_other_times(
        b.contact, _counter_proposed(b).application, "Mornings only", now=NOW
    ),
    "interview_answers.candidate_asks_for_other_times": lambda b: interview_answers.candidate_asks_for_other_times(
        interviews.check_self_schedule_token(b.agency.id, interviews.self_schedule_token(b.request)),
        "Evenings",
        now=NOW,
    ),
    "interview_answers.request_further_round": lambda b: _further_round(b),
    "tasks.generate_task": lambda b: tasks.generate_task(b.unshared, "send_feedback", "send_feedback:new", now=NOW),
    "tasks.retract_task": lambda b: tasks.retract_task(b.agency.id, "send_feedback:fresh"),
    "tasks.complete_task": lambda b: _complete_feedback_task(b),
    "tasks.skip_task": lambda b: tasks.skip_task(b.feedback_task, b.recruiter, "Asked not to be contacted", now=NOW),
    "tasks.reassign_task": lambda b: tasks.reassign_task(b.feedback_task, b.recruiter, b.admin.id),
    "tasks.comment_on_task": lambda b: tasks.comment_on_task(b.feedback_task, b.recruiter, "Calling tomorrow."),
    "tasks.set_checklist_item": lambda b: tasks.set_checklist_item(
        b.feedback_task, b.feedback_task.checklist[0].id, True
    ),
    "candidate_messages.send_feedback": lambda b: candidate_messages.send_feedback(
        b.application, b.recruiter, "Your application", "Thank you for your time with us this month.", now=NOW
    ),
    # Candidates kept by hand (issue 14): a new person, an edit of every field a document shows.
    "candidates.create_candidate": lambda b: candidates.create_candidate(
        b.recruiter,
        candidates.CandidateInput(
            first_name="Lena", last_name="Berg", email="Lena@Example.com", headline="Data engineer", tags="spark"
        ),
        now=NOW,
    ),
    "candidates.update_candidate": lambda b: candidates.update_candidate(
        b.newcomer,
        b.recruiter,
        candidates.CandidateInput(
            first_name="Nora",
            last_name="Quist",
            email="nora@example.com",
            headline="Staff engineer",
            current_title="CTO",
            current_company="Initech",
            location="Oslo",
            timezone="Europe/Oslo",
            tags="go, rust",
            source="Referral",
        ),
        now=NOW,
    ),
    "candidates.add_to_job": lambda b: candidates.add_to_job(b.newcomer, b.job.id, b.recruiter, now=NOW),
    # A candidate's files (issue 14): an uploaded resume's text is the document's resume text.
    "candidate_files.add_resume#pdf": lambda b: candidate_files.add_resume(
        b.application.candidate, b.recruiter, "cv.pdf", make_pdf("Quokka wrangler"), now=NOW
    ),
    "candidate_files.add_resume#docx": lambda b: candidate_files.add_resume(
        b.newcomer, b.recruiter, "cv.docx", make_docx("Pangolin keeper"), now=NOW
    ),
    # Erasure (issue 16): the placeholder is private, so its document goes; by an admin, or the
    # person's own "delete my details" answer.
    "erasure.erase_candidate": lambda b: erasure.erase_candidate(b.application.candidate, b.admin, now=NOW),
    "retention.answer#delete": lambda b: retention.answer(b.newcomer, "delete", now=NOW),
    # Import: new people, then edits of the same people (fields, tags, the private flag).
    "importer.import_file#csv": _import("past-applicants.csv", (SAMPLES / "past-applicants.csv").read_bytes()),
    "importer.import_file#json": _import("past-applicants.json", (SAMPLES / "past-applicants.json").read_bytes()),
}


@dataclass
class CounterProposed:
    application: Application
    slot_id: int


def _counter_proposed(b: Bench) -> CounterProposed:
    """The bench's request with one agency-proposed time (and its meeting link) added."""
    (slot,) = interviews.propose_times(
        b.request,
        b.recruiter,
        [SLOT + timedelta(days=2)],
        timedelta(minutes=30),
        "Europe/London",
        now=NOW,
        meeting_link="https://meet.example/agency",
    )
    db.session.flush()
    return CounterProposed(db.session.get_one(Application, b.request.application_id), slot.id)


def _further_round(b: Bench) -> None:
    application = db.session.get_one(Application, b.interview.application_id)
    application_status.move(application, "interview_scheduled", now=NOW)
    interview_answers.request_further_round(
        b.contact,
        application,
        interview_format="phone",
        timezone_name="America/New_York",
        slots=[SlotInput(date(2026, 12, 8), time(10, 0), 45)],
        now=NOW,
    )


def _loss_reason(b: Bench) -> Reason:
    return db.session.scalars(
        select(Reason).where(Reason.agency_id == b.agency.id, Reason.kind == "loss").order_by(Reason.id)
    ).first()


def _complete_feedback_task(b: Bench) -> None:
    draft = candidate_messages.compose_feedback(b.application)
    candidate_messages.send_feedback(b.application, b.recruiter, draft.subject, draft.body, now=NOW)
    for item in b.feedback_task.checklist:
        tasks.set_checklist_item(b.feedback_task, item.id, True)
    tasks.complete_task(b.feedback_task, b.recruiter, now=NOW)


def _edit_imported(b: Bench) -> None:
    """Re-import the CSV sample with its people edited: headline, tags, one made private."""
    csv = (SAMPLES / "past-applicants.csv").read_text()
    csv = csv.replace("Backend engineer", "Staff engineer").replace("python;kubernetes", "go")
    csv = csv.replace("Product manager,Product Manager,Stark,Remote,product,false", "PM,PM,Stark,Remote,product,true")
    _import("past-applicants.csv", csv.encode())(b)


def _assert_fresh() -> None:
    index_now()
    assert outbox.backlog() == 0
    result = check()
    assert result.ok, [(a.agency, a.stale, a.missing, a.extra) for a in result.agencies]
    assert result.checked > 0 and result.in_flight == 0
    _assert_facts_fresh()


def _assert_facts_fresh() -> None:
    """The degraded search's per-candidate facts and searchable text equal a fresh recomputation."""
    connection = db.session.connection()
    for agency_id in db.session.scalars(select(Candidate.agency_id).distinct()):
        assert facts.stored_rows(connection, agency_id) == facts.fresh_rows(connection, agency_id)
        assert facts.stored_texts(connection, agency_id) == facts.fresh_texts(connection, agency_id)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_writing_service_leaves_the_index_fresh(sctx, name):
    bench = build_bench()
    _assert_fresh()
    with unit_of_work():
        SCENARIOS[name](bench)
    _assert_fresh()


def test_imported_people_edited_by_a_second_import_stay_fresh(sctx):
    bench = build_bench()
    _import("past-applicants.csv", (SAMPLES / "past-applicants.csv").read_bytes())(bench)
    db.session.commit()
    _assert_fresh()
    with unit_of_work():
        _edit_imported(bench)
    _assert_fresh()
    private = db.session.scalar(select(Candidate).where(Candidate.external_id == "C11"))
    assert private.private and document_id(bench.agency.id, private.id) not in _indexed_ids()


def _indexed_ids() -> set[str]:
    return set(indexed_hashes())


# The completeness guard ------------------------------------------------------------------

# Services that write nothing a search document shows (their reads need no listing: see below).
WRITES_NOTHING_A_DOCUMENT_SHOWS = {
    "scoreboard_facts.fill": "the scoreboard's stay lengths and first answers: not in documents",
    "agency_templates.save_profile_template": "profile templates: not in documents",
    "agency_templates.delete_profile_template": "profile templates: not in documents",
    "agency_templates.save_email_template": "e-mail templates: not in documents",
    "agency_templates.reset_email_template": "e-mail templates: not in documents",
    "alerts.alert_job_owner": "an alert row (and its mail) for a user",
    "alerts.alert_user": "an alert row (and its mail) for a user",
    "auth.issue_link": "a sign-in token for a contact (names the job, changes nothing on it)",
    "auth.redeem_link": "marks a sign-in token used",
    "auth.request_sign_in": "a sign-in token and its mail",
    "auth.resend_link": "a sign-in token and its mail",
    "auth.email_landing_link": "a sign-in token and its mail",
    "auth.reveal_landing_link": "a sign-in token and a security event",
    "auth.deactivate": "a contact's or user's session version",
    "auth.answer_sign_in_request": "a queued sign-in request: a token and its mail",
    "auth.end_session": "records an ended session id",
    "alerts.retract_alert": "deletes an alert row",
    "alerts.mark_read": "alert read flags",
    "alerts.send_digests": "alert digest mail",
    "client_overview.record_visit": "the contact's last visit",
    "interviews.self_schedule_token": "signs a token, writes nothing",
    "interviews.build_ics": "builds calendar text, writes nothing",
    "activity.record": "a timeline entry: not in documents",
    "activity.record_for": "a timeline entry about an application: not in documents",
    "client_actions.open_interview_request": "walked through client_actions.request_interview and "
    "interview_answers.request_further_round, its callers",
    "client_actions.post_to_thread": "walked through client_actions.add_comment and client_comments.reply_to_client",
    "tasks.organise_interview_task": "walked through the interview requests and ask_for_other_times, its callers",
    "tasks.complete_interview_tasks": "closes tasks; walked through interviews.confirm_interview, its caller",
    "application_status.move": "walked through every client action above (its only callers)",
    "application_status.close": "walked through pipeline.close_application and the client actions",
    "candidate_files.add_video_resume": "a video link: not in documents",
    "application_status.from_history": "sets client_status on an object being imported: walked through import",
    "notes.add_candidate_note": "a note and a timeline entry: notes are not in search documents",
    "notes.add_job_note": "a note and a timeline entry: notes are not in search documents",
    "consent.record_consent": "a consent row and a timeline entry: consent is not in documents",
    "consent.ask_consent": "a consent request row, its mail and a timeline entry",
    "consent.answer_consent": "a consent row's answer and a timeline entry",
    "consent.consent_token": "signs a token, writes nothing",
    "subject_access.export_candidate": "an audit entry: reads the person's rows, writes nothing a document shows",
    "decision_reminders.send_reminders": "the scheduled step: reminder mails and keyed marks, in its own units of work",
    "decision_reminders.chase_overdue": "the scheduled step: chase tasks, alerts and keyed marks, in its own units "
    "of work",
    "decision_reminders.send_reminder": "a reminder mail",
    "decision_reminders.reminder_items": "may issue a contact's landing token (as auth.landing_link does)",
    "decision_reminders.set_reminder_preference": "a contact's reminder choice: not in documents",
    "decision_reminders.unsubscribe": "a contact's reminder choice: not in documents",
    "no_ghosting.refresh_inform_by": "an application's inform_by_at: not in documents",
    "no_ghosting.record_decision": "an application's inform_by_at and candidate_informed_at: not in documents",
    "no_ghosting.mark_informed": "an application's candidate_informed_at: not in documents",
    "no_ghosting.send_status_update": "a mail to the candidate and a timeline entry",
    "no_ghosting.warn_owners": "an inform_candidate task, an alert and a scheduled mark",
    "survey.record_answer": "a survey answer and a timeline entry: not in documents",
    "profile_views.record_profile_view": "a profile-view row (who saw what): not in documents",
    "retention.retention_step": "asks (a mail and a date on the candidate, not in documents) or anonymises through "
    "erasure.erase_candidate, walked",
    "retention.update_policy": "the agency's retention settings and an audit entry: not in documents",
    "retention.answer_token": "signs a token, writes nothing",
}

# Functions that only read. A function listed here that starts writing must move to a scenario.
READS_ONLY = {
    "agency_templates": "placeholders_in check_placeholders fill candidate_values render_profile preview_candidate "
    "preview_candidates preview_profile email_override overridden_emails email_subject_body render_email "
    "validate_email_template preview_email",
    "activity": "timeline",
    "scoreboard": "company_choices conversion csv_cell default_from feedback_times figures_csv make_filters "
    "overdue_shares period "
    "profile_views recruiter_choices scoreboard stage_times survey_scores uninformed_candidates",
    "alerts": "unread_count recent_alerts",
    "auth": "check_link landing_link authenticate_staff next_sign_in_request landing_candidate",
    "decision_reminders": "awaiting_review calls_for_reminder chase_day chase_is_due contact_for_unsubscribe due_day "
    "reminder_state reminders_paused unsubscribe_url",
    "search_database": "document_facets matching search_database slots time_budget",
    "application_status": "can_move",
    "candidate_messages": "compose_feedback",
    "candidates": "email_owner open_job_choices",
    "erasure": "erasure_counts placeholder",
    "retention": "cases check_answer_link months_before",
    "notes": "candidate_notes job_notes",
    "candidate_files": "check_video_url stored_filename",
    "client_comments": "is_shared_now thread_participants",
    "client_actions": "check_format_and_zone check_proposed_times open_request "
    "comments_page ensure_actionable anonymous_ids client_facing_name rating_summary comments_for "
    "undo_deadline rejection_reasons status_label",
    "client_overview": "progress_by_job ratings_for recent_activity open_jobs card_batch neighbours shared_resume "
    "shared_video",
    "importer": "",
    "interview_answers": "client_interview_view declined_times is_further_round request_owner_zone "
    "suggestions_in_zones asker_zone interview_zones interview_candidate_id",
    "interviews": "client_zone company_zone to_utc zone format_in_zone slots_in_zones find_conflicts free_windows "
    "self_schedulable_slots "
    "interviews_for_applications "
    "request_owner check_self_schedule_token",
    "pipeline": "job_list job_board closing_reasons candidate_applications can_edit_job",
    "board": "card_facts shortlist_board",
    "profile_views": "views_by_application",
    "audit_log": "actor_choices audit_page detail_text audit_csv neutralise",
    "pipeline_config": "stages applications_in_stage applications_per_stage reasons",
    "search": "job_label job_choices reason_choices stage_choices value_exists facet_options visibility_tokens plan "
    "query_words meili_filter matches text_has_words search_candidates recheck search_database name_columns",
    "client_profile": "contact_values mentions_contact is_contact_line is_hired what_the_client_sees client_profile "
    "scrub_name "
    "client_sees_contact_details",
    "sharing": "clean_fields interview_requested share_guards declined_message profile_from_template "
    "newly_shared online_message shared_count_by_job job_contacts candidate_resumes decision_deadline "
    "candidate_video_resumes",
    "timezones": "zone_choices grouped_zone_choices valid_zone zone_or_utc",
    "consent": "check_consent_link what_is_shared consent_history channel_label",
    "subject_access": "rows_about mails_to collect_export zip_chunks readme_text",
    "no_ghosting": "at_risk is_overdue not_informed overdue_count compose_status_update reached_client task_key",
    "survey": "survey_token survey_url check_survey_link answer_of survey_scores",
    "scoreboard_facts": "register",
    "tasks": "task_comments_page "
    "tasks_for_inbox open_tasks_for_agency task_application task_interview_request task_for_interview_request "
    "task_assignee missing_for_completion is_overdue agency_workload",
}

# A module whose source names none of these cannot write a document's data (checked, not assumed).
DOCUMENT_DATA = re.compile(
    r"\b(Application|Candidate\w*|Job|Resume|Scorecard|StageHistory|StageDefinition|Reason|"
    r"application_status|pipeline|add_application|job_team)\b"
)


def _public_functions(module) -> set[str]:
    short = module.__name__.rsplit(".", 1)[1]
    return {
        f"{short}.{name}"
        for name, value in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and value.__module__ == module.__name__
    }


def _service_modules():
    for info in pkgutil.iter_modules(portal.services.__path__):
        yield importlib.import_module(f"portal.services.{info.name}")


def test_every_service_that_can_write_document_data_is_walked_or_explained():
    walked = {name.split("#")[0] for name in SCENARIOS}
    reads = {f"{module}.{name}" for module, names in READS_ONLY.items() for name in names.split()}
    assert not walked & set(WRITES_NOTHING_A_DOCUMENT_SHOWS), "listed twice"
    unexplained, unknown = set(), set(walked | reads | set(WRITES_NOTHING_A_DOCUMENT_SHOWS))
    for module in _service_modules():
        functions = _public_functions(module)
        unknown -= functions
        if not DOCUMENT_DATA.search(inspect.getsource(module)):
            continue  # names no document data at all (mail, auth, branding, staff, …)
        unexplained |= functions - walked - reads - set(WRITES_NOTHING_A_DOCUMENT_SHOWS)
    assert not unexplained, (
        f"service functions that may write document data: walk them in SCENARIOS or list them, with a reason, "
        f"in WRITES_NOTHING_A_DOCUMENT_SHOWS: {sorted(unexplained)}"
    )
    assert not unknown, f"listed but not found (renamed or removed?): {sorted(unknown)}"


# The content check -----------------------------------------------------------------------


def test_check_finds_a_document_changed_behind_the_index_and_fix_repairs_it(sctx):
    bench = build_bench()
    index_now()
    runner = sctx.test_cli_runner()
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    candidate_id, hidden_id = bench.application.candidate_id, bench.unshared.candidate_id
    # Behind the index's back: a raw connection, no session, no outbox row.
    with db.engine.begin() as raw:
        raw.execute(update(Candidate).where(Candidate.id == candidate_id).values(headline="Changed quietly"))
        raw.execute(update(Candidate).where(Candidate.id == hidden_id).values(private=True))
        raw.execute(text("DELETE FROM search_outbox"))
    db.session.expire_all()
    assert outbox.backlog() == 0

    found = runner.invoke(args=["search", "check"])
    assert found.exit_code == 1
    assert "agency fresh: 1 stale, 0 missing, 1 extra" in found.output
    assert f"stale: {document_id(bench.agency.id, candidate_id)}" in found.output
    assert f"extra: {document_id(bench.agency.id, hidden_id)}" in found.output

    fixed = runner.invoke(args=["search", "check", "--fix"])
    assert fixed.exit_code == 1 and "Queued 2 document(s) for the worker to rewrite." in fixed.output
    assert outbox.backlog() == 2
    index_now()
    assert runner.invoke(args=["search", "check"]).output.startswith("Index matches the database")


def test_check_finds_missing_documents(sctx):
    bench = build_bench()
    index_now()
    with db.engine.begin() as raw:
        raw.execute(update(Candidate).where(Candidate.id == bench.newcomer.id).values(private=True))
    db.session.expire_all()
    index_now()  # nothing queued: the index still has the now-private person
    result = check()
    assert [(a.agency, a.extra) for a in result.agencies] == [
        ("fresh", [document_id(bench.agency.id, bench.newcomer.id)])
    ]
    with db.engine.begin() as raw:
        raw.execute(update(Candidate).where(Candidate.id == bench.newcomer.id).values(private=False))
        raw.execute(text("DELETE FROM search_outbox"))
    push(client(), index_name(), [], [document_id(bench.agency.id, bench.newcomer.id)])
    result = check()
    assert [(a.stale, a.missing, a.extra) for a in result.agencies] == [
        ([], [document_id(bench.agency.id, bench.newcomer.id)], [])
    ]

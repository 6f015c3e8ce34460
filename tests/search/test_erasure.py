"""Erasure that keeps the numbers, and the suppression of erased addresses (issue 16, item 2).

The person is seeded through the services where one exists (consent asked by e-mail, notes,
replies, resumes), so their data sits wherever the app really puts it; then every text, JSON and
binary column of every table in ``db.metadata``, and the Meilisearch index, is searched by value.
"""

import json
from datetime import timedelta

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, func, select

from portal.extensions import db
from portal.models import (
    Activity,
    Alert,
    Application,
    AuditEntry,
    Candidate,
    CandidateTag,
    Comment,
    MailOutbox,
    Note,
    Rating,
    Scorecard,
    SharedProfile,
    StageHistory,
    SuppressedEmail,
    SurveyAnswer,
    Task,
    VideoResume,
    utcnow,
)
from portal.services import ServiceError, candidate_files, consent, erasure, notes, suppression
from portal.services.activity import record_for
from portal.services.candidates import CandidateInput, create_candidate
from portal.services.client_comments import reply_to_client
from portal.services.importer import import_file
from portal.services.mail import send_mail
from search_sync.client import meili_client
from search_sync.settings import index_name
from tests.documents import make_pdf
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_interview_request,
    make_job,
    make_user,
)
from tests.search.conftest import index_now

FIRST, LAST = "Zebulon", "Quixwellby"
EMAILS = ("zebulon.quixwellby@people.example", "zq.home@elsewhere.example")
PHONE = "+44 7700 900123"
NEEDLES = (FIRST, LAST, f"{FIRST} {LAST}", *EMAILS, PHONE)


def _text_columns():
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON | LargeBinary)]
        if columns:
            yield table, columns


def holders(needles=NEEDLES) -> list[str]:
    """Every table.column (row id) holding one of ``needles``, case-insensitively."""
    found = []
    for table, columns in _text_columns():
        for row in db.session.execute(select(table)).mappings():
            for column in columns:
                value = row[column.name]
                if value is None:
                    continue
                if isinstance(value, bytes):
                    text = value.decode("latin-1")
                elif isinstance(value, str):
                    text = value
                else:
                    text = json.dumps(value, ensure_ascii=False)
                for needle in needles:
                    if needle.lower() in text.lower():
                        found.append(f"{table.name}.{column.name}={needle!r}")
    return found


def job_counts(agency_id: int) -> list[tuple]:
    per_stage = db.session.execute(
        select(Application.job_id, Application.stage_id, Application.outcome, func.count())
        .where(Application.agency_id == agency_id)
        .group_by(Application.job_id, Application.stage_id, Application.outcome)
        .order_by(Application.job_id, Application.stage_id, Application.outcome)
    ).all()
    history = db.session.scalar(select(func.count()).select_from(StageHistory))
    stars = db.session.execute(select(Rating.application_id, Rating.stars).order_by(Rating.id)).all()
    verdicts = db.session.execute(select(Scorecard.application_id, Scorecard.verdict).order_by(Scorecard.id)).all()
    scores = db.session.execute(select(SurveyAnswer.application_id, SurveyAnswer.score)).all()
    return [tuple(per_stage), history, tuple(stars), tuple(verdicts), tuple(scores)]


def seed_person():
    """An agency with the person on two jobs, shared, rated, commented, mailed and consented."""
    now = utcnow()
    agency = make_agency()
    admin = make_user(agency, "admin")
    recruiter = make_user(agency)
    company = make_company(agency)
    contact = make_contact(company)
    job, other_job = make_job(company, recruiter), make_job(company, recruiter)
    person = make_candidate(
        agency,
        first_name=FIRST,
        last_name=LAST,
        phone=PHONE,
        headline=f"{FIRST} {LAST}, Erlang engineer",
        summary=f"Reach {FIRST} on {PHONE}",
        skills="erlang, elixir",
        location="Leeds",
        external_id="ats-zq-1",
    )
    person.emails[0].email = EMAILS[0]
    person.emails.append(type(person.emails[0])(agency_id=agency.id, email=EMAILS[1]))
    person.tags.append(CandidateTag(tag="zebulon-fan"))
    bystander = make_candidate(agency, first_name="Bea", last_name="Bystander")
    application = make_application(job, person)
    application.shared_profile.fields = [
        {"label": "Name", "value": f"{FIRST} {LAST}"},
        {"label": "E-mail", "value": EMAILS[0], "contact": True},
    ]
    closed = make_application(other_job, person, shared=False, outcome="rejected_by_agency")
    closed.outcome_comment = f"{FIRST} took another offer"
    make_application(job, bystander)
    db.session.add_all(
        [
            Rating(agency_id=agency.id, application_id=application.id, contact_id=contact.id, stars=4),
            Scorecard(agency_id=agency.id, application_id=application.id, verdict="yes", notes=f"{FIRST} was sharp"),
            SurveyAnswer(agency_id=agency.id, application_id=closed.id, score=5, comment=f"Thanks, {FIRST} {LAST}"),
            VideoResume(
                agency_id=agency.id, candidate_id=person.id, title=f"{FIRST} intro", url="https://v.example/zq"
            ),
            Comment(agency_id=agency.id, application_id=application.id, author_contact_id=contact.id, body="Strong."),
            Alert(agency_id=agency.id, user_id=recruiter.id, kind="sample", message=f"{FIRST} {LAST} answered"),
            StageHistory(agency_id=agency.id, application_id=application.id, to_stage_id=application.stage_id),
        ]
    )
    db.session.flush()
    slot = (now + timedelta(days=3), now + timedelta(days=3, hours=1))
    request = make_interview_request(application, contact, [slot])
    request.notes = f"Ask {FIRST} about Erlang"
    task = db.session.scalar(select(Task).where(Task.interview_request_id == request.id))
    task.title = f"Organise interview with {FIRST} {LAST}"
    pdf = make_pdf(f"{FIRST} {LAST}", EMAILS[0], PHONE)
    candidate_files.add_resume(person, recruiter, "zq.pdf", pdf, now=now)
    notes.add_candidate_note(person, recruiter, f"{FIRST} prefers calls on {PHONE}", now=now)
    notes.add_job_note(job, recruiter, f"Shortlist: {FIRST} {LAST} and Bea", now=now)
    reply_to_client(recruiter, application, f"{FIRST} {LAST} can start in May", now=now)
    consent.record_consent(person, recruiter, company_id=None, answer="given", channel="phone", given_on=now.date())
    consent.ask_consent(person, recruiter, company_id=company.id, now=now)
    send_mail(agency, "alert", recruiter.email, f"{FIRST} {LAST} replied", "agency_notice", paragraphs=[EMAILS[1]])
    record_for(application, "note", f"Called {FIRST} {LAST} on {PHONE}", actor=recruiter, name=f"{FIRST} {LAST}")
    db.session.commit()
    return agency, admin, recruiter, person, bystander


def test_erasure_leaves_nothing_of_the_person_and_keeps_the_numbers(sctx):
    agency, admin, _, person, bystander = seed_person()
    index_now()
    index = meili_client().index(index_name())
    assert index.search("Quixwellby")["hits"], "the person is searchable before"
    assert len(holders()) > 15
    counts_before = job_counts(agency.id)
    emails_before = db.session.scalar(select(func.count(MailOutbox.id)))

    preview = erasure.erasure_counts(person)
    assert preview == erasure.ErasureCounts(applications_kept=2, emails=2, files=2, notes=1, comments=2, mails=1)
    erasure.erase_candidate(person, admin)
    db.session.commit()
    index_now()

    assert holders() == []
    assert job_counts(agency.id) == counts_before
    assert db.session.scalar(select(func.count(MailOutbox.id))) == emails_before - 1  # the mail to them
    erased = db.session.get_one(Candidate, person.id)
    assert erased.name == f"Erased candidate #{person.id}" and erased.private and erased.erased_at is not None
    assert erased.emails == [] and erased.tags == []
    documents = index.get_documents({"limit": 1000}).results
    assert all(doc.id != f"{agency.id}-{person.id}" for doc in documents)
    for needle in NEEDLES:
        assert index.search(needle)["hits"] == [] or all(
            needle.lower() not in json.dumps(hit).lower() for hit in index.search(needle)["hits"]
        )
    assert not [d for d in documents if any(n.lower() in json.dumps(dict(d)).lower() for n in NEEDLES)]
    assert index.search("Bystander")["hits"], "others stay searchable"
    assert index.search(f"Erased candidate #{person.id}")["hits"] == []
    # The placeholder keeps what the timeline and job history need.
    assert db.session.scalar(select(func.count(Activity.id)).where(Activity.candidate_id == person.id)) >= 3
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "candidate_erased"))
    assert entry.candidate_id == person.id and entry.actor_user_id == admin.id
    assert entry.detail == {"applications_kept": 2, "emails": 2, "files": 2, "notes": 1, "comments": 2, "mails": 1}
    assert db.session.scalar(select(func.count(SuppressedEmail.id))) == 2
    assert not any(e in str(h) for h in db.session.scalars(select(SuppressedEmail.email_hash)) for e in EMAILS)
    assert db.session.get_one(Candidate, bystander.id).name == "Bea Bystander"


def test_only_an_admin_erases_and_only_once(ctx):
    _, admin, recruiter, person, _ = seed_person()
    with pytest.raises(ServiceError):
        erasure.erase_candidate(person, recruiter)
    erasure.erase_candidate(person, admin)
    with pytest.raises(ServiceError, match="erased already"):
        erasure.erase_candidate(person, admin)


def _erased(agency):
    admin = make_user(agency, "admin")
    person = make_candidate(agency, first_name="Ada", last_name="Gone")
    person.emails[0].email = "ada.gone@people.example"
    erasure.erase_candidate(person, admin)
    db.session.commit()
    return admin


def test_new_candidate_with_an_erased_address_is_refused_without_the_override(ctx):
    agency = make_agency()
    admin = _erased(agency)
    values = CandidateInput(first_name="Ada", email="Ada.Gone@People.example")
    with pytest.raises(suppression.SuppressedAddress) as refused:
        create_candidate(admin, values)
    assert refused.value.field == "email" and "asked to be erased" in refused.value.message
    db.session.rollback()
    back = create_candidate(admin, values, override_suppression=True)
    db.session.commit()
    assert back.primary_email == "ada.gone@people.example"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "suppression_overridden"))
    assert entry.candidate_id == back.id and entry.actor_user_id == admin.id and entry.detail == {"addresses": 1}
    assert db.session.scalar(select(func.count(SuppressedEmail.id))) == 0  # the person is back


def test_import_reports_an_erased_address_by_position_unless_overridden(ctx):
    agency = make_agency()
    admin = _erased(agency)
    content = b"first_name,last_name,emails\nNew,Person,new.person@people.example\nAda,Gone,ADA.GONE@people.example\n"
    report = import_file(agency, "people.csv", content, by_user=admin)
    db.session.commit()
    assert report.candidates_created == 1
    (problem,) = report.problems
    assert problem.startswith("line 3: an e-mail of this row belongs to a person who asked to be erased")
    overrides = select(func.count(AuditEntry.id)).where(AuditEntry.action == "suppression_overridden")
    assert db.session.scalar(overrides) == 0

    report = import_file(agency, "people.csv", content, by_user=admin, override_suppression=True)
    db.session.commit()
    assert report.problems == [] and report.candidates_created == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "suppression_overridden"))
    assert entry.actor_user_id == admin.id and entry.candidate_id is not None


def test_the_suppression_is_per_agency(ctx):
    _erased(make_agency())
    other = make_agency()
    admin = make_user(other, "admin")
    create_candidate(admin, CandidateInput(first_name="Ada", email="ada.gone@people.example"))


def test_only_whole_words_are_rewritten(ctx):
    agency = make_agency()
    admin = make_user(agency, role="admin")
    al = make_candidate(agency, first_name="Al", last_name="Lee")
    other = make_candidate(agency, first_name="Sally", last_name="Leeds")
    notes.add_candidate_note(other, admin, "Sales Analyst (Leeds), call Ally; Al Lee referred her")
    db.session.commit()
    erasure.erase_candidate(al, admin)
    db.session.commit()
    (note,) = db.session.scalars(select(Note).where(Note.candidate_id == other.id))
    assert note.body == f"Sales Analyst (Leeds), call Ally; Erased candidate #{al.id} referred her"


def test_nothing_keeps_waiting_on_an_erased_person(ctx):
    agency = make_agency()
    admin = make_user(agency, role="admin")
    job = make_job(make_company(agency), owner=admin)
    application = make_application(job, shared=True)
    now = utcnow()
    application.inform_by_at = now + timedelta(days=3)
    task = Task(
        agency_id=agency.id,
        type="inform_candidate",
        title="Inform the candidate",
        assignee_id=admin.id,
        job_id=job.id,
        application_id=application.id,
        dedupe_key=f"inform_candidate:app{application.id}",
    )
    db.session.add(task)
    db.session.commit()
    erasure.erase_candidate(db.session.get(Candidate, application.candidate_id), admin, now=now)
    db.session.commit()
    db.session.expire_all()
    assert (
        db.session.get(SharedProfile, application.shared_profile.id).unshared_at == now
    )  # the client no longer sees it
    assert db.session.get(Application, application.id).inform_by_at is None  # nothing overdue, nothing to chase
    assert db.session.get(Task, task.id).status == "retracted"
    assert db.session.get(Application, application.id).stage_id == application.stage_id  # the numbers stay


def test_mails_to_an_address_outside_ascii_go_too(ctx):
    agency = make_agency()
    admin = make_user(agency, role="admin")
    zoe = make_candidate(agency, first_name="Zoë", last_name="Ångström")
    zoe.emails[0].email = "zoë@example.com"
    send_mail(
        agency, "sign_in", "zoë@example.com", "Hello", "configured", body="Hi", button_label="Go", url="http://x/y"
    )
    db.session.commit()
    erasure.erase_candidate(zoe, admin)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 0


def test_comments_on_the_persons_tasks_go(ctx):
    from portal.models import TaskComment

    agency = make_agency()
    admin = make_user(agency, role="admin")
    application = make_application(make_job(make_company(agency), owner=admin))
    task = Task(
        agency_id=agency.id, type="follow_up", title="Follow up", assignee_id=admin.id, application_id=application.id
    )
    db.session.add(task)
    db.session.flush()
    db.session.add(TaskComment(task_id=task.id, author_id=admin.id, body="Called her, wants 60k"))
    db.session.commit()
    erasure.erase_candidate(db.session.get(Candidate, application.candidate_id), admin)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TaskComment)) == 0

"""Candidates and notes as services, without HTTP (issue 14, item 1): add and edit a person,
e-mails validated and de-duplicated per agency ignoring case (the unique index as the last guard),
put them on an open job, and notes with their author, time and timeline entry."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, Application, Candidate, CandidateEmail, Note
from portal.services import ServiceError
from portal.services.candidates import (
    CandidateInput,
    EmailTaken,
    _save,
    add_to_job,
    create_candidate,
    open_job_choices,
    update_candidate,
)
from portal.services.notes import add_candidate_note, add_job_note, candidate_notes, job_notes
from tests.agency.conftest import Desk
from tests.factories import make_agency, make_candidate, make_company, make_job, make_user

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _person(**changes) -> CandidateInput:
    values = {
        "first_name": "  Lena ",
        "last_name": "Berg",
        "email": " Lena.Berg@Example.COM ",
        "phone": "+49 30 1234",
        "headline": "Data engineer",
        "current_title": "Senior Data Engineer",
        "current_company": "Globex",
        "location": "Berlin",
        "timezone": "Europe/Berlin",
        "tags": "python, Spark, python ,, airflow",
        "source": "Referral",
    }
    return CandidateInput(**{**values, **changes})


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_cleans_the_input_and_records_who_and_when(desk: Desk):
    person = create_candidate(desk.recruiter, _person(), now=NOW)
    db.session.commit()
    assert (person.first_name, person.last_name, person.primary_email) == ("Lena", "Berg", "lena.berg@example.com")
    assert person.timezone == "Europe/Berlin" and person.added_via == "user" and person.added_by_id == desk.recruiter.id
    assert sorted(t.tag for t in person.tags) == ["Spark", "airflow", "python"]
    entry = db.session.scalar(select(Activity).where(Activity.candidate_id == person.id))
    assert entry.verb == "candidate.created" and entry.summary == "Added Lena Berg" and entry.created_at == NOW


def test_only_a_first_name_is_needed(desk: Desk):
    person = create_candidate(desk.recruiter, CandidateInput(first_name="Solo"), now=NOW)
    assert person.name == "Solo" and person.emails == [] and person.timezone is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"first_name": "   "}, "first_name", "Enter a first name."),
        ({"email": "lena.berg@example"}, "email", "should have a period"),
        ({"email": "lena berg@example.com"}, "email", "invalid characters"),
        ({"email": "lena@@example.com"}, "email", "Enter a valid e-mail address."),
        ({"email": "lena@example.com@"}, "email", "Enter a valid e-mail address."),
        ({"email": "a" * 250 + "@example.com"}, "email", "longer than 254"),
        ({"email": "lena@site.invalid"}, "email", "special-use"),
        ({"timezone": "Factory"}, "timezone", "Choose a timezone from the list."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a timezone from the list."),
        ({"headline": "x" * 301}, "headline", "Keep the headline to 300 characters or fewer."),
        ({"last_name": "x" * 121}, "last_name", "last name"),
        ({"tags": "ok, " + "t" * 81}, "tags", "Keep each tag to 80 characters or fewer."),
        ({"tags": ",".join(f"t{i}" for i in range(31))}, "tags", "At most 30 tags."),
    ],
)
def test_refusals_name_the_field_and_save_nothing(desk: Desk, changes, field, words):
    before = _count(Candidate)
    with pytest.raises(ServiceError) as refused:
        create_candidate(desk.recruiter, _person(**changes), now=NOW)
    assert refused.value.field == field and words in refused.value.message
    db.session.rollback()
    assert _count(Candidate) == before


def test_a_known_email_in_any_case_offers_the_person_who_has_it(desk: Desk):
    known = desk.candidate.primary_email
    with pytest.raises(EmailTaken) as refused:
        create_candidate(desk.recruiter, _person(email=known.upper()), now=NOW)
    assert refused.value.owner.id == desk.candidate.id
    assert refused.value.message == "This e-mail belongs to Kavya Rao: open their page."
    assert refused.value.field == "email"


def test_another_agencys_address_is_no_duplicate(desk: Desk):
    other = make_agency("elsewhere")
    theirs = make_candidate(other)
    person = create_candidate(desk.recruiter, _person(email=theirs.primary_email), now=NOW)
    assert person.primary_email == theirs.primary_email and person.agency_id == desk.recruiter.agency_id


def test_the_unique_index_gives_the_same_answer_when_the_check_is_overtaken(desk: Desk):
    """Another transaction saved the address between the check and the write: the index refuses
    the write, the service answers as the check would, and the transaction stays usable."""
    known = desk.candidate.primary_email
    late = Candidate(agency_id=desk.candidate.agency_id, first_name="Late")
    late.emails.append(CandidateEmail(agency_id=desk.candidate.agency_id, email=known))
    with pytest.raises(EmailTaken) as refused:
        _save(late, known, lambda: db.session.add(late))
    assert refused.value.owner.id == desk.candidate.id
    assert db.session.scalar(select(func.count()).select_from(CandidateEmail).where(CandidateEmail.email == known)) == 1


def test_update_changes_the_fields_and_says_which(desk: Desk):
    values = CandidateInput.of(desk.candidate)
    assert values.first_name == "Kavya" and values.timezone == "Asia/Kolkata"
    changed = CandidateInput(**{**vars(values), "email": "KAVYA@new.example", "tags": "rust", "timezone": ""})
    update_candidate(desk.candidate, desk.recruiter, changed, now=NOW)
    db.session.commit()
    person = db.session.get(Candidate, desk.candidate.id)
    assert person.primary_email == "kavya@new.example" and person.timezone is None
    assert [t.tag for t in person.tags] == ["rust"]
    entry = db.session.scalar(select(Activity).where(Activity.verb == "candidate.updated"))
    assert entry.summary == "Edited Kavya Rao: email, timezone, tags" and entry.created_at == NOW


def test_update_keeps_its_own_address_and_refuses_anothers(desk: Desk):
    same = CandidateInput.of(desk.candidate)
    update_candidate(desk.candidate, desk.recruiter, same, now=NOW)
    assert db.session.scalar(select(Activity).where(Activity.verb == "candidate.updated")) is None
    other = make_candidate(desk.recruiter.agency, first_name="Omar", last_name="Haddad")
    taken = CandidateInput(**{**vars(same), "email": other.primary_email.title()})
    with pytest.raises(EmailTaken) as refused:
        update_candidate(desk.candidate, desk.recruiter, taken, now=NOW)
    assert refused.value.owner.id == other.id


def test_an_edit_promotes_another_of_their_addresses_and_never_drops_them_silently(desk: Desk):
    first = desk.candidate.primary_email
    desk.candidate.emails.append(CandidateEmail(agency_id=desk.candidate.agency_id, email="kavya@second.example"))
    db.session.commit()
    values = CandidateInput.of(desk.candidate)
    update_candidate(
        desk.candidate, desk.recruiter, CandidateInput(**{**vars(values), "email": "Kavya@Second.example"})
    )
    db.session.commit()
    person = db.session.get(Candidate, desk.candidate.id)
    assert [e.email for e in person.emails] == ["kavya@second.example", first]
    with pytest.raises(ServiceError) as refused:
        update_candidate(person, desk.recruiter, CandidateInput(**{**vars(values), "email": ""}), now=NOW)
    assert refused.value.field == "email" and "other e-mail addresses" in refused.value.message
    db.session.rollback()
    assert len(db.session.get(Candidate, desk.candidate.id).emails) == 2


def test_add_to_job_puts_them_on_an_open_job_once(desk: Desk):
    person = create_candidate(desk.recruiter, _person(), now=NOW)
    application = add_to_job(person, desk.job.id, desk.recruiter, now=NOW)
    assert application.stage.position == min(s.position for s in desk.recruiter.agency.stages)
    assert application.applied_at == NOW
    with pytest.raises(ServiceError, match="already on Widget Engineer") as again:
        add_to_job(person, desk.job.id, desk.recruiter, now=NOW)
    assert again.value.field == "job_id"
    assert _count(Application) == 2


def test_add_to_job_refuses_closed_hidden_and_foreign_jobs(desk: Desk):
    person = create_candidate(desk.recruiter, _person(), now=NOW)
    closed = make_job(desk.job.company, desk.admin, title="Old role", status="closed")
    hidden = make_job(desk.job.company, desk.admin, title="Stealth", confidential=True)
    foreign = make_job(make_company(make_agency("far")), make_user(make_agency("far2")), title="Far")
    with pytest.raises(ServiceError, match="Old role is closed"):
        add_to_job(person, closed.id, desk.recruiter, now=NOW)
    for job_id in (hidden.id, foreign.id, None):
        with pytest.raises(ServiceError, match="Choose one of the open jobs"):
            add_to_job(person, job_id, desk.recruiter, now=NOW)


def test_the_job_picker_names_each_jobs_client(desk: Desk):
    other_client = make_company(desk.recruiter.agency, name="Acme")
    twin = make_job(other_client, desk.recruiter, title="Widget Engineer")
    make_job(other_client, desk.recruiter, title="Closed", status="closed")
    assert open_job_choices(desk.recruiter) == [
        (twin.id, "Widget Engineer — Acme"),
        (desk.job.id, "Widget Engineer — Hudson Widgets"),
    ]


def test_notes_record_author_time_and_a_timeline_entry(desk: Desk):
    note = add_candidate_note(desk.candidate, desk.recruiter, "  Prefers remote.\nAvailable in March. ", now=NOW)
    job_note = add_job_note(desk.job, desk.admin, "Client wants two rounds.", now=NOW)
    db.session.commit()
    assert note.body == "Prefers remote.\nAvailable in March." and note.author_id == desk.recruiter.id
    assert [n.id for n in candidate_notes(desk.candidate)] == [note.id]
    assert [n.id for n in job_notes(desk.job)] == [job_note.id]
    entries = db.session.scalars(select(Activity).where(Activity.verb == "note.added").order_by(Activity.id)).all()
    assert [(e.candidate_id, e.job_id, e.summary) for e in entries] == [
        (desk.candidate.id, None, "Note: Prefers remote. Available in March."),
        (None, desk.job.id, "Note: Client wants two rounds."),
    ]
    assert all(e.created_at == NOW for e in entries)


def test_notes_refuse_empty_too_long_and_foreign(desk: Desk):
    for body, words in (("  ", "Write the note first."), ("x" * 5001, "5,000 characters or fewer")):
        with pytest.raises(ServiceError, match=words) as refused:
            add_candidate_note(desk.candidate, desk.recruiter, body, now=NOW)
        assert refused.value.field == "body"
    stranger = make_user(make_agency("strangers"))
    with pytest.raises(ServiceError):
        add_job_note(desk.job, stranger, "Hello", now=NOW)
    assert _count(Note) == 0

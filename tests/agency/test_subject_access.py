"""Subject access (issue 16, item 3): "Export everything we hold" gives an admin a ZIP holding
every row the database keeps about one person, their files byte for byte and a README.

The completeness check does not trust a list: it reads every table, works out from the foreign
keys which rows refer to the candidate (directly or through another such row), and looks for
each one in data.json."""

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import LargeBinary, select

from portal.extensions import db
from portal.models import (
    Application,
    AuditEntry,
    Candidate,
    CandidateEmail,
    CandidateTag,
    MailOutbox,
    ProfileView,
    Resume,
    Scorecard,
    StageHistory,
    SurveyAnswer,
    Task,
    User,
    as_utc,
    utcnow,
)
from portal.services import candidate_files, client_actions, consent, notes, tasks
from portal.services.audit import record_audit
from portal.services.subject_access import LINK_WITHHELD, SECRET_COLUMN
from tests.conftest import csrf_token, login_as
from tests.documents import make_docx, make_pdf
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_job,
    make_user,
    make_workspace_samples,
)

# Tables the seeded person must have rows in, so the walk below is known to cover them.
SEEDED_TABLES = {
    "candidate",
    "candidate_email",
    "candidate_tag",
    "consent_record",
    "resume",
    "video_resume",
    "note",
    "activity",
    "application",
    "stage_history",
    "shared_profile",
    "rating",
    "comment",
    "scorecard",
    "interview_request",
    "proposed_slot",
    "interview",
    "task",
    "task_checklist_item",
    "task_comment",
    "alert",
    "survey_answer",
    "profile_view",
}


@dataclass
class Seeded:
    """Ids only (no ORM rows outlive the set-up)."""

    candidate_id: int
    other_candidate_id: int
    other_email: str
    admin_id: int
    recruiter_id: int
    other_agency_admin_id: int
    consent_token: str


def _seed(now: datetime) -> Seeded:
    agency = make_agency("holders", name="Holders Recruiting")
    admin = make_user(agency, "admin", name="Ada Admin")
    recruiter = make_user(agency, name="Rhea Recruiter")
    company = make_company(agency, name="Hudson Widgets")
    contact = make_contact(company, name="Nia Client")
    job = make_job(company, recruiter, title="Widget Engineer")
    person = make_candidate(agency, first_name="Kavya", last_name="Rao", phone="+44 20 7946 0001")
    person.emails.append(CandidateEmail(agency_id=agency.id, email="kavya.second@people.example"))
    person.emails.append(CandidateEmail(agency_id=agency.id, email="kavyä@people.example"))
    person.tags = [CandidateTag(tag="python")]
    other = make_candidate(agency, first_name="Otto", last_name="Other")
    application = make_application(job, person)
    other_application = make_application(job, other)
    db.session.add(StageHistory(agency_id=agency.id, application_id=application.id, to_stage_id=application.stage_id))
    db.session.add(Scorecard(agency_id=agency.id, application_id=application.id, verdict="yes", notes="Sharp."))
    db.session.add(SurveyAnswer(agency_id=agency.id, application_id=application.id, score=4, comment="Kind."))
    db.session.add(Scorecard(agency_id=agency.id, application_id=other_application.id, verdict="no"))
    db.session.flush()
    candidate_files.add_resume(person, recruiter, "Kavya CV.pdf", make_pdf("Kavya Rao", "Zanzibarite"), now=now)
    candidate_files.add_resume(person, recruiter, "cv.docx", make_docx("Quokkanomics"), now=now)
    candidate_files.add_resume(other, recruiter, "otto.pdf", make_pdf("Otto Other"), now=now)
    candidate_files.add_video_resume(person, recruiter, "https://video.example/kavya", "Hello", now=now)
    notes.add_candidate_note(person, recruiter, "Prefers mornings.", now=now)
    notes.add_candidate_note(other, recruiter, "Otto's note.", now=now)
    client_actions.rate(contact, application, 5, now=now)
    client_actions.add_comment(contact, application, "Strong profile.", now=now)
    resume_id = db.session.scalar(select(Resume.id).where(Resume.candidate_id == person.id).order_by(Resume.id))
    db.session.add(
        ProfileView(agency_id=agency.id, application_id=application.id, contact_id=contact.id, kind="profile")
    )
    db.session.add(
        ProfileView(
            agency_id=agency.id,
            application_id=application.id,
            contact_id=contact.id,
            kind="resume_download",
            resume_id=resume_id,
        )
    )
    asked = consent.ask_consent(person, recruiter, company_id=company.id, now=now)
    # A message to the person and someone else: only the person's address may appear.
    db.session.add(
        MailOutbox(
            agency_id=agency.id,
            kind="test",
            sender="Holders <portal@localhost>",
            recipients=["kavya.second@people.example", "bystander@elsewhere.example"],
            subject="For two",
            text_body="Hello both.",
        )
    )
    # Stored as JSON text, where this address is written with a \u escape.
    db.session.add(
        MailOutbox(
            agency_id=agency.id,
            kind="test",
            sender="Holders <portal@localhost>",
            recipients=["kavyä@people.example"],
            subject="Beyond ASCII",
            text_body="Hello.",
        )
    )
    record_audit("import_run", agency_id=agency.id, actor=admin, candidate_id=person.id, now=now, rows=1)
    record_audit("import_run", agency_id=agency.id, actor=admin, candidate_id=other.id, now=now, rows=1)
    db.session.commit()
    workspace = make_workspace_samples(application, recruiter)  # interview request, slots, interview, task, alert
    task = db.session.get_one(Task, workspace["task_id"])
    tasks.comment_on_task(task, recruiter, "Called Kavya.")
    other_agency = make_agency("elsewhere")
    other_admin = make_user(other_agency, "admin")
    db.session.commit()
    return Seeded(
        person.id,
        other.id,
        other.primary_email or "",
        admin.id,
        recruiter.id,
        other_admin.id,
        consent.consent_token(asked),
    )


@pytest.fixture
def seeded(ctx) -> Seeded:
    return _seed(utcnow())


def _export(app, seeded: Seeded, user_id: int | None = None, token: bool = True):
    client = app.test_client()
    login_as(client, db.session.get_one(User, user_id or seeded.admin_id))
    data = {"csrf_token": csrf_token(client)} if token else {}
    return client.post(f"/agency/candidates/{seeded.candidate_id}/export", data=data)


def _unzip(response) -> tuple[dict, zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert archive.testzip() is None
    return json.loads(archive.read("data.json")), archive


def rows_referring_to(candidate_id: int) -> dict[str, list[dict]]:
    """Every row of every table that refers to the candidate through foreign keys, found by
    reading each table whole and following the keys in Python until nothing new turns up."""
    tables = db.metadata.sorted_tables
    everything = {t: [dict(r) for r in db.session.execute(select(t)).mappings()] for t in tables}
    about = {t: [] for t in tables}
    candidate_table = db.metadata.tables["candidate"]
    about[candidate_table] = [r for r in everything[candidate_table] if r["id"] == candidate_id]
    changed = True
    while changed:
        changed = False
        for table in tables:
            for row in everything[table]:
                if row in about[table]:
                    continue
                if any(
                    row[key.parent.name] is not None
                    and any(parent[key.column.name] == row[key.parent.name] for parent in about[key.column.table])
                    for key in table.foreign_keys
                ):
                    about[table].append(row)
                    changed = True
    return {t.name: rows for t, rows in about.items() if rows}


def _as_exported(value):
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value


def test_the_export_holds_every_row_that_refers_to_the_person(app, seeded):
    response = _export(app, seeded)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    assert 'attachment; filename="candidate-' in response.headers["Content-Disposition"]
    data, _ = _unzip(response)

    expected = rows_referring_to(seeded.candidate_id)
    assert set(expected) >= SEEDED_TABLES, SEEDED_TABLES - set(expected)
    missing, different = [], []
    for name, rows in expected.items():
        table = db.metadata.tables[name]
        key_columns = [c.name for c in table.primary_key.columns]
        exported = {tuple(r[k] for k in key_columns): r for r in data["tables"].get(name, [])}
        for row in rows:
            found = exported.get(tuple(row[k] for k in key_columns))
            if found is None:
                missing.append(f"{name} {[row[k] for k in key_columns]}")
                continue
            for column in table.columns:
                withheld = isinstance(column.type, LargeBinary) or SECRET_COLUMN.search(column.name)
                if withheld:
                    assert column.name not in found
                elif found[column.name] != _as_exported(row[column.name]):
                    different.append(f"{name}.{column.name}: {found[column.name]!r} != {row[column.name]!r}")
    assert missing == [] and different == []
    # Nothing that does not refer to them: every exported table row is one of the expected.
    for name, rows in data["tables"].items():
        if name in ("mail_outbox", "audit_entry"):
            continue
        assert len(rows) == len(expected[name]), name


def test_mails_to_the_person_and_audit_entries_naming_them_are_in_without_links_or_bystanders(app, seeded):
    data, _ = _unzip(_export(app, seeded))
    mails = data["tables"]["mail_outbox"]
    addresses = set(
        db.session.scalars(select(CandidateEmail.email).where(CandidateEmail.candidate_id == seeded.candidate_id))
    )
    expected = [
        m.id for m in db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)) if addresses & set(m.recipients)
    ]
    assert [m["id"] for m in mails] == expected
    assert len(mails) == 3, [m["subject"] for m in mails]
    for_two = next(m for m in mails if m["subject"] == "For two")
    assert (for_two["recipients"], for_two["other_recipients"]) == (["kavya.second@people.example"], 1)
    asked = next(m for m in mails if m["kind"] != "test")
    assert LINK_WITHHELD in asked["text_body"]

    text = json.dumps(data)
    assert seeded.consent_token not in text
    assert "bystander@elsewhere.example" not in text
    audit = data["tables"]["audit_entry"]
    assert [(a["action"], a["candidate_id"]) for a in audit] == [("import_run", seeded.candidate_id)]
    staff = data["people_named"]["user"]
    assert {p["name"] for p in staff.values()} >= {"Ada Admin", "Rhea Recruiter"}
    assert {p["name"] for p in data["people_named"]["client_contact"].values()} == {"Nia Client"}


def test_files_are_in_byte_for_byte_and_nothing_of_another_person_is(app, seeded):
    data, archive = _unzip(_export(app, seeded))
    resumes = db.session.scalars(select(Resume).where(Resume.candidate_id == seeded.candidate_id)).all()
    assert len(resumes) == 2
    paths = {f["id"]: f["path"] for f in data["files"]}
    for resume in resumes:
        assert archive.read(paths[resume.id]) == resume.content
    assert sorted(n for n in archive.namelist() if n.startswith("files/")) == sorted(paths.values())

    text = archive.read("data.json").decode()
    assert "Otto" not in text and seeded.other_email not in text
    assert all(r.get("candidate_id") in (None, seeded.candidate_id) for rows in data["tables"].values() for r in rows)
    for forbidden in ("password_hash", "totp_secret", "session_version"):
        assert f'"{forbidden}"' not in text
    hashes = db.session.scalars(select(User.password_hash)).all()
    assert not any(h and h in text for h in hashes)


def test_the_readme_explains_every_exported_table_and_field_from_the_models(app, seeded):
    data, archive = _unzip(_export(app, seeded))
    readme = archive.read("README.txt").decode()
    assert "Everything Holders Recruiting holds about Kavya Rao" in readme
    for name, rows in data["tables"].items():
        assert f"\nTable {name}\n" in readme
        for column in rows[0] if rows else []:
            if column != "other_recipients":
                assert f"  {column} (" in readme, (name, column)
    # A model's docstring and the comment written beside a column both reach the README.
    assert "The candidate's answer to being presented" in readme
    assert "No-ghosting (issue 15)" in readme


def test_the_export_is_recorded_in_the_audit_log(app, seeded):
    before = db.session.scalars(select(AuditEntry.id)).all()
    data, _ = _unzip(_export(app, seeded))
    db.session.expire_all()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.id.notin_(before)))
    assert entry is not None
    assert (entry.action, entry.actor_user_id, entry.candidate_id) == (
        "candidate_exported",
        seeded.admin_id,
        seeded.candidate_id,
    )
    assert entry.detail == {"rows": sum(len(r) for r in data["tables"].values()), "files": 2}


def test_only_the_agencys_admins_may_export(app, seeded):
    assert _export(app, seeded, seeded.recruiter_id).status_code == 404
    assert _export(app, seeded, seeded.other_agency_admin_id).status_code == 404
    assert _export(app, seeded, token=False).status_code == 400
    stranger = app.test_client()
    anonymous = stranger.post(
        f"/agency/candidates/{seeded.candidate_id}/export", data={"csrf_token": csrf_token(stranger)}
    )
    assert anonymous.status_code in (302, 303, 401)
    db.session.expire_all()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "candidate_exported")) is None


def test_the_button_is_on_the_candidate_page_for_admins_only(app, seeded):
    label = "Export everything we hold"
    for user_id, shown in ((seeded.admin_id, True), (seeded.recruiter_id, False)):
        client = app.test_client()
        login_as(client, db.session.get_one(User, user_id))
        page = client.get(f"/agency/candidates/{seeded.candidate_id}").get_data(as_text=True)
        assert (label in page) is shown
        assert (f'action="/agency/candidates/{seeded.candidate_id}/export"' in page) is shown


def test_a_large_file_streams_in_pieces(app, ctx):
    now = utcnow()
    agency = make_agency("big")
    admin = make_user(agency, "admin")
    person = make_candidate(agency)
    candidate_files.add_resume(person, admin, "big.pdf", make_pdf(*(f"Line {n}" for n in range(3000))), now=now)
    db.session.commit()
    client = app.test_client()
    login_as(client, admin)
    response = client.post(f"/agency/candidates/{person.id}/export", data={"csrf_token": csrf_token(client)})
    pieces = list(response.response)
    assert len(pieces) > 3
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    (path,) = [n for n in archive.namelist() if n.startswith("files/")]
    assert archive.read(path) == db.session.scalar(select(Resume.content).where(Resume.candidate_id == person.id))


def test_other_peoples_addresses_in_rows_about_the_person_are_masked(app, seeded):
    from portal.services.activity import record_for

    candidate = db.session.get(Candidate, seeded.candidate_id)
    own = candidate.emails[0].email
    application = db.session.scalars(select(Application).where(Application.candidate_id == candidate.id)).first()
    record_for(
        application,
        "mail.sent",
        "Invitation sent",
        recipients=[own, "clara@client.example"],
        note="cc rhea@agency.example",
    )
    db.session.commit()
    data, _ = _unzip(_export(app, seeded))
    entry = next(a for a in data["tables"]["activity"] if a["verb"] == "mail.sent")
    assert entry["detail"] == {
        "recipients": [own, "[another person's address]"],
        "note": "cc [another person's address]",
    }
    assert "clara@client.example" not in json.dumps(data)

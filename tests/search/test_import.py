"""Import (S6): idempotent by external_id, merged by e-mail, bad rows reported, good rows kept;
from the upload page and from ``flask import candidates``."""

import io
import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Activity,
    Agency,
    Application,
    Candidate,
    CandidateEmail,
    Comment,
    Job,
    Rating,
    Scorecard,
    SearchOutbox,
    StageHistory,
    as_utc,
)
from portal.services.importer import import_file
from portal.services.search import Criteria, search_candidates
from portal.unit_of_work import unit_of_work
from tests.conftest import TEST_DATABASE, csrf_token, login_as
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_job,
    make_tenant,
    make_user,
)
from tests.search.conftest import index_now

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def counts() -> tuple[int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Candidate, CandidateEmail, Application, Scorecard)
    )


@pytest.mark.parametrize("sample", ["past-applicants.json", "past-applicants.csv"])
def test_sample_files_import_and_reimport_changes_nothing(sctx, sample):
    agency = make_agency()
    make_user(agency, "admin")
    content = (SAMPLES / sample).read_bytes()
    first = import_file(agency, sample, content)
    assert first.problems == []
    after_first = counts()
    second = import_file(agency, sample, content)
    assert second.problems == [] and second.candidates_created == 0 and second.applications_created == 0
    assert counts() == after_first


def test_the_import_leaves_the_commit_to_its_caller(sctx):
    agency = make_agency()
    make_user(agency, "admin")
    db.session.commit()
    report = import_file(agency, "past-applicants.json", (SAMPLES / "past-applicants.json").read_bytes())
    assert report.candidates_created == 2 and counts() != (0, 0, 0, 0)
    db.session.rollback()
    assert counts() == (0, 0, 0, 0)


def test_people_are_merged_by_email_case_insensitively_and_searchable_once(sctx):
    agency = make_agency()
    admin = make_user(agency, "admin")
    existing = make_candidate(agency, first_name="Mara", last_name="Stephenson")
    existing.emails[0].email = "mara@example.com"
    db.session.commit()
    report = import_file(agency, "past-applicants.json", (SAMPLES / "past-applicants.json").read_bytes())
    db.session.commit()
    assert report.candidates_created == 1 and report.candidates_updated == 1  # Ola new, Mara merged
    maras = db.session.scalars(select(Candidate).where(Candidate.first_name == "Mara")).all()
    assert [m.id for m in maras] == [existing.id] and maras[0].external_id == "C1"
    index_now()
    hits = search_candidates(admin, Criteria(q="mara")).hits
    assert [hit["candidate_id"] for hit in hits] == [existing.id]
    assert hits[0]["latest"]["stage"] == "Interview"


def test_imported_applications_are_added_by_the_pipeline_rule_on_their_own_dates(sctx):
    agency = make_agency()
    make_user(agency, "admin")
    existing = make_candidate(agency, first_name="Mara", last_name="Stephenson", looking_for_work=False)
    existing.emails[0].email = "mara@example.com"
    db.session.commit()
    import_file(agency, "past-applicants.json", (SAMPLES / "past-applicants.json").read_bytes())
    db.session.commit()

    application = db.session.scalar(select(Application).where(Application.external_id == "A1"))
    stages = {s.name: s for s in agency.stages}
    history = db.session.scalars(
        select(StageHistory).where(StageHistory.application_id == application.id).order_by(StageHistory.id)
    ).all()
    reached = [s.id for s in agency.stages if s.position <= stages["Interview"].position]
    assert [h.to_stage_id for h in history] == reached
    assert [h.from_stage_id for h in history] == [None, *reached[:-1]]
    assert {as_utc(h.moved_at) for h in history} == {datetime(2025, 3, 1, 9, 0, tzinfo=UTC)}
    assert (application.stage_id, application.outcome) == (stages["Interview"].id, "rejected_by_agency")
    # History, not today's news: an import does not fill the timelines with "Added …" entries.
    assert db.session.scalars(select(Activity).where(Activity.verb == "application.created")).all() == []
    # A past application says nothing about looking for work today.
    assert db.session.get(Candidate, existing.id).looking_for_work is False


@pytest.mark.parametrize(
    ("application", "message"),
    [
        ({"status": "maybe"}, "status must be one of active, rejected, hired, withdrawn, not 'maybe'"),
        ({"furthest_stage": "Moon landing"}, "furthest_stage 'Moon landing' is not one of the agency's stages"),
        ({"job": "J404"}, "job 'J404' is not in the file or the agency"),
        ({"scorecards": [{"verdict": "meh"}]}, "verdict must be one of strong_yes, yes, no, strong_no, not 'meh'"),
        ({"applied_at": "yesterday"}, "applied_at 'yesterday' is not an ISO 8601 date-time"),
    ],
)
def test_a_bad_row_is_reported_with_position_and_reason_and_the_rest_kept(sctx, application, message):
    agency = make_agency()
    make_user(agency, "admin")
    export = json.loads((SAMPLES / "past-applicants.json").read_text())
    export["applications"][0].update(application)
    report = import_file(agency, "x.json", json.dumps(export).encode())
    assert report.problems == [f"applications[0]: {message}"]
    assert report.applications_created == 1 and report.candidates_created == 2
    assert db.session.scalar(select(func.count()).select_from(Scorecard)) == 0


def test_malformed_rows_are_reported_by_position_and_every_good_row_is_kept(sctx):
    agency = make_agency()
    make_user(agency, "admin")
    good = [{"external_id": f"G{n}", "first_name": f"Good{n}", "emails": [f"good{n}@example.com"]} for n in range(6)]
    bad = [
        {"external_id": "B0", "first_name": "Listless", "emails": ["b0@example.com"], "tags": 5},
        {"external_id": "B1", "first_name": "x" * 121, "emails": ["b1@example.com"]},
        {"external_id": "B2", "first_name": "Nul\x00Byte", "emails": ["b2@example.com"]},
        {"external_id": "B3", "first_name": "Maybe", "emails": ["b3@example.com"], "private": "maybe"},
        {"external_id": "G0", "first_name": "Twice", "emails": ["twice@example.com"]},
    ]
    hidden = {"external_id": "P0", "first_name": "Visible", "emails": ["p0@example.com"], "private": "false"}
    candidates = [*good[:3], *bad, hidden, *good[3:]]
    report = import_file(agency, "x.json", json.dumps({"candidates": candidates}).encode())
    assert report.problems == [
        "candidates[3]: tags must be a list of texts",
        "candidates[4]: first_name is longer than 120 characters",
        "candidates[5]: first_name contains a NUL byte",
        "candidates[6]: private must be true or false, not 'maybe'",
        "candidates[7]: external_id 'G0' appears earlier in the file",
    ]
    assert report.candidates_created == 7
    db.session.commit()
    names = set(db.session.scalars(select(Candidate.first_name)))
    assert names == {f"Good{n}" for n in range(6)} | {"Visible"}
    # "false" is false: the person stays searchable.
    assert db.session.scalar(select(Candidate.private).where(Candidate.external_id == "P0")) is False


def test_csv_bad_row_names_its_line(sctx):
    agency = make_agency()
    make_user(agency, "admin")
    csv = (SAMPLES / "past-applicants.csv").read_text().replace("ava@example.com;", "not-an-email;")
    report = import_file(agency, "x.csv", csv.encode())
    assert report.problems == [
        "line 3: 'not-an-email' is not a valid e-mail address (An email address must have an @-sign.)"
    ]
    assert report.candidates_created == 2


@pytest.mark.parametrize(
    ("emails", "reason"),
    [
        ([], "no e-mail address (people are merged by e-mail, so every candidate needs one)"),
        (["  "], "no e-mail address (people are merged by e-mail, so every candidate needs one)"),
        (["ada@example"], "'ada@example' is not a valid e-mail address (The part after the @-sign is not valid."),
        (["ada@exam ple.com"], "'ada@exam ple.com' is not a valid e-mail address ("),
        (["ok@example.com", "ada@@example.com"], "'ada@@example.com' is not a valid e-mail address ("),
    ],
)
def test_rows_without_a_valid_email_are_refused_with_position_and_reason(sctx, emails, reason):
    agency = make_agency()
    make_user(agency, "admin")
    rows = [{"first_name": "Good", "emails": ["good@example.com"]}, {"first_name": "Ada", "emails": emails}]
    report = import_file(agency, "x.json", json.dumps({"candidates": rows}).encode())
    assert len(report.problems) == 1 and report.problems[0].startswith(f"candidates[1]: {reason}")
    assert report.candidates_created == 1 and counts()[:2] == (1, 1)


def test_a_merge_keeps_a_typed_name_and_reports_every_change_by_row(sctx):
    agency = make_agency()
    make_user(agency, "admin")
    typed = make_candidate(agency, first_name="Ava", last_name="Rossi", headline="PM")
    typed.emails[0].email = "ava@example.com"
    db.session.commit()
    csv = (SAMPLES / "past-applicants.csv").read_text().replace("C11,Ava,Rossi,", "C11,Ava,R.,")
    report = import_file(agency, "x.csv", csv.encode())
    db.session.commit()
    person = db.session.get(Candidate, typed.id)
    assert person.name == "Ava Rossi" and person.headline == "Product manager" and person.external_id == "C11"
    assert report.problems == [] and report.candidates_updated == 1
    assert report.changes == [
        (
            'line 3: Ava Rossi (merged by e-mail ava@example.com): name kept as "Ava Rossi" (the file says "Ava R."); '
            'headline "PM" → "Product manager"; current title set to "Product Manager"; '
            'current company set to "Stark"; location set to "Remote"; source set to "Website"; '
            "e-mails added: ava.rossi@example.org; tags added: product"
        )
    ]
    again = import_file(agency, "x.csv", csv.encode())
    assert again.changes == [
        'line 3: Ava Rossi (already here as C11): name kept as "Ava Rossi" (the file says "Ava R.")'
    ]


def test_an_imported_name_follows_the_file_and_says_so(sctx):
    agency = make_agency()
    make_user(agency, "admin")
    import_file(agency, "x.csv", (SAMPLES / "past-applicants.csv").read_bytes())
    db.session.commit()
    csv = (SAMPLES / "past-applicants.csv").read_text().replace("C10,Liam,Okafor,", "C10,William,Okafor,")
    report = import_file(agency, "x.csv", csv.encode())
    assert report.changes == ['line 2: Liam Okafor (already here as C10): name "Liam Okafor" → "William Okafor"']
    assert db.session.scalar(select(Candidate.first_name).where(Candidate.external_id == "C10")) == "William"


def test_admins_import_from_the_upload_page_and_see_changes_and_refusals(sctx):
    agency = make_agency()
    admin, recruiter = make_user(agency, "admin"), make_user(agency)
    typed = make_candidate(agency, first_name="Liam", last_name="O.")
    typed.emails[0].email = "liam@example.com"
    db.session.commit()
    client = sctx.test_client()
    login_as(client, recruiter)
    assert client.get("/search/import").status_code == 200
    assert 'href="/search/import"' in client.get("/search").get_data(as_text=True)
    client = sctx.test_client()
    login_as(client, admin)
    assert client.get("/search/import").status_code == 200
    assert 'href="/search/import"' in client.get("/search").get_data(as_text=True)
    csv = (SAMPLES / "past-applicants.csv").read_text().replace("chen@example.com", "chen@example")
    response = client.post(
        "/search/import",
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(csv.encode()), "p.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 candidate(s) created, 1 updated" in html and "1 row(s) refused" in html
    assert "line 4: &#39;chen@example&#39; is not a valid e-mail address" in html
    assert "line 2: Liam O. (merged by e-mail liam@example.com): name kept as &#34;Liam O.&#34;" in html


def recruiters_agency():
    """A recruiter, a colleague's confidential job with a person only on it, and a job of the
    recruiter's own (confidential, they alone on its team)."""
    agency = make_agency()
    admin, recruiter, colleague = make_user(agency, "admin"), make_user(agency), make_user(agency)
    company = make_company(agency, name="Acme")
    secret = make_job(company, colleague, title="Secret role", confidential=True, external_id="J-SECRET", status="open")
    hidden = make_candidate(agency, first_name="Hidden", last_name="Person", external_id="C-HIDDEN")
    hidden.emails[0].email = "hidden@example.com"
    make_application(secret, hidden)
    mine = make_job(company, recruiter, title="My role", confidential=True, external_id="J-MINE", status="open")
    db.session.commit()
    return agency, admin, recruiter, colleague, secret, hidden, mine


def test_a_recruiters_file_cannot_touch_a_confidential_job_they_are_not_on(sctx):
    agency, _, recruiter, colleague, secret, _, _ = recruiters_agency()
    applied = {"external_id": "A1", "candidate": "C-NEW", "job": "J-SECRET", "status": "hired"}
    export = {
        "jobs": [{"external_id": "J-SECRET", "title": "Renamed", "client": "Acme", "status": "closed"}],
        "candidates": [{"external_id": "C-NEW", "first_name": "New", "emails": ["new@example.com"]}],
        "applications": [applied],
    }
    report = import_file(agency, "x.json", json.dumps(export).encode(), by_user=recruiter)
    db.session.commit()
    assert report.problems == [
        "jobs[0]: job 'J-SECRET' is not one of your jobs",
        "applications[0]: job 'J-SECRET' is not one of your jobs",
    ]
    job = db.session.get(type(secret), secret.id)
    assert (job.title, job.status, job.confidential) == ("Secret role", "open", True)
    assert [u.id for u in job.hiring_team] == [colleague.id]
    assert db.session.scalar(select(func.count()).select_from(Application).where(Application.job_id == job.id)) == 1
    assert report.candidates_created == 1  # the good row is kept


def test_a_recruiter_cannot_flip_confidential_or_the_team_of_their_job(sctx):
    agency, _, recruiter, colleague, _, _, mine = recruiters_agency()
    export = {
        "jobs": [
            {
                "external_id": "J-MINE",
                "title": "My role",
                "client": "Acme",
                "confidential": False,
                "hiring_team": [colleague.email],
            }
        ]
    }
    report = import_file(agency, "x.json", json.dumps(export).encode(), by_user=recruiter)
    db.session.commit()
    job = db.session.get(type(mine), mine.id)
    assert job.confidential is True and [u.id for u in job.hiring_team] == [recruiter.id]
    assert report.problems == []
    assert report.changes == [
        "jobs[0]: job 'J-MINE': confidential and hiring team not taken from the file (only an admin may change them)"
    ]


def test_a_recruiters_file_cannot_merge_into_a_person_they_cannot_see(sctx):
    agency, _, recruiter, _, _, hidden, _ = recruiters_agency()
    csv = "external_id,first_name,last_name,emails,headline\n,Someone,Else,HIDDEN@example.com,Spy\n"
    report = import_file(agency, "x.csv", csv.encode(), by_user=recruiter)
    by_ref = "external_id,first_name,emails\nC-HIDDEN,Someone,other@example.com\n"
    report_by_ref = import_file(agency, "y.csv", by_ref.encode(), by_user=recruiter)
    db.session.commit()
    for refused in (report, report_by_ref):
        assert refused.problems == [
            "line 2: its e-mail or external_id belongs to a person you cannot see; ask an admin to import it"
        ]
        assert refused.changes == [] and "Hidden" not in " ".join(refused.problems)
    person = db.session.get(Candidate, hidden.id)
    assert person.headline is None and [e.email for e in person.emails] == ["hidden@example.com"]


def test_a_recruiter_imports_new_people_and_sees_the_change_report(sctx):
    agency, _, recruiter, _, _, _, _ = recruiters_agency()
    known = make_candidate(agency, first_name="Liam", last_name="O.")
    known.emails[0].email = "liam@example.com"
    db.session.commit()
    client = sctx.test_client()
    login_as(client, recruiter)
    response = client.post(
        "/search/import",
        data={
            "csrf_token": csrf_token(client),
            "file": (io.BytesIO((SAMPLES / "past-applicants.csv").read_bytes()), "p.csv"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "0 row(s) refused" in html
    assert "line 2: Liam O. (merged by e-mail liam@example.com): name kept as &#34;Liam O.&#34;" in html
    assert "Hidden" not in html
    created = db.session.scalars(select(Job).where(Job.agency_id == agency.id, Job.owner_id == recruiter.id)).all()
    imported = [job for job in created if job.external_id not in ("J-MINE",)]
    assert imported and all([u.id for u in job.hiring_team] == [recruiter.id] for job in imported)


def test_an_admins_file_still_reaches_every_job_and_person(sctx):
    agency, admin, _, _, secret, _, _ = recruiters_agency()
    export = {
        "jobs": [{"external_id": "J-SECRET", "title": "Renamed", "client": "Acme", "confidential": False}],
        "candidates": [{"external_id": "C-HIDDEN", "first_name": "Hidden", "emails": ["hidden@example.com"]}],
    }
    report = import_file(agency, "x.json", json.dumps(export).encode(), by_user=admin)
    db.session.commit()
    assert report.problems == []
    job = db.session.get(type(secret), secret.id)
    assert job.title == "Renamed" and job.confidential is False


def test_a_refused_upload_is_shown_in_place_and_saves_nothing(sctx):
    agency = make_agency()
    admin = make_user(agency, "admin")
    db.session.commit()
    client = sctx.test_client()
    login_as(client, admin)
    response = client.post(
        "/search/import",
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(b'{"candidates": '), "p.json")},
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "The JSON is not valid" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("deep.json", b'{"candidates": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nested too deeply"),
        (
            "wide.csv",
            b"first_name,emails,headline\nAda,ada@example.com," + b"x" * 200_000 + b"\n",
            "could not be read at line 2: field larger than field limit",
        ),
    ],
    ids=["JSON nested 100,000 deep", "CSV field of 200 KB"],
)
def test_a_file_beyond_the_parsers_bounds_is_refused_in_place(sctx, filename, content, message):
    """Found by a scanner: each made the upload page a 500 before."""
    agency = make_agency()
    admin = make_user(agency, "admin")
    db.session.commit()
    client = sctx.test_client()
    login_as(client, admin)
    response = client.post(
        "/search/import",
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0, 0, 0)


def test_import_command_reports_and_is_idempotent(sctx):
    agency = make_agency("importer")
    make_user(agency, "admin")
    db.session.commit()
    runner = sctx.test_cli_runner()
    path = str(SAMPLES / "past-applicants.json")
    first = runner.invoke(args=["import", "candidates", path, "--batch-size", "1"])
    assert first.exit_code == 0, first.output
    assert "2 candidate(s) created, 0 updated; 2 job(s) created; 2 application(s) created" in first.output
    again = runner.invoke(args=["import", "candidates", path])
    assert "0 candidate(s) created, 2 updated; 0 job(s) created; 0 application(s) created, 2 updated" in again.output
    assert again.exit_code == 0 and "Changes to people" not in again.output


def test_import_command_exits_non_zero_when_a_row_is_refused(sctx, tmp_path):
    agency = make_agency("importer")
    make_user(agency, "admin")
    typed = make_candidate(agency, first_name="Liam", last_name="O.")
    typed.emails[0].email = "liam@example.com"
    db.session.commit()
    partial = tmp_path / "past.csv"
    partial.write_text((SAMPLES / "past-applicants.csv").read_text().replace("chen@example.com", ""))
    result = sctx.test_cli_runner().invoke(args=["import", "candidates", str(partial)])
    assert result.exit_code == 1
    assert "1 candidate(s) created, 1 updated" in result.output and "1 row(s) refused" in result.output
    assert "line 4: no e-mail address" in result.output
    assert "Changes to people already in the agency:" in result.output
    assert 'line 2: Liam O. (merged by e-mail liam@example.com): name kept as "Liam O."' in result.output
    assert db.session.scalar(select(func.count()).select_from(Candidate)) == 2  # the good rows are saved


def test_import_command_refuses_a_bad_file_and_saves_nothing(sctx, tmp_path):
    agency = make_agency("importer")
    make_user(agency, "admin")
    db.session.commit()
    bad = tmp_path / "past.csv"
    bad.write_text("last_name\nStephenson\n")
    result = sctx.test_cli_runner().invoke(args=["import", "candidates", str(bad)])
    assert result.exit_code == 1
    assert "The CSV needs the column(s): emails, first_name." in result.output
    assert counts() == (0, 0, 0, 0)


# Batches: a long file commits a batch of rows at a time (issue 11)


def export(candidates: int, applications: int, jobs: int = 3) -> dict:
    """An export whose applications name candidates and jobs from anywhere earlier in the file."""
    return {
        "jobs": [{"external_id": f"J{n}", "title": f"Job {n}", "client": "Acme Ltd"} for n in range(jobs)],
        "candidates": [
            {"external_id": f"C{n}", "first_name": f"Person{n}", "emails": [f"person{n}@example.com"]}
            for n in range(candidates)
        ],
        "applications": [
            {"external_id": f"A{n}", "candidate": f"C{n}", "job": f"J{n % jobs}", "status": "rejected"}
            for n in range(applications)
        ],
    }


def batches_counted(entered: list[int], fail_batch: int | None = None):
    """The unit of work per batch, counting the batches; ``fail_batch`` (1-based) has its commit
    refused by the database (a second agency with a slug already taken)."""

    @contextmanager
    def batch():
        entered.append(len(entered) + 1)
        with unit_of_work():
            yield
            if len(entered) == fail_batch:
                db.session.add(Agency(slug=db.session.scalars(select(Agency.slug)).first(), name="Clash"))

    return batch


def outbox_candidates() -> set[int]:
    return set(db.session.scalars(select(SearchOutbox.entity_id).where(SearchOutbox.entity == "candidate")))


def candidate_ids() -> set[int]:
    return set(db.session.scalars(select(Candidate.id)))


@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_batches_keep_every_good_row_and_report_bad_ones_by_position_across_boundaries(sctx, batch_size):
    agency = make_agency()
    make_user(agency, "admin")
    db.session.commit()
    file = export(candidates=10, applications=8)
    # At size 4 the batches are rows 0-3 (the 3 jobs and candidates[0]), 4-7, 8-11 ...
    file["candidates"][4]["tags"] = 5  # bad, the last row of batch 2
    file["candidates"][5]["emails"] = ["nobody"]  # bad, the first row of batch 3
    file["candidates"][9]["external_id"] = "C0"  # a duplicate of a row batches earlier
    file["applications"][7]["candidate"] = "C4"  # names a refused candidate
    entered: list[int] = []
    progress: list[tuple[int, int]] = []
    report = import_file(
        agency,
        "x.json",
        json.dumps(file).encode(),
        on_progress=lambda done, total: progress.append((done, total)),
        batch=batches_counted(entered),
        batch_size=batch_size,
    )
    assert report.problems == [
        "candidates[4]: tags must be a list of texts",
        "candidates[5]: 'nobody' is not a valid e-mail address (An email address must have an @-sign.)",
        "candidates[9]: external_id 'C0' appears earlier in the file",
        "applications[4]: candidate 'C4' is not in the file or the agency",
        "applications[5]: candidate 'C5' is not in the file or the agency",
        "applications[7]: candidate 'C4' is not in the file or the agency",
    ]
    assert (report.jobs_created, report.candidates_created, report.applications_created) == (3, 7, 5)
    # One unit of work per batch, and one after them for the audit log's entry.
    assert len(entered) == -(-21 // batch_size) + 1 and progress[-1] == (21, 21)
    db.session.rollback()  # every batch committed: nothing is left for the caller to lose
    names = set(db.session.scalars(select(Candidate.first_name)))
    assert names == {f"Person{n}" for n in (0, 1, 2, 3, 6, 7, 8)}
    refs = set(db.session.scalars(select(Application.external_id)))
    assert refs == {"A0", "A1", "A2", "A3", "A6"}
    # Each batch's search documents were queued in the batch's own transaction.
    assert outbox_candidates() == candidate_ids()


def test_a_batch_the_database_refuses_is_undone_alone_and_reported(sctx):
    agency = make_agency()
    make_user(agency, "admin")
    db.session.commit()
    file = export(candidates=9, applications=5, jobs=1)
    file["candidates"][8]["external_id"] = "C4"  # its first appearance is in the refused batch
    entered: list[int] = []
    report = import_file(
        agency, "x.json", json.dumps(file).encode(), batch=batches_counted(entered, fail_batch=2), batch_size=3
    )
    # Batch 2 is candidates[2] to candidates[4]; nothing of it is kept, the rest is.
    (refused, *others) = report.problems
    assert refused.startswith("candidates[2] to candidates[4]: not saved, the database refused the batch (")
    assert refused.endswith("); import the file again to add these rows")
    assert others == [
        "applications[2]: candidate 'C2' is not in the file or the agency",
        "applications[3]: candidate 'C3' is not in the file or the agency",
    ]
    # C4 was forgotten with its batch, so its later row is imported rather than called a duplicate.
    assert (report.jobs_created, report.candidates_created, report.applications_created) == (1, 6, 3)
    assert len(entered) == 5 + 1  # the batches, then the audit log's entry
    db.session.rollback()
    names = set(db.session.scalars(select(Candidate.first_name)))
    assert names == {f"Person{n}" for n in (0, 1, 5, 6, 7, 8)}
    assert db.session.scalar(select(func.count()).select_from(Agency)) == 1
    assert outbox_candidates() == candidate_ids()
    # Importing the file again adds the refused rows, as the report says (and now C4 is known first).
    again = import_file(agency, "x.json", json.dumps(file).encode(), batch=unit_of_work, batch_size=3)
    assert again.problems == ["candidates[8]: external_id 'C4' appears earlier in the file"]
    assert (again.candidates_created, again.applications_created) == (2, 2)


def test_clients_rate_and_comment_without_a_hitch_while_a_long_file_imports(make_app):
    """A 1,003-row file through the upload page, committed 50 rows at a time, while three contacts
    rate and comment through the app: every action succeeds (no "database is locked", no 503
    with the normal busy timeout) and every row is imported. (In one batch, the file holds
    SQLite's write lock for longer than the busy timeout: the contacts got 503s.)"""
    app = make_app(IMPORT_BATCH_SIZE=50, CLIENT_COMMENT_RATE="10000 per minute", CLIENT_ACTION_RATE="10000 per minute")
    with app.app_context():
        tenant = make_tenant("importco")
        contacts = [tenant.contact, make_contact(tenant.company), make_contact(tenant.company)]
        db.session.commit()
        candidate = f"/{tenant.agency.slug}/portal/candidates/{tenant.application.id}"
        admin = app.test_client()
        login_as(admin, tenant.admin)
        clients = []
        for contact in contacts:
            clients.append(app.test_client())
            login_as(clients[-1], contact)
    for client in clients:
        assert client.get(candidate).status_code == 200  # their visit is recorded before the race
    headers = {client: {"X-CSRFToken": csrf_token(client), "HX-Request": "true"} for client in [admin, *clients]}
    content = json.dumps(export(candidates=700, applications=300)).encode()

    imported = threading.Event()
    responses: list = []
    during_import: list[list[int]] = [[] for _ in clients]
    failures: list[BaseException] = []

    def upload() -> None:
        try:
            data = {"file": (io.BytesIO(content), "past.json")}
            responses.append(admin.post("/search/import", data=data, headers=headers[admin]))
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)
        finally:
            imported.set()

    def act(number: int, client) -> None:
        try:
            turn = 0
            while not imported.wait(0.1):  # a contact's pace, not a tight loop
                rating = client.post(f"{candidate}/rating", data={"stars": str(turn % 5 + 1)}, headers=headers[client])
                comment = client.post(f"{candidate}/comments", data={"body": f"Note {turn}"}, headers=headers[client])
                during_import[number].extend([rating.status_code, comment.status_code])
                turn += 1
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=upload)]
    threads += [threading.Thread(target=act, args=(number, client)) for number, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert failures == [] and not any(thread.is_alive() for thread in threads)

    (response,) = responses
    assert response.status_code == 200
    assert "700 candidate(s) created, 0 updated; 3 job(s) created; 300 application(s) created" in response.text
    assert "0 row(s) refused" in response.text
    for statuses in during_import:
        assert len(statuses) >= 4 and set(statuses) == {200}, (TEST_DATABASE, statuses)
    with app.app_context():
        comments = db.session.scalar(select(func.count()).select_from(Comment))
        assert comments == sum(len(statuses) // 2 for statuses in during_import)
        assert db.session.scalar(select(func.count()).select_from(Rating)) == len(contacts)
        imported_people = select(func.count()).select_from(Candidate).where(Candidate.added_via == "import")
        assert db.session.scalar(imported_people) == 700

"""Import (S6): idempotent by external_id, merged by e-mail, bad rows reported, good rows kept;
from the upload page and from ``flask import candidates``."""

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, Application, Candidate, CandidateEmail, Scorecard, StageHistory, as_utc
from portal.services.importer import import_file
from portal.services.search import Criteria, search_candidates
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_candidate, make_user
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
    assert report.problems == ["line 3: 'not-an-email' is not an e-mail address"]
    assert report.candidates_created == 2


def test_admin_upload_page_imports_and_recruiters_get_404(sctx):
    agency = make_agency()
    admin, recruiter = make_user(agency, "admin"), make_user(agency)
    db.session.commit()
    client = sctx.test_client()
    login_as(client, recruiter)
    assert client.get("/search/import").status_code == 404
    login_as(client, admin)
    with open(SAMPLES / "past-applicants.csv", "rb") as handle:
        response = client.post(
            "/search/import",
            data={"csrf_token": csrf_token(client), "file": (handle, "p.csv")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 200
    assert "3 candidate(s) created" in response.get_data(as_text=True)


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


def test_import_command_reports_and_is_idempotent(sctx):
    agency = make_agency("importer")
    make_user(agency, "admin")
    db.session.commit()
    runner = sctx.test_cli_runner()
    path = str(SAMPLES / "past-applicants.json")
    first = runner.invoke(args=["import", "candidates", path])
    assert first.exit_code == 0, first.output
    assert "2 candidate(s) created, 0 updated; 2 job(s) created; 2 application(s) created" in first.output
    again = runner.invoke(args=["import", "candidates", path])
    assert "0 candidate(s) created, 2 updated; 0 job(s) created; 0 application(s) created, 2 updated" in again.output


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

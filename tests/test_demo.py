"""Demo data and ``flask demo-links`` ("Running it"): two agencies a newcomer can sign in to at once."""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal import _running_dev_server
from portal.demo import DEMO_PASSWORD, load_demo
from portal.extensions import db
from portal.models import (
    Agency,
    Application,
    Candidate,
    ClientCompany,
    ClientContact,
    InterviewRequest,
    Job,
    ProposedSlot,
    SharedProfile,
    User,
)
from portal.services.interviews import to_utc
from portal.unit_of_work import unit_of_work
from tests.conftest import CSRF_INPUT

STAFF_KEYS = {"agency", "role", "email", "password", "login_url"}
CLIENT_KEYS = {"agency", "role", "company", "email", "url"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def row_counts() -> dict[str, int]:
    """Rows per table, for every table in the schema."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables
    }


def shared_candidates(job_id: int) -> list[Candidate]:
    return db.session.scalars(
        select(Candidate)
        .join(Application, Application.candidate_id == Candidate.id)
        .join(SharedProfile, SharedProfile.application_id == Application.id)
        .where(Application.job_id == job_id, SharedProfile.unshared_at.is_(None))
    ).all()


def form_csrf(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token in the form"
    return next(group for group in match.groups() if group)


@pytest.fixture
def demo(app):
    with app.app_context(), unit_of_work():
        assert load_demo() is True


@pytest.fixture
def demo_links(app, demo):
    """The records ``flask demo-links --json`` prints, parsed line by line."""
    result = app.test_cli_runner().invoke(args=["demo-links", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines, "demo-links printed nothing"
    return [json.loads(line) for line in lines]


def test_demo_has_two_agencies_with_clients_staff_and_shared_candidates(ctx):
    assert load_demo() is True

    agencies = db.session.scalars(select(Agency).order_by(Agency.id)).all()
    assert len(agencies) == 2
    for agency in agencies:
        assert count(ClientCompany, ClientCompany.agency_id == agency.id) == 2
        assert count(ClientContact, ClientContact.agency_id == agency.id) >= 2
        assert count(User, User.agency_id == agency.id, User.role == "admin") >= 1
        assert count(User, User.agency_id == agency.id, User.role == "recruiter") >= 1
        assert count(Job, Job.agency_id == agency.id, Job.status == "open") >= 2
        assert count(Application, Application.agency_id == agency.id) >= count(
            Candidate, Candidate.agency_id == agency.id
        )
        assert count(SharedProfile, SharedProfile.agency_id == agency.id) >= 1
        # Branding differs per agency, so isolation is visible.
        assert agency.email_sender_name and agency.email_footer
    assert len({agency.primary_color for agency in agencies}) == 2
    assert 200 <= count(Candidate) <= 1000  # "a few hundred"
    # Every row of an agency points at that agency's own people and jobs.
    assert count(Application, Application.agency_id != Job.agency_id, Application.job_id == Job.id) == 0
    assert (
        count(Application, Application.agency_id != Candidate.agency_id, Application.candidate_id == Candidate.id) == 0
    )


def test_loading_the_demo_twice_changes_nothing(app, ctx):
    assert load_demo() is True
    first = row_counts()
    assert first["candidate"] > 0

    assert load_demo() is False
    assert row_counts() == first
    # The command README tells newcomers to run, run again.
    result = app.test_cli_runner().invoke(args=["demo-load"])
    assert result.exit_code == 0, result.output
    assert "already present" in result.output
    assert row_counts() == first


def test_demo_links_without_demo_data_says_what_to_run(app):
    result = app.test_cli_runner().invoke(args=["demo-links", "--json"])
    assert result.exit_code != 0
    assert "flask demo-load" in result.output


def test_demo_links_json_has_one_record_per_principal_with_the_documented_keys(app, demo_links):
    with app.app_context():
        staff = {(db.session.get(Agency, u.agency_id).slug, u.email, u.role) for u in db.session.scalars(select(User))}
        contacts = {(c.agency.slug, c.email, c.company.name) for c in db.session.scalars(select(ClientContact))}
        base_url = app.config["BASE_URL"]

    staff_records = [r for r in demo_links if r["role"] != "client"]
    client_records = [r for r in demo_links if r["role"] == "client"]
    assert len(staff_records) + len(client_records) == len(demo_links)
    for record in staff_records:
        assert set(record) == STAFF_KEYS
        assert record["role"] in ("admin", "recruiter")
        assert record["password"] == DEMO_PASSWORD
        assert record["login_url"].startswith(base_url + "/login")
    for record in client_records:
        assert set(record) == CLIENT_KEYS
        assert isinstance(record["url"], str) and record["url"].startswith(base_url + "/")
    assert {(r["agency"], r["email"], r["role"]) for r in staff_records} == staff
    assert {(r["agency"], r["email"], r["company"]) for r in client_records} == contacts
    # Two agencies, each with an admin, a recruiter and contacts of two client companies.
    for slug in ("northwind", "bluepeak"):
        assert {r["role"] for r in demo_links if r["agency"] == slug} == {"admin", "recruiter", "client"}
        assert len({r["company"] for r in client_records if r["agency"] == slug}) == 2

    # Printing the links again gives the same links (a live landing link is reused).
    again = app.test_cli_runner().invoke(args=["demo-links", "--json"])
    assert [json.loads(line) for line in again.output.splitlines()] == demo_links


def test_each_client_link_lands_on_a_job_with_shared_candidates(app, demo_links):
    client_records = [r for r in demo_links if r["role"] == "client"]
    assert len(client_records) >= 4
    for record in client_records:
        browser = app.test_client()
        path = urlsplit(record["url"]).path
        assert re.fullmatch(rf"/{record['agency']}/link/[\w.-]+", path), path
        landing = browser.get(path)
        assert landing.status_code == 200, record
        page = landing.get_data(as_text=True)
        assert "Continue" in page and record["email"] in page

        response = browser.post(path, data={"csrf_token": form_csrf(page)})
        assert response.status_code == 303, record
        job_path = response.headers["Location"]
        match = re.fullmatch(rf"/{record['agency']}/portal/jobs/(\d+)", job_path)
        assert match, job_path

        job_page = browser.get(job_path)
        assert job_page.status_code == 200
        html = job_page.get_data(as_text=True)
        with app.app_context():
            job = db.session.get(Job, int(match.group(1)))
            assert job.company.name == record["company"]
            assert job.status == "open"
            names = [candidate.name for candidate in shared_candidates(job.id)]
        assert names
        assert 'class="card candidate-card"' in html
        assert any(name in html for name in names)


def test_each_staff_login_url_and_password_sign_in(app, demo_links):
    staff_records = [r for r in demo_links if r["role"] != "client"]
    assert len(staff_records) >= 4
    for record in staff_records:
        browser = app.test_client()
        parts = urlsplit(record["login_url"])
        form = browser.get(f"{parts.path}?{parts.query}")
        assert form.status_code == 200
        page = form.get_data(as_text=True)
        assert f'value="{record["email"]}"' in page  # the login form comes pre-filled

        response = browser.post(
            parts.path, data={"csrf_token": form_csrf(page), "email": record["email"], "password": record["password"]}
        )
        assert response.status_code == 303, record
        assert response.headers["Location"] == "/agency/"
        assert browser.get("/agency/").status_code == 200
        assert browser.get("/admin/outbox").status_code == (200 if record["role"] == "admin" else 404)


def test_demo_recruiters_start_with_client_actions_to_follow_up(ctx):
    from sqlalchemy import func, select

    from portal.demo import load_demo
    from portal.models import Alert, InterviewRequest, Task

    load_demo()
    task_types = set(db.session.scalars(select(Task.type).where(Task.status == "open")))
    assert task_types == {"organise_interview", "process_offer", "send_feedback"}
    assert db.session.scalar(select(func.count()).select_from(InterviewRequest)) >= 2
    assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.read_at.is_(None))) >= 6


# Dates relative to the day the demo is loaded (issue 9): any day, any season.


@pytest.mark.parametrize(
    "loaded_at",
    [
        datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # late evening, a month before a year ends
        datetime(2041, 3, 10, 6, 45, tzinfo=UTC),  # years ahead, minutes before US clocks go forward
    ],
)
def test_demo_dates_lie_behind_the_day_it_is_loaded_and_its_requests_ahead(ctx, loaded_at):
    load_demo(now=loaded_at)
    assert count(Application, Application.last_activity_at > loaded_at) == 0
    assert count(Application, Application.applied_at > loaded_at) == 0
    assert count(Application, Application.closed_at > loaded_at) == 0
    slots = db.session.scalars(
        select(ProposedSlot).join(InterviewRequest).where(InterviewRequest.status == "open")
    ).all()
    assert slots and min(to_utc(slot.starts_at) for slot in slots) > loaded_at


def test_loading_again_days_later_moves_the_demo_requests_to_the_coming_days(ctx):
    loaded_at = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    load_demo(now=loaded_at)
    before = {
        slot.id: (slot.starts_at.astimezone(ZoneInfo(slot.timezone)).time(), slot.ends_at - slot.starts_at)
        for slot in db.session.scalars(select(ProposedSlot))
    }
    weeks_later = loaded_at + timedelta(days=40)  # across the European clock change
    with unit_of_work():
        assert load_demo(now=weeks_later) is False
    db.session.expire_all()
    slots = db.session.scalars(select(ProposedSlot)).all()
    assert min(to_utc(slot.starts_at) for slot in slots) > weeks_later
    # Same wall-clock time and length for the person who proposed it.
    assert {
        slot.id: (slot.starts_at.astimezone(ZoneInfo(slot.timezone)).time(), slot.ends_at - slot.starts_at)
        for slot in slots
    } == before


def test_cli_takes_the_url_of_the_make_run_serving_this_checkout(tmp_path):
    record = {
        "pid": os.getpid(),
        "base_url": "http://127.0.0.1:5001",
        "meili_url": "http://127.0.0.1:7811",
        "meili_master_key": "k",
    }
    (tmp_path / "make-run.json").write_text(json.dumps(record))
    assert _running_dev_server(str(tmp_path)) == {
        "BASE_URL": "http://127.0.0.1:5001",
        "MEILI_URL": "http://127.0.0.1:7811",
        "MEILI_MASTER_KEY": "k",
    }
    # Once that make run has stopped, its record is ignored.
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    (tmp_path / "make-run.json").write_text(json.dumps({**record, "pid": int(finished.stdout)}))
    assert _running_dev_server(str(tmp_path)) == {}
    assert _running_dev_server(str(tmp_path / "missing")) == {}

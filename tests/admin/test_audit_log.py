"""The audit log page at /admin/audit (issue 16): the agency's entries newest first, filtered by
query-string keys checked in place, exported as CSV without formulas, for admins only; and the
entries the existing staff actions write (imports, role changes)."""

import csv
import io
import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AUDIT_ACTIONS, Agency, AuditEntry, Candidate, User, utcnow
from portal.services import staff
from portal.services.audit import record_audit
from portal.services.audit_log import ACTION_LABELS, AuditFilters, audit_csv, audit_page, neutralise
from portal.services.importer import import_file
from portal.unit_of_work import unit_of_work
from tests.conftest import csrf_token, login_as
from tests.factories import make_candidate, make_tenant

ZONE = "America/New_York"


@pytest.fixture
def log(app, tenant):
    """Entries of the tenant at known local days (New York), one of another agency."""
    tenant.admin.timezone = ZONE
    tenant.admin.name = "Ada Admin"
    tenant.recruiter.name = "Rex Recruiter"
    person = make_candidate(tenant.agency)
    db.session.flush()
    zone = ZoneInfo(ZONE)
    # Days relative to today in New York, so the test holds on any date.
    today = utcnow().astimezone(zone).date()
    at = {
        "old": datetime.combine(today - timedelta(days=10), datetime.min.time(), zone).replace(hour=9),
        "mid": datetime.combine(today - timedelta(days=5), datetime.min.time(), zone).replace(hour=23, minute=30),
        "new": datetime.combine(today - timedelta(days=1), datetime.min.time(), zone).replace(hour=0, minute=15),
    }
    record_audit("import_run", agency_id=tenant.agency.id, now=at["old"], rows=3, created=2, updated=1, errors=0)
    record_audit(
        "candidate_exported",
        agency_id=tenant.agency.id,
        actor=tenant.admin,
        candidate_id=person.id,
        now=at["mid"],
        files=2,
    )
    record_audit(
        "candidate_erased", agency_id=tenant.agency.id, actor=tenant.recruiter, candidate_id=987654, now=at["new"]
    )
    other = make_tenant("otheraudit")
    record_audit("role_changed", agency_id=other.agency.id, actor=other.admin, subject_user=other.recruiter, admin=True)
    db.session.commit()
    return {"today": today, "person": person.id, "at": at}


def rows(html: str) -> list[str]:
    return [action for action in ACTION_LABELS if f'data-action="{action}"' in html]


def order(html: str) -> list[str]:
    import re

    return re.findall(r'data-action="([a-z_]+)"', html)


def test_every_action_has_a_label():
    assert set(ACTION_LABELS) == set(AUDIT_ACTIONS)


def test_the_page_lists_the_agencys_entries_newest_first(admin_client, tenant, log):
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert order(html) == ["candidate_erased", "candidate_exported", "import_run"]  # never the other agency's
    assert "Erased a candidate" in html and "Rex Recruiter" in html and "System" in html
    # A candidate who still exists is linked; an erased id is plain text.
    assert f'<a href="/agency/candidates/{log["person"]}">Candidate #{log["person"]}</a>' in html
    assert "Candidate #987654" in html and 'href="/agency/candidates/987654"' not in html
    assert "files: 2" in html and "created: 2; errors: 0; rows: 3; updated: 1" in html
    local = log["at"]["new"]
    assert f"{local:%a} {local.day} {local:%b %Y}, 00:15 ({ZONE})" in html
    assert 'aria-current="page"' in html and "Audit log" in html


def test_the_fragment_is_the_filtered_list(admin_client, log):
    fragment = admin_client.get("/admin/audit?action=import_run", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and 'id="audit-log"' in html and order(html) == ["import_run"]
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=candidate_exported", ["candidate_exported"]),
        ("actor={admin}", ["candidate_exported"]),
        ("candidate={person}", ["candidate_exported"]),
        # Days are the viewer's (New York): 23:30 there is already the next day in UTC.
        ("from={mid}&to={mid}", ["candidate_exported"]),
        ("from={mid}", ["candidate_erased", "candidate_exported"]),
        ("to={mid}", ["candidate_exported", "import_run"]),
        ("from={new}&to={new}", ["candidate_erased"]),
    ],
)
def test_each_filter_key(admin_client, tenant, log, query, expected):
    days = {key: value.date().isoformat() for key, value in log["at"].items()}
    path = "/admin/audit?" + query.format(admin=tenant.admin.id, person=log["person"], **days)
    response = admin_client.get(path)
    assert response.status_code == 200
    assert order(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("action=candidate_read", "action", "Choose an action from the list."),
        ("actor=999999", "actor", "Choose someone from the list."),
        ("actor=abc", "actor", "Choose someone from the list."),
        ("from=2026-13-01", "from", "Enter the first day as YYYY-MM-DD"),
        ("from=9%2F3%2F2026", "from", "Enter the first day as YYYY-MM-DD"),
        ("to=tomorrow", "to", "Enter the last day as YYYY-MM-DD"),
        ("from=2026-03-10&to=2026-03-09", "to", "The last day cannot be before the first day."),
        ("candidate=-4", "candidate", "Enter a candidate&#39;s number"),
        ("candidate=12x", "candidate", "Enter a candidate&#39;s number"),
    ],
)
def test_bad_filters_are_refused_in_place(admin_client, log, query, field, message):
    response = admin_client.get(f"/admin/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="field-error" id="{field}-error">' in html and message in html
    assert order(html) == []  # nothing listed under a filter that was not understood
    csv_response = admin_client.get(f"/admin/audit?{query}&format=csv")
    assert csv_response.status_code == 422 and "text/csv" not in csv_response.headers["Content-Type"]


def test_the_actor_filter_offers_only_the_agencys_users(admin_client, app, tenant, log):
    with app.app_context():
        other_admin = db.session.scalars(
            select(User).join(User.agency).where(User.role == "admin", User.agency_id != tenant.agency.id)
        ).first()
        other_id = other_admin.id
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert f'<option value="{other_id}"' not in html
    assert admin_client.get(f"/admin/audit?actor={other_id}").status_code == 422


def test_csv_exports_the_filtered_rows_in_the_viewers_zone(admin_client, log):
    response = admin_client.get("/admin/audit?format=csv&from=" + log["at"]["mid"].date().isoformat())
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == ["When", "Zone", "Action", "By", "Candidate", "User", "Details"]
    assert [row[2] for row in table[1:]] == ["Erased a candidate", "Exported everything held about a candidate"]
    assert table[2][1] == ZONE and table[2][3] == "Ada Admin" and table[2][6] == "files: 2"
    assert table[2][4] == f"Candidate #{log['person']}"


def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote(admin_client, app, tenant, log):
    assert neutralise(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", ""]) == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "plain",
        "",
    ]
    with app.app_context():
        db.session.get(User, tenant.recruiter.id).name = '=HYPERLINK("http://evil.example","x")'
        db.session.commit()
    table = list(csv.reader(io.StringIO(admin_client.get("/admin/audit?format=csv").get_data(as_text=True))))
    assert table[1][3] == '\'=HYPERLINK("http://evil.example","x")'
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in table for cell in row)


def test_pages_of_fifty_newest_first(admin_client, app, tenant, log):
    with app.app_context():
        start = utcnow() - timedelta(hours=1)
        for n in range(55):
            record_audit("import_run", agency_id=tenant.agency.id, now=start + timedelta(seconds=n), rows=n)
        db.session.commit()
    first = admin_client.get("/admin/audit?action=import_run").get_data(as_text=True)
    assert "Page 1 of 2 (56 entries)" in first and "rows: 54" in first and first.count('class="audit-entry"') == 50
    assert 'href="/admin/audit?page=2&amp;action=import_run"' in first
    second = admin_client.get("/admin/audit?action=import_run&page=2").get_data(as_text=True)
    assert second.count('class="audit-entry"') == 6 and "rows: 3;" not in first


@pytest.mark.parametrize("who", ["recruiter", "contact"])
def test_only_admins_reach_the_page(app, tenant, log, who):
    client = app.test_client()
    login_as(client, getattr(tenant, who))
    assert client.get("/admin/audit").status_code == 404
    assert client.get("/admin/audit?format=csv").status_code == 404


def test_another_agencys_admin_sees_only_their_own(app, tenant, log):
    with app.app_context():
        other_admin = db.session.scalars(
            select(User).where(User.role == "admin", User.agency_id != tenant.agency.id)
        ).first()
    client = app.test_client()
    login_as(client, other_admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert order(html) == ["role_changed"]
    exported = client.get("/admin/audit?format=csv").get_data(as_text=True)
    assert "Erased a candidate" not in exported and "Changed a user's role" in exported


def test_the_service_reads_one_agency(ctx):
    tenant = make_tenant("svcaudit")
    other = make_tenant("svcaudit2")
    record_audit("import_run", agency_id=tenant.agency.id, rows=1)
    record_audit("import_run", agency_id=other.agency.id, rows=2)
    db.session.commit()
    page = audit_page(tenant.agency.id, AuditFilters())
    assert [e.detail for e in page.entries] == [{"rows": 1}]
    assert "rows: 2" not in audit_csv(tenant.agency.id, AuditFilters())


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_a_role_change_writes_an_entry_with_ids_only(app, admin_client, tenant):
    response = admin_client.post(
        f"/admin/users/{tenant.recruiter.id}/role", data={"role": "admin", "csrf_token": csrf_token(admin_client)}
    )
    assert response.status_code == 303
    with app.app_context():
        [entry] = entries("role_changed")
        assert (entry.agency_id, entry.actor_user_id, entry.subject_user_id, entry.detail) == (
            tenant.agency.id,
            tenant.admin.id,
            tenant.recruiter.id,
            {"admin": True},
        )
        # Nothing changed, nothing written; a refused change neither.
        staff.change_role(tenant.admin, db.session.get(User, tenant.recruiter.id), "admin")
        db.session.commit()
        assert len(entries("role_changed")) == 1


def _import(agency, by_user=None, **kw):
    export = {
        "candidates": [
            {"external_id": "c1", "first_name": "Ina", "last_name": "Import", "emails": ["ina@people.example"]},
            {"external_id": "c2", "first_name": "Bad", "last_name": "Row"},  # no e-mail: refused
        ]
    }
    return import_file(agency, "x.json", json.dumps(export).encode(), by_user=by_user, **kw)


def test_an_import_writes_one_entry_with_counts(ctx):
    tenant = make_tenant("importaudit")
    report = _import(tenant.agency, by_user=tenant.admin)
    db.session.commit()
    assert report.candidates_created == 1 and len(report.problems) == 1
    [entry] = entries("import_run")
    assert (entry.agency_id, entry.actor_user_id, entry.candidate_id) == (tenant.agency.id, tenant.admin.id, None)
    assert entry.detail == {"rows": 2, "created": 1, "updated": 0, "errors": 1}


def test_a_cli_import_in_batches_is_logged_without_an_actor(app, ctx, tmp_path):
    tenant = make_tenant("cliaudit")
    db.session.commit()
    path = tmp_path / "people.json"
    path.write_text(
        json.dumps(
            {
                "candidates": [
                    {"external_id": "c1", "first_name": "Cli", "last_name": "Person", "emails": ["cli@p.example"]}
                ]
            }
        )
    )
    result = app.test_cli_runner().invoke(args=["import", "candidates", str(path), "--agency", tenant.agency.slug])
    assert result.exit_code == 0, result.output
    [entry] = entries("import_run")
    assert (entry.actor_user_id, entry.detail) == (None, {"rows": 1, "created": 1, "updated": 0, "errors": 0})
    assert db.session.scalar(select(Candidate).where(Candidate.first_name == "Cli")) is not None


def test_an_upload_writes_the_entry_for_the_recruiter(app, tenant):
    client = app.test_client()
    login_as(client, tenant.recruiter)
    body = json.dumps(
        {"candidates": [{"external_id": "u1", "first_name": "Up", "last_name": "Load", "emails": ["up@p.example"]}]}
    ).encode()
    response = client.post(
        "/search/import", data={"csrf_token": csrf_token(client), "file": (io.BytesIO(body), "people.json")}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        [entry] = entries("import_run")
        assert entry.actor_user_id == tenant.recruiter.id and entry.detail["created"] == 1


def test_an_audit_entry_the_database_refuses_is_reported_with_the_saved_rows(ctx):
    """The rows are committed by then: a refused entry is said in the report, not raised as if the
    import had saved nothing."""
    tenant = make_tenant("refusedaudit")
    db.session.commit()
    entered: list[int] = []

    @contextmanager
    def batch():
        entered.append(1)
        with unit_of_work():
            yield
            if len(entered) == 2:  # the unit after the one batch of rows: the audit entry's
                db.session.add(Agency(slug=tenant.agency.slug, name="Clash"))

    report = _import(tenant.agency, by_user=tenant.admin, batch=batch, batch_size=10)
    assert report.candidates_created == 1 and len(entered) == 2
    assert report.problems[-1].startswith("The audit log's entry for this import was not saved (")
    assert entries("import_run") == []
    assert db.session.scalar(select(Candidate).where(Candidate.first_name == "Ina")) is not None

"""``/healthz``: "ok", "degraded" (200, with reasons) or "down" (503: the database), figures for
admins only."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import utcnow
from portal.services import health
from portal.services.mail import send_mail
from search_sync import outbox
from tests.conftest import login_as
from tests.factories import make_agency, make_candidate, make_company, make_contact, make_user
from tests.servers import MeilisearchServer, free_port

NOW = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # passed as now= to the service, never next to utcnow()


def queue_mail(agency, contact, subject: str, status: str = "pending", created_at: datetime | None = None):
    row = send_mail(
        agency,
        "sign_in",
        contact.email,
        subject,
        "configured",
        body="Sign in below.",
        button_label="Sign in",
        url="http://127.0.0.1:8000/x/link/token",
    )
    row.status = status
    if created_at is not None:
        row.created_at = created_at
    return row


@pytest.fixture
def tenant(ctx):
    agency = make_agency()
    return agency, make_contact(make_company(agency))


def test_healthy_portal_says_ok_and_nothing_else_to_anonymous_callers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"status": "ok", "reasons": []}


def test_admin_sees_the_figures(app, client):
    with app.app_context():
        admin = make_user(make_agency(), "admin")
        db.session.commit()
        login_as(client, admin)
    body = client.get("/healthz").get_json()
    assert (body["status"], body["reasons"]) == ("ok", [])
    checks = body["checks"]
    assert checks["database"] == checks["meilisearch"] == checks["smtp"] == {"ok": True}
    assert checks["outbox"] == {
        "mail_pending": 0,
        "mail_sending": 0,
        "mail_failed": 0,
        "mail_failed_recently": 0,
        "mail_oldest_pending_seconds": 0,
        "search_pending": 0,
        "search_parked": 0,
        "search_parked_recently": 0,
        "search_oldest_pending_seconds": 0,
    }


def test_backlog_figures_count_each_outbox(tenant):
    agency, contact = tenant
    for n in range(3):
        queue_mail(agency, contact, f"Pending {n}", created_at=NOW - timedelta(seconds=10))
    queue_mail(agency, contact, "Being sent", status="sending", created_at=NOW - timedelta(seconds=90))
    queue_mail(agency, contact, "Failed", status="failed", created_at=NOW - timedelta(hours=1))
    queue_mail(agency, contact, "Sent", status="sent", created_at=NOW - timedelta(days=3))
    # Creating a candidate writes its search outbox row in the same transaction.
    for _ in range(3):
        make_candidate(agency)
    outbox.enqueue(agency.id, "job", 1).parked = True
    db.session.flush()
    for row in db.session.scalars(db.select(outbox.SearchOutbox)):
        row.created_at = NOW - timedelta(seconds=30)
    db.session.flush()

    backlog = health.outbox_backlog(now=NOW)
    assert backlog == {
        "mail_pending": 3,
        "mail_sending": 1,
        "mail_failed": 1,
        "mail_failed_recently": 1,
        # A message being sent is still waiting: it counts for the age.
        "mail_oldest_pending_seconds": 90,
        "search_pending": 3,
        "search_parked": 1,
        "search_parked_recently": 1,
        "search_oldest_pending_seconds": 30,
    }


@pytest.mark.parametrize(
    ("waited", "reasons"),
    [(timedelta(seconds=300), []), (timedelta(seconds=301), ["mail backlog"])],
)
def test_mail_waiting_longer_than_the_threshold_is_a_backlog(tenant, waited, reasons):
    agency, contact = tenant
    queue_mail(agency, contact, "Oldest", created_at=NOW - waited)
    queue_mail(agency, contact, "Newer", created_at=NOW - timedelta(seconds=5))
    db.session.flush()
    found = health.report(now=NOW)
    assert (found.status, found.reasons) == ("degraded" if reasons else "ok", reasons)


@pytest.mark.parametrize(
    ("queued_ago", "reasons"),
    [(timedelta(hours=23), ["mail failed"]), (timedelta(hours=25), [])],
)
def test_mail_failed_for_good_recently_degrades(tenant, queued_ago, reasons):
    agency, contact = tenant
    queue_mail(agency, contact, "Failed", status="failed", created_at=NOW - queued_ago)
    db.session.flush()
    found = health.report(now=NOW)
    assert (found.status, found.reasons) == ("degraded" if reasons else "ok", reasons)
    assert found.checks["outbox"]["mail_failed"] == 1  # still counted, for the admin


def test_search_changes_waiting_longer_than_the_threshold_are_a_backlog(tenant):
    agency, _ = tenant
    outbox.enqueue(agency.id, "candidate", make_candidate(agency).id)
    db.session.flush()
    for row in db.session.scalars(db.select(outbox.SearchOutbox)):
        row.created_at = NOW - timedelta(minutes=6)
    db.session.flush()
    found = health.report(now=NOW)
    assert (found.status, found.reasons) == ("degraded", ["search backlog"])
    assert found.checks["outbox"]["search_oldest_pending_seconds"] == 360


def test_a_parked_search_document_degrades(tenant):
    agency, _ = tenant
    row = outbox.enqueue(agency.id, "job", 1)
    row.parked, row.created_at = True, NOW - timedelta(minutes=1)
    db.session.flush()
    found = health.report(now=NOW)
    assert (found.status, found.reasons) == ("degraded", ["search parked"])


def test_anonymous_callers_never_see_counts_or_ages(app, client):
    with app.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency))
        recruiter, admin = make_user(agency), make_user(agency, "admin")
        for n in range(7):
            queue_mail(agency, contact, f"Stuck {n}", created_at=utcnow() - timedelta(minutes=17))
        queue_mail(agency, contact, "Failed", status="failed")
        outbox.enqueue(agency.id, "job", 1).created_at = utcnow() - timedelta(minutes=9)
        db.session.commit()
        browsers = {}
        for name, who in (("recruiter", recruiter), ("contact", contact), ("admin", admin)):
            browsers[name] = app.test_client()
            login_as(browsers[name], who)
    reasons = ["mail backlog", "mail failed", "search backlog"]

    anonymous = client.get("/healthz")
    assert anonymous.status_code == 200
    assert anonymous.get_json() == {"status": "degraded", "reasons": reasons}
    assert re.search(r"\d", anonymous.get_data(as_text=True)) is None

    # Signed in is not enough: a recruiter and a client contact see what anyone sees.
    for name in ("recruiter", "contact"):
        assert browsers[name].get("/healthz").get_data() == anonymous.get_data()

    body = browsers["admin"].get("/healthz").get_json()
    assert body["reasons"] == reasons
    assert body["checks"]["outbox"]["mail_pending"] == 7
    assert body["checks"]["outbox"]["mail_oldest_pending_seconds"] >= 17 * 60


def test_meilisearch_down_is_degraded_not_down_and_recovers(make_app):
    server = MeilisearchServer().start()
    try:
        other = make_app(MEILI_URL=server.url, MEILI_MASTER_KEY=server.master_key)
        browser = other.test_client()
        assert browser.get("/healthz").get_json() == {"status": "ok", "reasons": []}

        server.stop()
        response = browser.get("/healthz")
        # The portal still serves (search falls back to the database): no reason to take it out.
        assert response.status_code == 200
        assert response.get_json() == {"status": "degraded", "reasons": ["search unavailable"]}
        with other.app_context():
            found = health.report()
        assert found.checks["meilisearch"] == {"ok": False, "error": "MeilisearchCommunicationError"}
        assert found.checks["database"]["ok"] is True and "outbox" in found.checks

        server.start()
        assert browser.get("/healthz").get_json() == {"status": "ok", "reasons": []}
    finally:
        server.close()


def test_smtp_unreachable_is_degraded(make_app):
    other = make_app(MAIL_PORT=free_port())
    response = other.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded", "reasons": ["mail unavailable"]}
    with other.app_context():
        assert health.report().checks["smtp"] == {"ok": False, "error": "ConnectionRefusedError"}


def test_smtp_is_not_asked_when_mail_is_not_delivered(make_app):
    development = make_app(MAIL_PORT=free_port(), MAIL_DELIVER=False)
    assert development.test_client().get("/healthz").get_json() == {"status": "ok", "reasons": []}


def test_database_down_is_503(make_app):
    other = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    response = other.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "reasons": ["database unavailable"]}
    with other.app_context():
        found = health.report()
    assert found.checks["database"] == {"ok": False, "error": "OperationalError"}
    assert "outbox" not in found.checks

"""``/healthz``: database, Meilisearch and the outbox backlog, 200 when all is well and 503 when not."""

from datetime import UTC, datetime, timedelta

from portal.extensions import db
from portal.models import utcnow
from portal.services import health
from portal.services.mail import send_mail
from search_sync import outbox
from tests.factories import make_agency, make_candidate, make_company, make_contact
from tests.servers import MeilisearchServer, free_port


def queue_mail(agency, contact, subject: str, status: str = "pending"):
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
    return row


def test_healthy_reports_checks_and_empty_backlog(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["meilisearch"]["ok"] is True
    assert body["checks"]["outbox"] == {
        "mail_pending": 0,
        "mail_failed": 0,
        "mail_oldest_pending_seconds": 0,
        "search_pending": 0,
        "search_parked": 0,
    }


def test_backlog_counts_reflect_the_outboxes(app, client):
    with app.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency))
        for n in range(3):
            queue_mail(agency, contact, f"Pending {n}")
        queue_mail(agency, contact, "Waiting for five minutes").created_at = utcnow() - timedelta(minutes=5)
        queue_mail(agency, contact, "Failed", status="failed")
        queue_mail(agency, contact, "Sent", status="sent")
        # Creating a candidate writes its search outbox row in the same transaction.
        for _ in range(3):
            make_candidate(agency)
        outbox.enqueue(agency.id, "job", 1).parked = True
        db.session.commit()

    response = client.get("/healthz")
    # A backlog is reported, not treated as an outage.
    assert response.status_code == 200
    backlog = response.get_json()["checks"]["outbox"]
    assert backlog["mail_pending"] == 4
    assert backlog["mail_failed"] == 1
    assert backlog["search_pending"] == 3
    assert backlog["search_parked"] == 1
    # The oldest pending message was stored five minutes before the request.
    assert 300 <= backlog["mail_oldest_pending_seconds"] < 360


def test_meilisearch_down_is_503_and_recovers(make_app):
    server = MeilisearchServer().start()
    try:
        other = make_app(MEILI_URL=server.url, MEILI_MASTER_KEY=server.master_key)
        browser = other.test_client()
        assert browser.get("/healthz").status_code == 200

        server.stop()
        response = browser.get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "degraded"
        assert body["down"] == ["meilisearch"]
        assert body["checks"]["meilisearch"]["ok"] is False
        assert "url" not in body["checks"]["meilisearch"]  # a public endpoint: what is down, not where
        # The rest is still reported while search is down.
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["outbox"]["mail_pending"] == 0

        server.start()
        response = browser.get("/healthz")
        assert response.status_code == 200
        assert response.get_json()["down"] == []
    finally:
        server.close()


def test_database_down_is_503(make_app):
    other = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    response = other.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert "database" in body["down"]
    assert body["checks"]["database"]["ok"] is False
    assert "outbox" not in body["checks"]


def test_backlog_ages_the_oldest_pending_message_from_the_given_now(ctx):
    stored = datetime(2026, 3, 29, 0, 59, 30, tzinfo=UTC)
    agency = make_agency()
    contact = make_contact(make_company(agency))
    queue_mail(agency, contact, "Oldest").created_at = stored
    queue_mail(agency, contact, "Newer").created_at = stored + timedelta(minutes=1)
    db.session.flush()
    backlog = health.outbox_backlog(now=stored + timedelta(seconds=90))
    assert (backlog["mail_pending"], backlog["mail_oldest_pending_seconds"]) == (2, 90)

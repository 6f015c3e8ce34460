"""What ``/healthz`` reports: whether the database and Meilisearch answer, and the outbox backlog."""

from datetime import datetime

from sqlalchemy import func, select, text

from search_sync.client import meili_client

from ..extensions import db
from ..models import MailOutbox, SearchOutbox, as_utc, utcnow


def checks(now: datetime | None = None) -> dict[str, dict]:
    """Each part's state; a part with ``"ok": False`` is down. The backlog is counted only when the
    database answers, and is never an outage by itself."""
    found = {"database": database_check(), "meilisearch": meilisearch_check()}
    if found["database"]["ok"]:
        found["outbox"] = outbox_backlog(now)
    return found


def database_check() -> dict:
    """Whether the database answers ``SELECT 1``. It asks on a connection of its own, so a failure
    leaves nothing to roll back in the request's session."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def meilisearch_check() -> dict:
    """Whether Meilisearch answers its health check within a second."""
    try:
        meili_client(timeout=1).health()
    except Exception as exc:
        # The public health check says what is down, not where it lives.
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def outbox_backlog(now: datetime | None = None) -> dict:
    """Mail not sent yet (pending, failed for good, age of the oldest pending) and search changes
    not yet in Meilisearch (pending, parked)."""
    mail_counts = dict(
        db.session.execute(
            select(MailOutbox.status, func.count()).where(MailOutbox.status != "sent").group_by(MailOutbox.status)
        )
        .tuples()
        .all()
    )
    oldest = db.session.scalar(select(func.min(MailOutbox.created_at)).where(MailOutbox.status == "pending"))
    search_pending = db.session.scalar(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.parked.is_(False))
    )
    search_parked = db.session.scalar(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.parked.is_(True))
    )
    now = now or utcnow()
    return {
        "mail_pending": mail_counts.get("pending", 0),
        "mail_failed": mail_counts.get("failed", 0),
        "mail_oldest_pending_seconds": round((now - as_utc(oldest)).total_seconds()) if oldest else 0,
        "search_pending": search_pending,
        "search_parked": search_parked,
    }

"""What ``/healthz`` reports: whether the database, Meilisearch and the SMTP server answer, and
whether the outboxes are keeping up.

Three states. ``down``: the database does not answer, so the portal cannot serve (the only
state a load balancer should act on). ``degraded``: the portal serves, but something needs a
look: search, mail or the shared rate-limit storage unreachable, mail or search changes waiting longer than
``HEALTH_BACKLOG_SECONDS``, messages failed for good or search documents parked in the last
``HEALTH_FAILED_SECONDS``. ``ok``: none of these. Each problem has a short reason made of words
only; the figures behind them are for admins.
"""

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from search_sync.client import meili_client

from ..extensions import db
from ..models import MailOutbox, SearchOutbox, as_utc, utcnow
from ..ratelimit import storage_answers


@dataclass
class Report:
    """The overall ``status``, the ``reasons`` (words, safe to show anyone) and the ``checks``
    with their figures (counts and ages: for admins)."""

    status: str
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, dict] = field(default_factory=dict)


def report(now: datetime | None = None) -> Report:
    """Check every part and say how the portal is; ``now`` ages the backlog (tests pass it)."""
    now = now or utcnow()
    checks = {"database": database_check(), "meilisearch": meilisearch_check(), "smtp": smtp_check()}
    reasons = []
    if not checks["database"]["ok"]:
        reasons.append("database unavailable")
    if not checks["meilisearch"]["ok"]:
        reasons.append("search unavailable")
    if not checks["smtp"]["ok"]:
        reasons.append("mail unavailable")
    checks["rate_limits"] = rate_limit_check()
    if not checks["rate_limits"]["ok"]:
        reasons.append("rate limits degraded")
    if checks["database"]["ok"]:
        backlog = checks["outbox"] = outbox_backlog(now)
        reasons.extend(backlog_reasons(backlog))
    status = "down" if not checks["database"]["ok"] else "degraded" if reasons else "ok"
    return Report(status, reasons, checks)


def backlog_reasons(backlog: dict) -> list[str]:
    """The reasons an :func:`outbox_backlog` gives for calling the portal degraded."""
    limit = current_app.config["HEALTH_BACKLOG_SECONDS"]
    reasons = []
    if backlog["mail_oldest_pending_seconds"] > limit:
        reasons.append("mail backlog")
    if backlog["mail_failed_recently"]:
        reasons.append("mail failed")
    if backlog["search_oldest_pending_seconds"] > limit:
        reasons.append("search backlog")
    if backlog["search_parked_recently"]:
        reasons.append("search parked")
    return reasons


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


def rate_limit_check() -> dict:
    """Whether the shared rate-limit storage (Redis) answers; while it does not, each process
    counts on its own (portal/ratelimit.py). Not asked for ``memory://``."""
    answers = storage_answers()
    if answers is None:
        return {"ok": True, "skipped": True}
    return {"ok": True} if answers else {"ok": False, "error": "no answer"}


def smtp_check() -> dict:
    """Whether the SMTP server greets and answers NOOP within a second. Not asked when mail is
    not delivered (development: the worker leaves it for the mail viewer)."""
    config = current_app.config
    if not config["MAIL_DELIVER"]:
        return {"ok": True, "skipped": True}
    connect = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    try:
        with connect(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=1) as server:
            code, _ = server.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return {"ok": False, "error": type(exc).__name__}
    if code != 250:
        return {"ok": False, "error": f"NOOP answered {code}"}
    return {"ok": True}


def outbox_backlog(now: datetime | None = None) -> dict:
    """Mail not sent yet (pending, being sent, failed for good, age of the oldest waiting) and
    search changes not yet in Meilisearch (pending, parked, age of the oldest pending).
    ``*_recently``: how many failed or were parked within ``HEALTH_FAILED_SECONDS``, by the
    time they were queued (a failed message stays listed until an admin retries it; health
    should not stay degraded for ever because of one bad address)."""
    now = now or utcnow()
    recent = now - timedelta(seconds=current_app.config["HEALTH_FAILED_SECONDS"])
    mail_counts = dict(
        db.session.execute(
            select(MailOutbox.status, func.count()).where(MailOutbox.status != "sent").group_by(MailOutbox.status)
        )
        .tuples()
        .all()
    )
    mail_oldest = db.session.scalar(
        select(func.min(MailOutbox.created_at)).where(MailOutbox.status.in_(("pending", "sending")))
    )
    mail_failed_recently = db.session.scalar(
        select(func.count())
        .select_from(MailOutbox)
        .where(MailOutbox.status == "failed", MailOutbox.created_at > recent)
    )
    search_counts = dict(
        db.session.execute(select(SearchOutbox.parked, func.count()).group_by(SearchOutbox.parked)).tuples().all()
    )
    search_oldest = db.session.scalar(select(func.min(SearchOutbox.created_at)).where(SearchOutbox.parked.is_(False)))
    search_parked_recently = db.session.scalar(
        select(func.count())
        .select_from(SearchOutbox)
        .where(SearchOutbox.parked.is_(True), SearchOutbox.created_at > recent)
    )
    return {
        "mail_pending": mail_counts.get("pending", 0),
        "mail_sending": mail_counts.get("sending", 0),
        "mail_failed": mail_counts.get("failed", 0),
        "mail_failed_recently": mail_failed_recently or 0,
        "mail_oldest_pending_seconds": _age(mail_oldest, now),
        "search_pending": search_counts.get(False, 0),
        "search_parked": search_counts.get(True, 0),
        "search_parked_recently": search_parked_recently or 0,
        "search_oldest_pending_seconds": _age(search_oldest, now),
    }


def _age(stored: datetime | None, now: datetime) -> int:
    """Whole seconds since ``stored`` (0 when nothing waits, or it is stamped after ``now``)."""
    return max(0, round((now - as_utc(stored)).total_seconds())) if stored else 0

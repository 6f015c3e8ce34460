"""``/healthz`` and ``/dev/mail``."""

from flask import Blueprint, abort, current_app, jsonify, render_template
from sqlalchemy import func, select, text

from search_sync.client import meili_client

from ...extensions import db
from ...models import MailOutbox, SearchOutbox, as_utc, utcnow

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """Database, Meilisearch and outbox backlog as JSON: 200 when all is well, else 503."""
    checks: dict = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        db.session.rollback()
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        meili_client(timeout=1).health()
        checks["meilisearch"] = {"ok": True}
    except Exception as exc:
        # The public health check says what is down, not where it lives.
        checks["meilisearch"] = {"ok": False, "error": type(exc).__name__}
    if checks["database"]["ok"]:
        checks["outbox"] = _backlog()
    healthy = all(part.get("ok", True) for part in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "down": [name for name, part in checks.items() if not part.get("ok", True)],
        "checks": checks,
    }
    return jsonify(body), 200 if healthy else 503


def _backlog() -> dict:
    mail_counts = dict(
        db.session.execute(
            select(MailOutbox.status, func.count()).where(MailOutbox.status != "sent").group_by(MailOutbox.status)
        ).all()
    )
    oldest = db.session.scalar(select(func.min(MailOutbox.created_at)).where(MailOutbox.status == "pending"))
    search_pending = db.session.scalar(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.parked.is_(False))
    )
    search_parked = db.session.scalar(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.parked.is_(True))
    )
    return {
        "mail_pending": mail_counts.get("pending", 0),
        "mail_failed": mail_counts.get("failed", 0),
        "mail_oldest_pending_seconds": round((utcnow() - as_utc(oldest)).total_seconds()) if oldest else 0,
        "search_pending": search_pending,
        "search_parked": search_parked,
    }


@bp.get("/dev/mail")
def dev_mail():
    """Development only: every queued or sent message, newest first, links clickable (M2)."""
    if not current_app.config["DEV_MAIL_VIEWER"]:
        abort(404)
    messages = db.session.scalars(select(MailOutbox).order_by(MailOutbox.id.desc()).limit(200)).all()
    return render_template("system/dev_mail.html", messages=messages)


@bp.get("/dev/mail/<int:message_id>")
def dev_mail_show(message_id: int):
    """Development only: one message's HTML body, as the recipient would see it."""
    if not current_app.config["DEV_MAIL_VIEWER"]:
        abort(404)
    message = db.session.get(MailOutbox, message_id) or abort(404)
    return render_template("system/dev_mail_show.html", message=message)

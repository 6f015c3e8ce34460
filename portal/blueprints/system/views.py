"""``/healthz`` and ``/dev/mail``."""

from flask import Blueprint, abort, jsonify, render_template

from ...security import development_request_allowed
from ...services import health
from ...services.mail import messages_for_viewer

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """Database, Meilisearch and outbox backlog as JSON: 200 when all is well, else 503."""
    checks = health.checks()
    healthy = all(part.get("ok", True) for part in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "down": [name for name, part in checks.items() if not part.get("ok", True)],
        "checks": checks,
    }
    return jsonify(body), 200 if healthy else 503


@bp.get("/dev/mail")
def dev_mail():
    """Development only, from this machine only: every queued or sent message, newest first, links
    clickable (M2). Anywhere else it is not there (404): it shows every agency's sign-in links."""
    if not development_request_allowed():
        abort(404)
    return render_template("system/dev_mail.html", messages=messages_for_viewer())


@bp.get("/dev/mail/<int:message_id>")
def dev_mail_show(message_id: int):
    """Development only, from this machine only: one message's HTML body, as the recipient would see it."""
    if not development_request_allowed():
        abort(404)
    found = messages_for_viewer(message_id=message_id)
    if not found:
        abort(404)
    return render_template("system/dev_mail_show.html", message=found[0])

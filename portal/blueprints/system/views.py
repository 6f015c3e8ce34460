"""``/healthz`` and ``/dev/mail``."""

from flask import Blueprint, abort, jsonify, render_template
from flask_login import current_user

from ...security import development_request_allowed
from ...services import health
from ...services.mail import messages_for_viewer

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """``{"status": "ok" | "degraded" | "down", "reasons": [...]}``: 503 only when the database is
    down (the portal cannot serve); a degraded portal still serves, so 200. Reasons are words
    only; a signed-in admin also gets ``checks``, the figures (counts, ages) behind them."""
    report = health.report()
    body: dict = {"status": report.status, "reasons": report.reasons}
    # Who is asking is looked up in the database: only when it answers.
    if report.status != "down" and current_user.is_authenticated and current_user.is_admin:
        body["checks"] = report.checks
    response = jsonify(body)
    response.status_code = 503 if report.status == "down" else 200
    response.headers["Cache-Control"] = "no-store"
    return response


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

"""Alerts (A4): the user's list, the polled unread badge, and marking alerts read."""

from flask import make_response, render_template
from flask_login import current_user

from ...htmx import render
from ...scoping import get_own_alert_or_404
from ...services import alerts as alert_service
from ...unit_of_work import unit_of_work
from . import bp


def _alert_list_context() -> dict:
    """What ``agency/_alert_list.html`` needs: the latest alerts, unread first, and the count."""
    return {"alerts": alert_service.recent_alerts(current_user), "unread": alert_service.unread_count(current_user)}


@bp.get("/alerts")
def alerts():
    """The user's alerts, unread first."""
    return render("agency/alerts.html", "agency/_alert_list.html", **_alert_list_context())


@bp.get("/alerts/badge")
def alert_badge():
    """The unread count, polled by the nav badge (htmx ``every 15s``)."""
    return make_response(render_template("agency/_alert_badge.html", unread=alert_service.unread_count(current_user)))


def _alert_list_response():
    """The list again, and an event so the badge refreshes at once."""
    response = render("agency/alerts.html", "agency/_alert_list.html", **_alert_list_context())
    response.headers["HX-Trigger"] = "alerts-changed"
    return response


@bp.post("/alerts/<int:alert_id>/read")
def read_alert(alert_id: int):
    """Mark one alert read."""
    alert = get_own_alert_or_404(alert_id)
    with unit_of_work():
        alert_service.mark_read(current_user, alert.id)
    return _alert_list_response()


@bp.post("/alerts/read-all")
def read_all_alerts():
    """Mark every alert read."""
    with unit_of_work():
        alert_service.mark_read(current_user)
    return _alert_list_response()

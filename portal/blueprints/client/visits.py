"""The contact's visits: "new since your last visit" counts from the start of the current one."""

from datetime import datetime, timedelta

from flask import request, session
from flask_login import current_user

from ...models import as_utc, utcnow
from ...services import preferences
from ...services.client_overview import record_visit
from ...unit_of_work import unit_of_work

# A new visit starts after this much quiet.
VISIT_GAP = timedelta(minutes=30)
# last_visit_at is written at most this often: a write on every click would serialise page views.
LAST_VISIT_PRECISION = timedelta(minutes=5)


def track_visit() -> None:
    """Start a new visit after VISIT_GAP of quiet: its start is the "new since" baseline."""
    now = utcnow()
    last = as_utc(current_user.last_visit_at)
    if last is None or now - last > VISIT_GAP or "visit_baseline" not in session:
        session["visit_baseline"] = last.isoformat() if last else ""
    if last is None or now - last > LAST_VISIT_PRECISION:
        with unit_of_work():
            record_visit(current_user, now)


def baseline() -> datetime | None:
    """When the contact was last seen before this visit began (None on their first visit)."""
    value = session.get("visit_baseline")
    return datetime.fromisoformat(value) if value else None


def adopt_browser_zone() -> None:
    """The first time a contact whose zone nobody chose acts (a POST), keep the zone their browser
    reported (``browser_timezone``, filled by static/js/browser-zone.js)."""
    if request.method != "POST" or preferences.zone_is_chosen(current_user):
        return
    reported = request.form.get("browser_timezone")
    if reported:
        with unit_of_work():
            preferences.adopt_browser_zone(current_user._get_current_object(), reported)

"""How long a signed-in session lasts, and what ends it (ASVS 4.0 V3.2, V3.3).

A session lives in Flask's signed cookie. Signing in clears it and fills it afresh (so nothing
from before, such as the anonymous CSRF token, is carried over) with a new random session id and
the sign-in instant and last-seen instant (UTC epoch seconds). On every request the user loader
(``portal.auth_loader``) keeps the principal only while all of this holds:

- the ``session_version`` in Flask-Login's id still matches the row: setting a password, a role
  change and deactivation bump it, ending every session of that person at once;
- the session id was not signed out: logout records it in ``ended_session``, so the cookie, and
  every copy of it, stops working. Logout ends this session only (a contact signed in on their
  phone stays signed in there); it does not bump ``session_version``, which a contact's emailed
  links carry and which would otherwise revoke them;
- staff: less than ``STAFF_IDLE_TIMEOUT_MINUTES`` (30) since the last request (polls excluded) and less than
  ``STAFF_ABSOLUTE_TIMEOUT_HOURS`` (12) since sign-in, ASVS 4.0 V3.3.2 level 2 (NIST 800-63B
  AAL2). Staff cookies are browser-session cookies; the limits are enforced here, not by expiry;
- client contacts: less than ``CLIENT_SESSION_DAYS`` (14, as long as a job landing link, C2)
  since sign-in, however active; no idle limit (they arrive by an emailed link, often days apart).

A contact session opened with a link a staff member revealed ("Copy link") carries that staff
member's id (``REVEALED_BY``): the loader sets ``contact.revealed_by``, and the timeline and the
security log record what is done in the session as done by that person for the contact.
"""

import secrets
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, session
from flask_login import login_user

from .extensions import db
from .models import EndedSession, User, utcnow

SESSION_ID = "_sid"
SIGNED_IN_AT = "_signed_in_at"
SEEN_AT = "_seen_at"
REVEALED_BY = "_revealed_by"
AUTH_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")  # Flask-Login's
# Requests the page makes on its own (the alert badge polls every 15 s) are not the person's activity:
# an open tab must not keep a session alive past the idle limit.
BACKGROUND_ENDPOINTS = frozenset({"agency.alert_badge"})
# Last-seen is rewritten at most once a minute, not on every request (each rewrite re-sends the cookie).
SEEN_STEP_SECONDS = 60


def init_app(app: Flask) -> None:
    """The cookie lifetime (and Flask's signature age) covers the longest session allowed."""
    longest = max(
        timedelta(days=app.config["CLIENT_SESSION_DAYS"]), timedelta(hours=app.config["STAFF_ABSOLUTE_TIMEOUT_HOURS"])
    )
    app.config["PERMANENT_SESSION_LIFETIME"] = longest


def fresh_fields(now: datetime) -> dict:
    """A new session's own keys: a random id and the sign-in instant."""
    instant = int(now.timestamp())
    return {SESSION_ID: secrets.token_urlsafe(32), SIGNED_IN_AT: instant, SEEN_AT: instant}


def start(principal, now: datetime | None = None, revealed_by: int | None = None) -> None:
    """Sign ``principal`` in on a fresh session (new id; nothing carried over from before);
    ``revealed_by``: the staff member whose revealed link opened this contact session."""
    session.clear()
    login_user(principal, remember=False)
    session.update(fresh_fields(now or utcnow()))
    if revealed_by is not None:
        session[REVEALED_BY] = revealed_by
    # Contacts keep their cookie across browser restarts (for CLIENT_SESSION_DAYS); staff do not.
    session.permanent = bool(principal.is_contact)


def absolute_limit(principal) -> timedelta:
    """How long after sign-in a session of ``principal`` ends, active or not."""
    if principal.is_staff:
        return timedelta(hours=current_app.config["STAFF_ABSOLUTE_TIMEOUT_HOURS"])
    return timedelta(days=current_app.config["CLIENT_SESSION_DAYS"])


def ends_at(principal, data: Mapping) -> datetime:
    """The instant this session stops being valid whatever happens (for pruning ended ids)."""
    signed_in = data.get(SIGNED_IN_AT)
    start_at = datetime.fromtimestamp(signed_in, UTC) if isinstance(signed_in, int) else utcnow()
    return start_at + absolute_limit(principal)


def problem(principal, data: Mapping, now: datetime) -> str | None:
    """Why this session of ``principal`` is over ("incomplete", "expired", "idle", "signed out"), or None."""
    session_id, signed_in, seen = data.get(SESSION_ID), data.get(SIGNED_IN_AT), data.get(SEEN_AT)
    if not isinstance(session_id, str) or not isinstance(signed_in, int) or not isinstance(seen, int):
        return "incomplete"  # made before these limits existed, or tampered with: sign in again
    instant = int(now.timestamp())
    if instant - signed_in >= absolute_limit(principal).total_seconds():
        return "expired"
    if principal.is_staff and instant - seen >= current_app.config["STAFF_IDLE_TIMEOUT_MINUTES"] * 60:
        return "idle"
    if db.session.get(EndedSession, session_id) is not None:
        return "signed out"
    return None


def forget(data: MutableMapping) -> None:
    """Drop who the session was for (an ended session), keeping the rest (e.g. a CSRF token a page
    being rendered has just put there)."""
    for key in (*AUTH_KEYS, SESSION_ID, SIGNED_IN_AT, SEEN_AT, REVEALED_BY):
        data.pop(key, None)


def touch(data: MutableMapping, now: datetime, endpoint: str | None) -> None:
    """Record the person's activity: the idle limit counts from here."""
    if endpoint in BACKGROUND_ENDPOINTS:
        return
    instant = int(now.timestamp())
    if instant - data.get(SEEN_AT, 0) >= SEEN_STEP_SECONDS:
        data[SEEN_AT] = instant


def revealed_by(principal, data: Mapping) -> User | None:
    """The staff member of the contact's agency whose revealed link opened this session, if any."""
    user_id = data.get(REVEALED_BY)
    if not principal.is_contact or not isinstance(user_id, int):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.agency_id == principal.agency_id else None

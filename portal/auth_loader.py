"""Flask-Login wiring for two kinds of principal under one ``current_user``."""

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session, url_for
from flask_login import current_user

from . import sessions
from .extensions import db, login_manager
from .htmx import redirect_for
from .models import utcnow
from .services.security_log import record_security_event
from .unit_of_work import unit_of_work

# A staff session ended by a time limit is recorded (when it is next presented) as one of these.
TIMEOUT_EVENTS = {"idle": "session_idle_timeout", "expired": "session_absolute_timeout"}

if TYPE_CHECKING:
    from .models import ClientContact, User


def load_principal(session_id: str) -> "User | ClientContact | None":
    """Resolve ``"u:<id>:<version>"`` / ``"c:<id>:<version>"``; a stale version, an inactive row or a
    session past its limits or signed out (``portal.sessions``) signs out
    (the session forgets who it was)."""
    from .models import ClientContact, User

    try:
        kind, raw_id, version = session_id.split(":")
        principal_id = int(raw_id)
    except ValueError:
        return None
    principal: User | ClientContact | None
    if kind == "u":
        principal = db.session.get(User, principal_id)
    elif kind == "c":
        principal = db.session.get(ClientContact, principal_id)
    else:
        return None
    if principal is None or not principal.active or str(principal.session_version) != version:
        sessions.forget(session)
        return None
    now = utcnow()
    problem = sessions.problem(principal, session, now)
    if problem is not None:
        if principal.is_staff and problem in TIMEOUT_EVENTS:
            _record_timeout(principal, TIMEOUT_EVENTS[problem], now)
        sessions.forget(session)
        return None
    if principal.is_staff:
        sessions.touch(session, now, request.endpoint)
    else:
        principal.revealed_by = sessions.revealed_by(principal, session)
    return principal


def _record_timeout(user: "User", kind: str, now) -> None:
    """The security log's record of a staff session its idle or absolute limit ended, in a unit of
    work of its own (the principal is resolved before any view runs: see ``init_app``). The cookie
    forgets who it was for at once, so one presented session makes one record."""
    limits = {
        "session_idle_timeout": {"idle_limit_minutes": current_app.config["STAFF_IDLE_TIMEOUT_MINUTES"]},
        "session_absolute_timeout": {"absolute_limit_hours": current_app.config["STAFF_ABSOLUTE_TIMEOUT_HOURS"]},
    }
    with unit_of_work():
        record_security_event(kind, agency_id=user.agency_id, subject=user, now=now, **limits[kind])


def _asked_for() -> str | None:
    """The page a contact wanted when their session had ended: this one for a page view, the page
    an htmx action was sent from (``HX-Current-URL``, same site only) for an action."""
    if request.headers.get("HX-Request") == "true":
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.netloc and current.netloc != request.host:
            return None
        return current.path + (f"?{current.query}" if current.query else "") or None
    return request.full_path.rstrip("?") if request.method == "GET" else None


def init_app(app: Flask) -> None:
    """Register the loader and the unauthorised handler."""
    sessions.init_app(app)
    login_manager.user_loader(load_principal)
    login_manager.session_protection = "basic"

    @app.before_request
    def _resolve_principal():
        # Flask-Login loads the principal on first use of current_user, which could be inside a
        # view's unit of work; the loader may record an ended session in a unit of work of its own,
        # so it runs first, before any view (static files carry no session worth resolving).
        if request.endpoint != "static" and "_user_id" in session:
            current_user._get_current_object()

    @login_manager.unauthorized_handler
    def _unauthorised():
        slug = request.view_args.get("slug") if request.view_args else None
        if request.blueprint == "client" or request.path.startswith("/portal"):
            if slug:
                asked_for = _asked_for()
                home = url_for("client.index", slug=slug)
                # The home page is where a sign-in lands anyway: no ``next`` needed for it.
                target = url_for("auth.client_login", slug=slug, next=asked_for if asked_for != home else None)
            else:
                target = url_for("auth.signed_out")
        else:
            target = url_for("auth.staff_login", next=request.full_path.rstrip("?"))
        return redirect_for(target, 302)

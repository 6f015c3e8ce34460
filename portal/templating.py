"""The one home of Jinja filters, globals and the ``brand`` context: registered on the app, so no
template depends on which blueprint happened to register a helper first."""

from datetime import UTC, datetime

from flask import Flask, g, has_request_context
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .scoping import current_agency
from .services.branding import logo_data_uri, render_welcome
from .services.interviews import client_zone, format_in_zone
from .services.mail import absolute_url


def in_zone(value: datetime | None, zone_name: str | None = None) -> str:
    """A stored UTC time shown in a zone (the viewer's by default), with the zone's name."""
    if value is None:
        return ""
    return format_in_zone(value, zone_name or viewer_zone())


def viewer_zone() -> str | None:
    """The zone the signed-in person reads times in: their own; for a client contact who has not
    chosen one yet, the zone their company uses (see ``client_zone``). Worked out once a request."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return None
    if not current_user.is_contact:
        return current_user.timezone
    if "_viewer_zone" not in g:
        g._viewer_zone = client_zone(current_user, None)
    return g._viewer_zone


def search_date(seconds: int) -> str:
    """Unix seconds from the search index as a plain UTC date."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%d %b %Y")


def _brand() -> dict:
    """``brand``: the agency whose branding the page wears."""
    # Emails are rendered outside requests too (the worker) and name their agency themselves.
    # Never roll back here: a template rendered mid-transaction must not discard the caller's work.
    if not has_request_context():
        return {"brand": None}
    try:
        return {"brand": current_agency()}
    except SQLAlchemyError:
        # The error page for a failed database must still render, unbranded.
        return {"brand": None}


def init_app(app: Flask) -> None:
    """Register the filters (``in_zone``, ``welcome_html``, ``logo_data_uri``, ``search_date``),
    the ``absolute_url`` global and the ``brand`` context."""
    app.add_template_filter(in_zone, "in_zone")
    app.add_template_filter(render_welcome, "welcome_html")
    app.add_template_filter(logo_data_uri, "logo_data_uri")
    app.add_template_filter(search_date, "search_date")
    app.add_template_global(absolute_url, "absolute_url")
    app.add_template_global(viewer_zone, "viewer_zone")
    app.context_processor(_brand)

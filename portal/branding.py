"""The agency whose branding a page wears, and the per-agency CSS custom properties."""

from flask import Flask, abort, g, has_request_context, make_response, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import Agency


def agency_by_slug(slug: str) -> Agency | None:
    """The agency for a URL slug (one indexed lookup, memoised for the request)."""
    cache = g.setdefault("_agency_by_slug", {})
    if slug not in cache:
        cache[slug] = db.session.scalar(select(Agency).where(Agency.slug == slug))
    return cache[slug]


def agency_or_404(slug: str) -> Agency:
    """The agency for a slug, or a 404."""
    agency = agency_by_slug(slug)
    if agency is None:
        abort(404)
    return agency


def current_agency() -> Agency | None:
    """The agency for this request: the principal's, else the one named in the URL."""
    if current_user and current_user.is_authenticated:
        return current_user.agency
    slug = (request.view_args or {}).get("slug")
    return agency_by_slug(slug) if slug else None


def brand_css(agency: Agency) -> str:
    """CSS custom properties carrying the agency's colours (served as a file: strict CSP)."""
    return f":root{{--brand-primary:{agency.primary_color};--brand-accent:{agency.accent_color};}}\n"


def init_app(app: Flask) -> None:
    """Expose ``brand`` to templates and serve ``/brand/<slug>.css``."""

    @app.context_processor
    def _brand():
        # Emails are rendered outside requests too (the worker) and name their agency themselves.
        # Never roll back here: a template rendered mid-transaction must not discard the caller's work.
        if not has_request_context():
            return {"brand": None}
        try:
            return {"brand": current_agency()}
        except SQLAlchemyError:
            # The error page for a failed database must still render, unbranded.
            return {"brand": None}

    @app.get("/brand/<slug>.css")
    def brand_stylesheet(slug: str):
        agency = agency_or_404(slug)
        response = make_response(brand_css(agency))
        response.headers["Content-Type"] = "text/css; charset=utf-8"
        # The URL carries ?v=<branding_version>, so a long cache is safe.
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    @app.get("/brand/<slug>/logo")
    def brand_logo(slug: str):
        agency = agency_or_404(slug)
        if not agency.logo_png:
            abort(404)
        response = make_response(agency.logo_png)
        response.headers["Content-Type"] = agency.logo_content_type or "image/png"
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

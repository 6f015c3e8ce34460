"""``/brand/<slug>.css`` and ``/brand/<slug>/logo``: public, cached for a year (the URLs carry
``?v=<branding_version>``, so a change of branding is a new URL)."""

from flask import Blueprint, abort, make_response

from ...models import Agency
from ...scoping import agency_or_404

bp = Blueprint("brand", __name__, url_prefix="/brand")

FOREVER = "public, max-age=31536000, immutable"


def brand_css(agency: Agency) -> str:
    """CSS custom properties carrying the agency's colours (served as a file: strict CSP)."""
    return f":root{{--brand-primary:{agency.primary_color};--brand-accent:{agency.accent_color};}}\n"


@bp.get("/<slug>.css")
def stylesheet(slug: str):
    """The agency's colours as CSS custom properties."""
    response = make_response(brand_css(agency_or_404(slug)))
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = FOREVER
    return response


@bp.get("/<slug>/logo")
def logo(slug: str):
    """The agency's re-encoded logo; 404 when it has none."""
    agency = agency_or_404(slug)
    if not agency.logo_png:
        abort(404)
    response = make_response(agency.logo_png)
    response.headers["Content-Type"] = agency.logo_content_type or "image/png"
    response.headers["Cache-Control"] = FOREVER
    return response

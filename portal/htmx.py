"""One URL serves both the full page and its htmx fragment."""

from flask import Response, flash, make_response, render_template, request
from werkzeug.urls import iri_to_uri


def is_htmx() -> bool:
    """True for htmx requests that want a fragment (boosted navigations want the page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render(page: str, partial: str | None = None, status: int = 200, **context) -> Response:
    """Render ``partial`` for htmx requests and ``page`` otherwise; caches must keep them apart."""
    template = partial if partial and is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def hx_redirect(url: str) -> Response:
    """Redirect an htmx request with ``HX-Redirect`` (a 302 would be swapped into the page).
    Header values are Latin-1 on the wire, so a path with other characters (a ``next`` of
    ``/agency/jobs?q=Müller``) is percent-encoded as UTF-8, as browsers do for ``Location``."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = iri_to_uri(url)
    return response


def redirect_for(url: str, code: int = 303) -> Response:
    """A redirect that works for both plain and htmx requests."""
    if request.headers.get("HX-Request") == "true":
        return hx_redirect(url)
    response = make_response("", code)
    response.headers["Location"] = iri_to_uri(url)
    return response


def toast(response: Response, message: str, level: str = "info") -> Response:
    """Ask the page to show a toast (handled by static/js/portal.js), once per action.

    A redirect's toast would flash on the page being left (htmx) or be lost (a plain form post),
    so it becomes a flashed message, shown once by the page the browser lands on; a response that
    already shows ``message`` in place must not call this as well."""
    import json

    if "HX-Redirect" in response.headers or 300 <= response.status_code < 400:
        flash(message)
        return response
    response.headers["HX-Trigger"] = json.dumps({"toast": {"message": message, "level": level}})
    return response

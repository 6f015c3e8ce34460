"""Response hardening: a strict Content-Security-Policy, the usual headers, no caching of anything a
signed-in principal is shown, and the loopback-only guard of the development pages."""

from ipaddress import ip_address

from flask import Flask, Response, current_app, request, session

from .access_log import redact_werkzeug_log

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# Public assets that keep their own caching even when a signed-in browser asks for them.
PUBLIC_ASSET_ENDPOINTS = frozenset({"static", "brand.stylesheet", "brand.logo"})


def init_app(app: Flask) -> None:
    """Add security headers to every response; keep tokens out of the development server's log."""
    redact_werkzeug_log()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint not in PUBLIC_ASSET_ENDPOINTS and "_user_id" in session:
            # Pages, htmx partials and downloads of a session: never kept by the browser or a proxy
            # (the back button on a shared computer after sign-out, a cache between here and there).
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ip_address(address.strip()).is_loopback
    except ValueError:
        return False


def development_request_allowed() -> bool:
    """The development-only pages (``/dev/mail``) answer only a development app (never production,
    whatever its settings) asked from this machine: the peer is loopback and no proxy in front
    says the request came from elsewhere."""
    if current_app.config["ENV_NAME"] not in ("development", "testing") or not current_app.config["DEV_MAIL_VIEWER"]:
        return False
    forwarded = [hop for header in request.headers.getlist("X-Forwarded-For") for hop in header.split(",")]
    original_peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    peers = [request.remote_addr, *forwarded, *([original_peer] if original_peer else [])]
    if request.headers.get("Forwarded") or request.headers.get("X-Real-IP"):
        return False
    return all(_is_loopback(peer) for peer in peers)

"""Branded error pages; htmx requests get a small fragment for the toast area instead."""

import json
import logging
import math
import time

from flask import Flask, make_response, render_template, request, session
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError

from . import ratelimit
from .extensions import db
from .htmx import is_htmx
from .services import security_log, two_factor
from .unit_of_work import is_lock_timeout, unit_of_work

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You do not have access to this page."),
    404: ("Not found", "This page does not exist, or you do not have access to it."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "The file is larger than allowed."),
    429: ("Too many attempts", "Please wait a few minutes and try again."),
    500: ("Something went wrong", "We could not complete that. Nothing was saved; please try again."),
    503: ("Busy", "The portal is busy, try again in a moment. Nothing was saved."),
}
# Seconds a client is asked to wait after a 503 "busy": a write lock is held for a batch, not long.
BUSY_RETRY_AFTER = 2


def render_error(code: int, title: str | None = None, message: str | None = None, retry_after: int | None = None):
    """The branded error page (or fragment) for ``code``; ``retry_after`` (seconds), when known,
    tells the reader when to try again (the 429 and 503 pages)."""
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    template = "partials/error.html" if is_htmx() else "errors/error.html"
    response = make_response(
        render_template(
            template,
            code=code,
            title=title or default_title,
            message=message or default_message,
            retry_after=retry_after,
            try_again=try_again_words(retry_after),
        ),
        code,
    )
    # Page or fragment depends on HX-Request, and a 404 is cacheable by default: keep them apart.
    response.vary.add("HX-Request")
    return response


def try_again_words(retry_after: int | None) -> str | None:
    """ "Try again in 45 seconds." / "… in 3 minutes." for a wait in seconds (None when unknown)."""
    if retry_after is None or retry_after < 0:
        return None
    if retry_after < 60:
        seconds = max(int(retry_after), 1)
        return f"Try again in {seconds} second{'s' if seconds != 1 else ''}."
    minutes = math.ceil(retry_after / 60)
    return f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _retry_after(exc) -> int | None:
    """Seconds until the limit that refused this request lets it through: the exception's own
    ``retry_after`` when it has one, else the rate limiter's window for this request."""
    value = getattr(exc, "retry_after", None)
    if value is None:
        from .extensions import limiter

        try:
            current = limiter.current_limit
        except Exception:
            current = None
        value = current.reset_at - time.time() if current is not None else None
    return math.ceil(value) if value is not None else None


def _too_many(exc):
    """429 saying when to try again; htmx forms (the sign-in form) get it as a toast too."""
    retry_after = _retry_after(exc)
    response = render_error(429, retry_after=retry_after)
    if is_htmx():
        _, message = MESSAGES[429]
        words = try_again_words(retry_after)
        response.headers["HX-Trigger"] = json.dumps(
            {"toast": {"message": f"Too many attempts. {words or message}", "level": "error"}}
        )
    return response


def init_app(app: Flask) -> None:
    """Register handlers for the codes users meet."""
    for code in MESSAGES:
        app.register_error_handler(code, lambda exc, code=code: render_error(code))
    app.register_error_handler(429, _too_many)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return render_error(
            400, "Form expired", "This form expired or was not sent from this site. Reload the page and try again."
        )

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc):
        wait = ratelimit.refusal_wait(exc)
        if ratelimit.first_refusal_by_address(exc):
            _record_refusal(exc)
        message = f"You have tried this too often from here. {wait.words}"
        response = render_error(429, message=message)
        if is_htmx():  # an error answer is not swapped into the page: say it in the toast area
            response.headers["HX-Trigger"] = json.dumps({"toast": {"message": message, "level": "error"}})
        return ratelimit.retry_after(response, wait)

    @app.errorhandler(500)
    def _server_error(exc):
        db.session.rollback()
        return render_error(500)

    @app.errorhandler(OperationalError)
    def _database_busy(exc):
        # Another writer held the lock past the busy timeout: nothing of this request was saved
        # (its unit of work rolled back) and the same request can succeed in a moment.
        if not is_lock_timeout(exc):
            raise exc  # any other database failure is a 500, logged as such
        db.session.rollback()
        return busy_response()


def _record_refusal(exc: RateLimitExceeded) -> None:
    """The security log's record of a per-address refusal, in a unit of work of its own (the request
    itself saves nothing). A database too busy to take it does not turn the 429 into an error."""
    pending = two_factor.pending_user(session.get(two_factor.SESSION_KEY))  # the second-factor step
    route = request.url_rule.rule if request.url_rule is not None else request.path
    try:
        with unit_of_work():
            security_log.rate_limit_refused(
                route,
                str(exc.limit.limit),
                slug=(request.view_args or {}).get("slug"),
                email=request.form.get("email"),
                user=pending,
            )
    except OperationalError as error:
        if not is_lock_timeout(error):
            raise
        log.warning("The rate-limit refusal on %s was not recorded: the database was busy.", route)


def busy_response():
    """503 "busy, try again" with ``Retry-After``; htmx requests also get it as a toast, since an
    error response is not swapped into the page."""
    response = render_error(503, retry_after=BUSY_RETRY_AFTER)
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    if is_htmx():
        _, message = MESSAGES[503]
        response.headers["HX-Trigger"] = json.dumps({"toast": {"message": message, "level": "error"}})
    return response

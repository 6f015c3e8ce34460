"""Rate limits that hold across processes, and the client address they are keyed on.

Production keeps the counters in shared storage (``PORTAL_RATELIMIT_STORAGE_URI``, Redis): with
``memory://`` every gunicorn worker counts on its own, so two workers let twice the limit through.
The web process (gunicorn, through ``gunicorn.conf.py``) refuses to start in production with
``memory://`` unless the install says it runs a single process (``PORTAL_RATELIMIT_SINGLE_PROCESS=true``
and one gunicorn worker). Only the web process counts anything: ``flask db upgrade`` and the worker
start whatever the setting.

When the shared storage stops answering, sign-in must not become a 500: each app falls back to
counting in its own memory (the same limits, per process) and logs it, asks the storage again
every ``STORAGE_RECHECK_SECONDS``, and ``/healthz`` says "rate limits degraded". A storage that
accepts the connection and then says nothing (a hung Redis) counts as down too: its socket waits at
most ``PORTAL_RATELIMIT_TIMEOUT_S`` (0.5 s) to connect and to read, so it cannot hang a request.

Every refusal (429) says when to try again, in words on the page and as ``Retry-After`` in
seconds (:class:`Wait`). A refusal by a per-address limit is also recorded in the security log,
once per address, route and window (a burst of refusals is one event).

Behind a reverse proxy every request comes from the proxy's address: ``PORTAL_TRUSTED_PROXIES``
(the number of proxies in front of the app, default 0) makes ``ProxyFix`` take the client address
from that many ``X-Forwarded-For`` hops. With 0 the header is ignored, so a client cannot forge
its way into a fresh bucket.
"""

import logging
import math
import time
import weakref
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, has_app_context, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import STRATEGIES, RateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

_STATE = "portal.ratelimit"
_RETRY_AFTER = "portal_retry_after"  # the refusal's wait, in ``g``, for the Retry-After header
STORAGE_RECHECK_SECONDS = 30
# URI schemes of a Redis storage (limits): their sockets get the short timeout.
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wait:
    """How long a refused request must wait before the same thing is allowed again."""

    seconds: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", max(1, int(self.seconds)))  # "now" is a second away at best

    @property
    def words(self) -> str:
        """The sentence that tells the person, such as "Try again in 10 minutes." (rounded up)."""
        return f"Try again in {duration_in_words(self.seconds)}."


def duration_in_words(seconds: int) -> str:
    """``seconds`` as a person says it, rounded up: "45 seconds", "1 minute", "10 minutes", "24 hours"."""
    seconds = max(1, seconds)
    if seconds < 60:
        amount, unit = seconds, "second"
    elif seconds <= 90 * 60:
        amount, unit = math.ceil(seconds / 60), "minute"
    else:
        amount, unit = math.ceil(seconds / 3600), "hour"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def wait_until(reset_at: float) -> Wait:
    """The wait until the instant ``reset_at`` (epoch seconds), in whole seconds rounded up."""
    return Wait(math.ceil(reset_at - time.time()))


def retry_after(response: Response, wait: Wait) -> Response:
    """A 429 ``response`` says how many seconds to wait (``Retry-After``); any other answer (the
    redirect of a request without htmx, which flashes the words) is left as it is."""
    if response.status_code == 429:
        response.headers["Retry-After"] = str(wait.seconds)
        setattr(g, _RETRY_AFTER, wait.seconds)
    return response


@dataclass
class _AppLimits:
    """One app's counters: the configured storage, and the in-memory stand-in used while it is down."""

    storage: Storage
    limiter: RateLimiter
    fallback: RateLimiter
    down_since: float | None = None

    def current(self) -> RateLimiter:
        """The limiter to count with now: the configured storage unless it failed lately."""
        if self.down_since is not None and time.monotonic() - self.down_since >= STORAGE_RECHECK_SECONDS:
            if self.storage.check():
                log.warning("Rate-limit storage answers again: counting in shared storage.")
                self.down_since = None
            else:
                self.down_since = time.monotonic()
        return self.limiter if self.down_since is None else self.fallback

    def storage_failed(self, exc: Exception) -> None:
        if self.down_since is None:
            log.error(
                "Rate-limit storage unreachable (%s): counting in this process's memory until it answers.",
                type(exc).__name__,
            )
        self.down_since = time.monotonic()


class PortalLimiter(Limiter):
    """Flask-Limiter with the storage held per app instead of per (module-global) extension.

    The decorators register their limits on the one ``limiter`` object, but each app built by
    ``create_app`` opens its own storage, as each gunicorn worker does: so two apps in one process
    behave like two workers (the tests rely on it), and the last app built does not silently
    take over the counters of the others.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._apps: weakref.WeakSet[Flask] = weakref.WeakSet()

    def init_app(self, app: Flask) -> None:
        self._storage_options = {}  # options of one app's storage must not leak into the next
        # Registered before Flask-Limiter's own header hook, so it runs after it (Flask runs them
        # in reverse): that hook puts the end of the route's window (plus a second) in Retry-After
        # of every response, which is not when a refusal for another reason (the sign-in back-off,
        # a per-person throttle) may be retried.
        app.after_request(_retry_after_header)
        super().init_app(app)
        assert self._storage is not None and self._limiter is not None  # set by Limiter.init_app
        strategy = STRATEGIES[self._strategy or app.config.get("RATELIMIT_STRATEGY", "fixed-window")]
        app.extensions[_STATE] = _AppLimits(self._storage, self._limiter, strategy(MemoryStorage()))
        self._apps.add(app)

    @property
    def storage(self) -> Storage:
        if has_app_context() and _STATE in current_app.extensions:
            return current_app.extensions[_STATE].storage
        return super().storage

    @property
    def limiter(self) -> RateLimiter:
        if has_app_context() and _STATE in current_app.extensions:
            return current_app.extensions[_STATE].current()
        return super().limiter

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        """Flask-Limiter's check, with the storage outage handled per app: the request is counted
        again in memory instead of failing (Flask-Limiter's own fallback is per extension, shared
        by every app, and replaces the view's limits by a global list)."""
        try:
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)
        except RateLimitExceeded:
            raise
        except Exception as exc:
            state = current_app.extensions.get(_STATE)
            if state is None or state.down_since is not None:
                raise
            state.storage_failed(exc)
            self.context.seen_limits.clear()
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def reset(self) -> None:
        """Clear the counters of the current app, or of every app when called outside one (a
        storage that does not answer keeps its counters; the in-memory ones are cleared)."""
        if not has_app_context():
            for app in list(self._apps):
                with app.app_context():
                    self.reset()
            return
        state = current_app.extensions.get(_STATE)
        if state is not None:
            state.fallback.storage.reset()
        try:
            super().reset()
        except Exception as exc:
            log.warning("Rate-limit storage could not be reset: %s", type(exc).__name__)


def _retry_after_header(response: Response) -> Response:
    wait = g.get(_RETRY_AFTER)
    if response.status_code == 429 and wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask) -> None:
    """Check the storage setting, trust the configured proxies, and start the limiter."""
    from .extensions import limiter

    uri = app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri.startswith(REDIS_SCHEMES):
        timeout = app.config.get("RATELIMIT_TIMEOUT_S", 0.5)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise RuntimeError(f"PORTAL_RATELIMIT_TIMEOUT_S must be a number of seconds above 0, not {timeout!r}.")
        # A Redis that accepts and never answers must not hold a request: give up soon and count
        # in memory (the fallback above).
        options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**options, **(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})}
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise RuntimeError(f"PORTAL_TRUSTED_PROXIES must be a whole number of proxies (0 or more), not {hops!r}.")
    if hops:
        # Only the address and scheme: the host stays what the proxy asked for, links use BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    limiter.init_app(app)


def check_web_storage(app: Flask, workers: int) -> None:
    """Refuse to serve production with per-process counters (called by gunicorn.conf.py for the
    web process only: ``flask db upgrade`` and the worker count nothing)."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if app.config["ENV_NAME"] != "production" or not uri.startswith("memory://"):
        return
    if app.config.get("RATELIMIT_SINGLE_PROCESS") is True:
        if workers == 1:
            return
        raise RuntimeError(
            f"PORTAL_RATELIMIT_SINGLE_PROCESS=true needs one process, but gunicorn runs {workers} workers: "
            "start it with --workers 1, or set PORTAL_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0."
        )
    raise RuntimeError(
        "Rate limits need shared storage in production: set PORTAL_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 "
        "(memory:// counts per worker process, so every gunicorn worker would allow the full limit). "
        "A single-process install (gunicorn --workers 1) may keep memory:// with PORTAL_RATELIMIT_SINGLE_PROCESS=true."
    )


def storage_answers() -> bool | None:
    """Whether the configured shared storage answers (None: memory, nothing to ask)."""
    from .extensions import limiter

    if (current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        return None
    try:
        return bool(limiter.storage.check())
    except Exception:
        return False


def principal_key() -> str:
    """Who is acting: the signed-in contact or staff member (not the address, which many share)."""
    kind, ident = (current_user.get_id() or "anonymous:").split(":")[:2]
    return f"{kind}:{ident}"


def throttle(scope: str, setting: str) -> Wait | None:
    """Count one ``scope`` action (``"comment"``, ``"action"``) of the signed-in principal against
    the rate in config ``setting`` (``"10 per minute;200 per day"``). None: it may happen; else the
    rate is spent, the action must not happen, and the answer is how long until it may (the latest
    end among the spent windows). A storage outage counts in memory instead (see above)."""
    items = parse_many(current_app.config[setting])
    key = principal_key()
    allowed, limiter = _hit_all(items, "portal", scope, key)
    if allowed:
        return None
    try:
        windows = [limiter.get_window_stats(item, "portal", scope, key) for item in items]
    except Exception:  # the storage stopped answering between the count and this question
        return Wait(max(item.get_expiry() for item in items))
    return wait_until(max((w.reset_time for w in windows if w.remaining <= 0), default=time.time()))


def _hit_all(items: list[RateLimitItem], *identifiers: str) -> tuple[bool, RateLimiter]:
    """Count one hit against each of ``items`` (stopping at the first spent one): whether all had
    room, and the limiter that counted (shared storage, or memory while it is down)."""
    from .extensions import limiter

    state: _AppLimits = current_app.extensions[_STATE]
    counter = limiter.limiter
    try:
        return all(counter.hit(item, *identifiers) for item in items), counter
    except Exception as exc:
        if state.down_since is not None:
            raise
        state.storage_failed(exc)
        return all(state.fallback.hit(item, *identifiers) for item in items), state.fallback


def refusal_wait(exc: RateLimitExceeded) -> Wait:
    """How long a request Flask-Limiter refused must wait: until every limit it broke starts a new
    window (the broken limit's whole window if the storage cannot say)."""
    from .extensions import limiter

    try:
        resets = [limit.window.reset_time for limit in limiter.current_limits if limit.breached]
    except Exception:  # the storage stopped answering between the count and this question
        resets = []
    if not resets:
        return Wait(exc.limit.limit.get_expiry())
    return wait_until(max(resets))


def first_refusal_by_address(exc: RateLimitExceeded) -> bool:
    """True when ``exc`` is a per-address limit refusing this address on this route for the first
    time in the limit's window: the one refusal of a burst that the security log records."""
    if exc.limit.key_func is not get_remote_address:
        return False  # keyed on something else (the typed e-mail address): not an address's refusal
    once = RateLimitItemPerSecond(1, exc.limit.limit.get_expiry())
    route = request.url_rule.rule if request.url_rule is not None else request.path
    agency = (request.view_args or {}).get("slug") or ""  # one agency's sign-in page is not another's
    first, _ = _hit_all([once], "portal", "refusal-recorded", route, agency, get_remote_address())
    return first

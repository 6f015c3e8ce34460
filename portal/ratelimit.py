"""Rate limits that hold across processes, and the client address they are keyed on.

Production keeps the counters in shared storage (``PORTAL_RATELIMIT_STORAGE_URI``, Redis): with
``memory://`` every gunicorn worker counts on its own, so two workers let twice the limit through.
The web process (gunicorn, through ``gunicorn.conf.py``) refuses to start in production with
``memory://`` unless the install says it runs a single process (``PORTAL_RATELIMIT_SINGLE_PROCESS=true``
and one gunicorn worker). Only the web process counts anything: ``flask db upgrade`` and the worker
start whatever the setting.

When the shared storage stops answering, sign-in must not become a 500: each app falls back to
counting in its own memory (the same limits, per process) and logs it, asks the storage again
every ``STORAGE_RECHECK_SECONDS``, and ``/healthz`` says "rate limits degraded".

Behind a reverse proxy every request comes from the proxy's address: ``PORTAL_TRUSTED_PROXIES``
(the number of proxies in front of the app, default 0) makes ``ProxyFix`` take the client address
from that many ``X-Forwarded-For`` hops. With 0 the header is ignored, so a client cannot forge
its way into a fresh bucket.
"""

import logging
import time
import weakref
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user
from limits import parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import STRATEGIES, RateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

_STATE = "portal.ratelimit"
STORAGE_RECHECK_SECONDS = 30
log = logging.getLogger(__name__)


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


def init_app(app: Flask) -> None:
    """Check the storage setting, trust the configured proxies, and start the limiter."""
    from .extensions import limiter

    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
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


def allow(scope: str, setting: str) -> bool:
    """Count one ``scope`` action (``"comment"``, ``"action"``) of the signed-in principal against
    the rate in config ``setting`` (``"10 per minute;200 per day"``); False once it is spent, and
    then the action must not happen. A storage outage counts in memory instead (see above)."""
    from .extensions import limiter

    items = parse_many(current_app.config[setting])
    key = principal_key()
    state: _AppLimits = current_app.extensions[_STATE]
    try:
        return all(limiter.limiter.hit(item, "portal", scope, key) for item in items)
    except Exception as exc:
        if state.down_since is not None:
            raise
        state.storage_failed(exc)
        return all(state.fallback.hit(item, "portal", scope, key) for item in items)

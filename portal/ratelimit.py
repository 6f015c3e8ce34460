"""Rate limits that hold across processes, and the client address they are keyed on.

Production keeps the counters in shared storage (``PORTAL_RATELIMIT_STORAGE_URI``, Redis): with
``memory://`` every gunicorn worker counts on its own, so two workers let twice the limit through.
The app refuses to start in production with ``memory://`` unless the install says it runs a single
process (``PORTAL_RATELIMIT_SINGLE_PROCESS=true``).

Behind a reverse proxy every request comes from the proxy's address: ``PORTAL_TRUSTED_PROXIES``
(the number of proxies in front of the app, default 0) makes ``ProxyFix`` take the client address
from that many ``X-Forwarded-For`` hops. With 0 the header is ignored, so a client cannot forge
its way into a fresh bucket.
"""

import weakref

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter
from limits.storage import Storage
from limits.strategies import RateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

_STATE = "portal.ratelimit"


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
        app.extensions[_STATE] = (self._storage, self._limiter)
        self._apps.add(app)

    @property
    def storage(self) -> Storage:
        if has_app_context() and _STATE in current_app.extensions:
            return current_app.extensions[_STATE][0]
        return super().storage

    @property
    def limiter(self) -> RateLimiter:
        if has_app_context() and _STATE in current_app.extensions:
            return current_app.extensions[_STATE][1]
        return super().limiter

    def reset(self) -> None:
        """Clear the counters of the current app, or of every app when called outside one."""
        if has_app_context():
            super().reset()
            return
        for app in list(self._apps):
            with app.app_context():
                super().reset()


def init_app(app: Flask) -> None:
    """Check the storage setting, trust the configured proxies, and start the limiter."""
    from .extensions import limiter

    _check_storage(app)
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise RuntimeError(f"PORTAL_TRUSTED_PROXIES must be a whole number of proxies (0 or more), not {hops!r}.")
    if hops:
        # Only the address and scheme: the host stays what the proxy asked for, links use BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    limiter.init_app(app)


def _check_storage(app: Flask) -> None:
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    app.config["RATELIMIT_STORAGE_URI"] = uri
    if app.config["ENV_NAME"] != "production" or not uri.startswith("memory://"):
        return
    if app.config.get("RATELIMIT_SINGLE_PROCESS") is True:
        return
    raise RuntimeError(
        "Rate limits need shared storage in production: set PORTAL_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 "
        "(memory:// counts per worker process, so every gunicorn worker would allow the full limit). "
        "A single-process install may keep memory:// with PORTAL_RATELIMIT_SINGLE_PROCESS=true."
    )

"""Configuration classes.

Every setting can be overridden from the environment: plain names for the common ones
(``SECRET_KEY``, ``DATABASE_URL``, ``MEILI_URL`` ...) and ``PORTAL_<NAME>`` for any other
Flask setting (``PORTAL_MAIL_PORT=2525``), parsed as JSON when possible.
"""

import os
import secrets
from typing import ClassVar


class Config:
    """Production defaults: safe unless told otherwise."""

    ENV_NAME = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.abspath("instance/portal.db")
    # Connections are opened again after an hour: an SQLite connection plans with the statistics
    # it read when it opened, so the worker's daily ANALYZE reaches the web processes this way.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True, "pool_recycle": 3600}
    # How long a write waits for SQLite's one write lock before the request is answered
    # 503 "busy, try again" (PostgreSQL waits on row locks; set lock_timeout there for a bound).
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # A long job (an import) commits this many rows at a time, and on SQLite pauses between
    # batches so that requests waiting for the write lock get it (see batch_unit_of_work).
    IMPORT_BATCH_SIZE = 200
    SQLITE_BATCH_PAUSE_MS = 150
    MEILI_URL = "http://127.0.0.1:7700"
    MEILI_MASTER_KEY = None
    MEILI_INDEX = "candidates"
    MEILI_TIMEOUT = 2
    # After Meilisearch could not be reached (refused, timed out), searches go straight to the
    # database for this long instead of each paying for the failed attempt (up to MEILI_TIMEOUT
    # when it hangs); the first search after it tries Meilisearch again.
    MEILI_RETRY_AFTER_MS = 1000

    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "portal_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Session limits (portal/sessions.py): ASVS 4.0 V3.3.2 level 2 for staff; contacts as long as
    # a landing link. PERMANENT_SESSION_LIFETIME is set from these (the longest); a cookie is not
    # renewed on every request.
    STAFF_IDLE_TIMEOUT_MINUTES = 30
    STAFF_ABSOLUTE_TIMEOUT_HOURS = 12
    CLIENT_SESSION_DAYS = 14
    SESSION_REFRESH_EACH_REQUEST = False
    PREFERRED_URL_SCHEME = "https"
    # Absolute base used in emailed links (the worker has no request to take it from).
    BASE_URL = "http://127.0.0.1:8000"

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; a long review must not expire the form
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024

    # Shared counters (Redis) are required in production; see portal/ratelimit.py and the README.
    RATELIMIT_STORAGE_URI: str | None = None
    RATELIMIT_SINGLE_PROCESS = False
    RATELIMIT_HEADERS_ENABLED = True
    # Seconds a Redis storage may take to connect or to answer before it counts as down (in-memory
    # fallback, portal/ratelimit.py): a hung Redis must not hang the request (PORTAL_RATELIMIT_TIMEOUT_S).
    RATELIMIT_TIMEOUT_S = 0.5
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none, use the peer).
    TRUSTED_PROXIES = 0
    SIGN_IN_RATE_PER_IP = "20 per 10 minutes"
    SIGN_IN_RATE_PER_EMAIL = "5 per 10 minutes"
    STAFF_LOGIN_RATE = "10 per 10 minutes"
    # Per signed-in person (not per address), refused in place with nothing saved (ratelimit.throttle).
    CLIENT_COMMENT_RATE = "10 per minute;200 per day"
    CLIENT_ACTION_RATE = "60 per minute"
    STAFF_COMMENT_RATE = "30 per minute;500 per day"
    # Comments shown at once; "Show earlier comments" loads the page before.
    COMMENTS_PAGE_SIZE = 20

    SIGN_IN_LINK_MINUTES = 30
    LANDING_LINK_DAYS = 14

    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "portal@localhost"
    MAIL_TIMEOUT = 10
    MAIL_MAX_ATTEMPTS = 8
    MAIL_BACKOFF_SECONDS = 30
    # How long a worker may hold a claimed message while it talks to the SMTP server; past it the
    # message is taken over by another worker (this one is presumed dead). Well above MAIL_TIMEOUT,
    # so a slow but live server is not given the same message twice.
    MAIL_LEASE_SECONDS = 120
    # When False the worker leaves mail in the outbox for the development mail viewer.
    MAIL_DELIVER = True
    DEV_MAIL_VIEWER = False
    # /healthz says "degraded" when the oldest waiting mail or search change is older than this,
    # or when mail failed for good (or a search document was parked) among what was queued within
    # HEALTH_FAILED_SECONDS.
    HEALTH_BACKLOG_SECONDS = 300
    HEALTH_FAILED_SECONDS = 24 * 3600


class DevelopmentConfig(Config):
    """Local use: plain HTTP cookies, mail viewer (loopback only), a random secret of this install
    (``instance/dev-secret``, see ``development_secret``) unless SECRET_KEY is set."""

    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    DEV_MAIL_VIEWER = True
    MAIL_DELIVER = False
    RATELIMIT_STORAGE_URI = "memory://"


class TestingConfig(DevelopmentConfig):
    """The suite: real databases and servers, supplied by fixtures."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"
    MAIL_DELIVER = True
    MAIL_SUPPRESS_SEND = False
    MAIL_BACKOFF_SECONDS = 0
    RATELIMIT_STORAGE_URI = "memory://"


CONFIGS = {"production": Config, "development": DevelopmentConfig, "testing": TestingConfig}

# Environment names mapped straight to Flask settings.
ENV_ALIASES = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "MEILI_URL": "MEILI_URL",
    "MEILI_MASTER_KEY": "MEILI_MASTER_KEY",
    "BASE_URL": "BASE_URL",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
}


def development_secret(instance_path: str) -> str:
    """This install's own development secret: ``instance/dev-secret`` (mode 0600), made on first use.

    Never a committed value, so a development instance reachable by others cannot be taken over by
    forging sessions or links with a key everyone knows. Created atomically (written aside, then
    linked into place), so the web workers and the worker starting together agree on one secret.
    """
    path = os.path.join(instance_path, "dev-secret")
    os.makedirs(instance_path, exist_ok=True)
    try:
        with open(path) as handle:
            existing = handle.read().strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    aside = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # another process won the race: use its secret
    finally:
        os.unlink(aside)
    with open(path) as handle:
        return handle.read().strip()


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` / ``postgresql://`` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

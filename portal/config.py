"""Configuration classes.

Every setting can be overridden from the environment: plain names for the common ones
(``SECRET_KEY``, ``DATABASE_URL``, ``MEILI_URL`` ...) and ``PORTAL_<NAME>`` for any other
Flask setting (``PORTAL_MAIL_PORT=2525``), parsed as JSON when possible.
"""

import os
from datetime import timedelta
from typing import ClassVar


class Config:
    """Production defaults: safe unless told otherwise."""

    ENV_NAME = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.abspath("instance/portal.db")
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
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

    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "portal_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    PREFERRED_URL_SCHEME = "https"
    # Absolute base used in emailed links (the worker has no request to take it from).
    BASE_URL = "http://127.0.0.1:8000"

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; a long review must not expire the form
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_RATE_PER_IP = "20 per 10 minutes"
    SIGN_IN_RATE_PER_EMAIL = "5 per 10 minutes"
    STAFF_LOGIN_RATE = "10 per 10 minutes"

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
    # When False the worker leaves mail in the outbox for the development mail viewer.
    MAIL_DELIVER = True
    DEV_MAIL_VIEWER = False


class DevelopmentConfig(Config):
    """Local use: plain HTTP cookies, mail viewer, a throwaway secret."""

    ENV_NAME = "development"
    SECRET_KEY = "dev-only-not-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    DEV_MAIL_VIEWER = True
    MAIL_DELIVER = False


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


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` / ``postgresql://`` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

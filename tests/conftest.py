"""Fixtures: the app on a real database (SQLite or PostgreSQL), real Meilisearch, real SMTP,
a live HTTP server and headless Chromium. Each test starts from empty tables."""

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app, sessions
from portal.extensions import db, limiter
from portal.models import utcnow
from tests import clock
from tests.servers import LiveServer, MeilisearchServer, SmtpServer, free_port

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_configure(config):
    """Move the clock when ``TEST_CLOCK`` asks for it (see ``tests/clock.py``)."""
    traveller = clock.start()
    if traveller is not None:
        config.add_cleanup(traveller.stop)


@pytest.fixture(autouse=True)
def _moved_clock(request):
    """With ``TEST_CLOCK``, every test starts at that same instant, whatever ran before it and
    however fast: the guard is deterministic. A test that moves the clock itself is left alone."""
    if request.node.get_closest_marker("time_machine"):
        yield
        return
    traveller = clock.start()
    yield
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config):
    moved = clock.requested()
    return [
        f"database under test: {TEST_DATABASE}",
        f"clock: moved to {moved.isoformat()} (TEST_CLOCK)" if moved else "clock: real",
    ]


@pytest.fixture(scope="session")
def database_url():
    """A throw-away database for this session."""
    if TEST_DATABASE == "sqlite":
        # Not under pytest's basetemp: concurrent pytest runs prune each other's numbered folders.
        directory = tempfile.mkdtemp(prefix="portal-test-db-")
        yield f"sqlite:///{directory}/portal.db"
        shutil.rmtree(directory, ignore_errors=True)
        return
    if TEST_DATABASE != "postgresql":
        raise pytest.UsageError(f"TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE!r}")
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def meili():
    """A real Meilisearch server for the session."""
    server = MeilisearchServer().start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def smtp():
    """A real SMTP server for the session; its inbox is emptied before each test."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_port():
    return free_port()


@pytest.fixture(scope="session")
def app_config(database_url, meili, smtp, live_port):
    """Settings shared by every app the tests build."""
    return {
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
    }


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    Without this, a request made while a test holds an app context reuses that context, so
    ``g`` (Flask-Login's cached user, per-request memos) and the database session leak from
    one request into the next and a second principal is served as the first.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(app_config):
    """The app, with the schema built by the real migrations."""
    app = create_app(app_config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(app, app_config):
    """Build another app on the same database with some settings changed."""
    built = []

    def _make(**overrides):
        other = create_app({**app_config, **overrides})
        other.test_client_class = FreshContextClient
        built.append(other)
        return other

    yield _make
    for other in built:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_state(request, smtp):
    """Empty tables, rate-limit counters and inbox after every test that touched the app."""
    smtp.inbox.clear()
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.rollback()
        append_only = {"security_event", "audit_entry"} if db.engine.dialect.name == "postgresql" else set()
        for name in append_only:
            # The append-only logs refuse DELETE (a trigger); TRUNCATE is not a row change.
            db.session.execute(text(f"TRUNCATE {name}"))
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in append_only:
                db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()
    limiter.reset()


@pytest.fixture
def ctx(app):
    """An application context for service-level tests."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(app, live_port):
    """The app over real HTTP, for the browser."""
    server = LiveServer(app, live_port).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a Playwright download."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url():
    """Replaces pytest-base-url's fixture (deprecated style); tests use ``live_server.url``."""
    return


@pytest.fixture
def artifacts():
    """Where screenshots go (kept after the run)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def login_as(client, principal) -> None:
    """Put ``principal`` in the test client's session (for tests that are not about sign-in)."""
    with client.session_transaction() as session:
        session["_user_id"] = principal.get_id()
        session["_fresh"] = True
        session.update(sessions.fresh_fields(utcnow()))


CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client) -> str:
    """A valid CSRF token for ``client``'s session, taken from a rendered form."""
    html = client.get("/login").get_data(as_text=True)
    match = CSRF_INPUT.search(html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "no CSRF token on /login"
    return next(group for group in match.groups() if group)


def pytest_collection_modifyitems(config, items):
    """On SQLite, tests of a PostgreSQL-only mechanism are deselected (and counted as such in the
    summary line), never reported as passing or skipped."""
    if TEST_DATABASE == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgresql_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept

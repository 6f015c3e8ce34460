"""Another connection holding the lock a write needs, from a thread of its own: for the tests of
what a request does when it waits too long (503 "busy") and of what a long import leaves free."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tests.conftest import TEST_DATABASE


def impatient_settings(timeout_ms: int = 100) -> dict:
    """Settings for an app that gives up waiting for a lock after ``timeout_ms`` (SQLite's busy
    timeout; PostgreSQL's lock_timeout, which the app leaves unset by default)."""
    if TEST_DATABASE == "sqlite":
        return {"SQLITE_BUSY_TIMEOUT_MS": timeout_ms}
    options = {"pool_pre_ping": True, "connect_args": {"options": f"-c lock_timeout={timeout_ms}"}}
    return {"SQLALCHEMY_ENGINE_OPTIONS": options}


@contextmanager
def write_lock_held(database_url: str, table: str) -> Iterator[None]:
    """While the block runs, a connection in another thread holds SQLite's one write lock
    (``BEGIN IMMEDIATE``) or, on PostgreSQL, an EXCLUSIVE lock on ``table`` (writes to it wait,
    reads do not). Released, and the thread joined, when the block ends."""
    held, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            if TEST_DATABASE == "sqlite":
                connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    held.set()
                    release.wait(60)
                    connection.execute("ROLLBACK")
                finally:
                    connection.close()
            else:
                with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
                    connection.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                    held.set()
                    release.wait(60)
                    connection.rollback()
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)
            held.set()

    thread = threading.Thread(target=hold, name="lock-holder")
    thread.start()
    held.wait(30)
    try:
        assert failures == [], failures
        yield
    finally:
        release.set()
        thread.join(30)
    assert failures == [] and not thread.is_alive()

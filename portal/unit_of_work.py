"""The one transaction rule: services change the session and never commit; the caller's unit of
work does, once. Views, the worker and CLI commands all use these helpers."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app

from .extensions import db
from .services import ServiceError

# SQLite's primary result codes for "another connection holds the lock" (extended codes keep them
# in the low byte: SQLITE_BUSY_SNAPSHOT is 517, SQLITE_BUSY | 2 << 8).
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
# PostgreSQL's lock_not_available: lock_timeout ran out, or NOWAIT found the row taken.
LOCK_NOT_AVAILABLE = "55P03"


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit what the block changed, once; if anything escapes the block (or the commit itself
    fails), roll the whole change back and let the exception continue."""
    try:
        _take_the_write_lock()
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def batch_unit_of_work() -> Iterator[None]:
    """A unit of work for one batch of a long job (an import): commits like :func:`unit_of_work`,
    then, on SQLite, leaves the write lock free for a moment before the job takes it again.

    SQLite's busy handler is not a queue: a request waiting for the lock retries every 100 ms, so a
    job that begins its next batch a microsecond after committing the last one would win every
    time and the request would run out of busy timeout (a 503). A pause longer than the retry
    interval lets the waiting requests in between batches. PostgreSQL locks rows, not the
    database: nobody waits for the job there, so it does not pause.
    """
    with unit_of_work():
        yield
    if db.session.get_bind().dialect.name == "sqlite":
        time.sleep(current_app.config["SQLITE_BATCH_PAUSE_MS"] / 1000)


def is_lock_timeout(exc: BaseException) -> bool:
    """True when the database gave up waiting for a lock another transaction held (SQLite's busy
    timeout, "database is locked"; PostgreSQL's lock_timeout): the same request can succeed in a
    moment, so it is "busy, try again", not a crash."""
    error = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    if isinstance(error, sqlite3.OperationalError):
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        return code in (SQLITE_BUSY, SQLITE_LOCKED) or "database is locked" in str(error)
    return getattr(error, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _take_the_write_lock() -> None:
    """On SQLite, begin with the write lock (``BEGIN IMMEDIATE``), so that the checks a service
    makes and the writes that follow are serialised as row locks serialise them on PostgreSQL:
    two confirmations for one recruiter run one after the other, and the second sees the first's
    interview. (pysqlite would otherwise begin only at the first write, after the checks.)

    Issued through SQLAlchemy, so that a busy timeout here is the same ``OperationalError`` as one
    met later in the transaction."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Outcome:
    """What an :func:`attempt` came to: ``refusal`` is the service's reason when it said no.

    Callers test ``outcome.refusal is not None`` (not a boolean property) so that the type
    checker knows the refusal is there in the branch that reads it.
    """

    refusal: ServiceError | None = None


@contextmanager
def attempt() -> Iterator[Outcome]:
    """A unit of work whose :class:`ServiceError` is a refusal, not a crash: nothing is saved and
    ``outcome.refusal`` carries the message (and the field) for the view to show in place::

        with attempt() as outcome:
            actions.request_hire(current_user, application, start_date=form.start_date.data)
        if outcome.refusal is not None:
            ...  # re-render the form with outcome.refusal.message next to outcome.refusal.field
    """
    outcome = Outcome()
    try:
        with unit_of_work():
            yield outcome
    except ServiceError as refusal:
        outcome.refusal = refusal

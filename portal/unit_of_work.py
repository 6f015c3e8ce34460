"""The one transaction rule: services change the session and never commit; the caller's unit of
work does, once. Views, the worker and CLI commands all use these two helpers."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .extensions import db
from .services import ServiceError


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


def _take_the_write_lock() -> None:
    """On SQLite, begin with the write lock (``BEGIN IMMEDIATE``), so that the checks a service
    makes and the writes that follow are serialised as row locks serialise them on PostgreSQL:
    two confirmations for one recruiter run one after the other, and the second sees the first's
    interview. (pysqlite would otherwise begin only at the first write, after the checks.)"""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


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

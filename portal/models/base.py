"""Shared column helpers for the models."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, overload

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..extensions import Base, db

if TYPE_CHECKING:
    # mypy cannot use an attribute (``db.Model``) as a base class. At runtime db.Model is
    # Base's body (same registry and metadata) plus Flask-SQLAlchemy's mixins, which only add
    # table names from class names and bind keys, so the checker can see it as Base.
    Model = Base
else:
    Model = db.Model


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored and returned as UTC on every database.

    SQLite keeps no offset: an aware New York time would be stored as its wall time and read
    back as if it were UTC. Converting on the way in (and tagging on the way out) makes a
    zone-aware value safe to store wherever it came from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def agency_fk() -> Mapped[int]:
    """The tenant column every agency-owned row carries."""
    return mapped_column(Integer, ForeignKey("agency.id", ondelete="CASCADE"), index=True)


def created_at() -> Mapped[datetime]:
    """Creation timestamp in UTC."""
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as the UTC they were stored as."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value

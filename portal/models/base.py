"""Shared column helpers for the models."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def agency_fk() -> Mapped[int]:
    """The tenant column every agency-owned row carries."""
    return mapped_column(Integer, ForeignKey("agency.id", ondelete="CASCADE"), index=True)


def created_at() -> Mapped[datetime]:
    """Creation timestamp in UTC."""
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as the UTC they were stored as."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value

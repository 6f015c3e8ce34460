"""Input rules shared by the services: one place for how names and texts are cleaned."""

from sqlalchemy import func, select

from ..extensions import db
from . import ServiceError


def clean_line(value: str | None, *, field: str, max_length: int, empty: str, too_long: str) -> str:
    """One line of text with runs of whitespace collapsed; refused when empty or too long."""
    text = " ".join((value or "").split())
    if not text:
        raise ServiceError(empty, field=field)
    if len(text) > max_length:
        raise ServiceError(too_long, field=field)
    return text


def clean_text(value: str | None, *, field: str, max_length: int, empty: str, too_long: str) -> str:
    """Free text (line breaks kept), trimmed; refused when empty or too long."""
    text = (value or "").strip()
    if not text:
        raise ServiceError(empty, field=field)
    if len(text) > max_length:
        raise ServiceError(too_long, field=field)
    return text


def ensure_unique(column, value: str, *conditions, current_id: int | None, field: str, message: str) -> None:
    """Refuse ``value`` when another row (not ``current_id``) already has it, ignoring case."""
    model = column.class_
    clash = db.session.scalar(select(model.id).where(func.lower(column) == value.lower(), *conditions))
    if clash is not None and clash != current_id:
        raise ServiceError(message, field=field)

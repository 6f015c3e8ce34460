"""Input rules shared by the services: one place for how names and texts are cleaned."""

from email_validator import EmailNotValidError, validate_email
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


LONGEST_EMAIL = 254  # RFC 5321's limit on a forward path


def email_problem(value: str) -> str | None:
    """Why ``value`` is not an e-mail address one can write to, or None when it is one.

    A syntactic check (``email-validator``, no DNS: a form or an import must not wait on the
    network): a local part and a domain with a dot, no spaces, no quoted or IP-literal tricks."""
    if len(value) > LONGEST_EMAIL:
        return f"It is longer than {LONGEST_EMAIL} characters."
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def clean_email(value: str | None, *, field: str = "email") -> str:
    """A well-formed e-mail address, stripped and lower-cased (the de-duplication key); refused
    with the validator's reason, naming ``field``."""
    email = (value or "").strip().lower()
    if not email:
        raise ServiceError("Enter an e-mail address.", field=field)
    problem = email_problem(email)
    if problem:
        raise ServiceError(f"Enter a valid e-mail address. {problem}", field=field)
    return email

"""Mail outbox (M1, M2): queue in the caller's transaction; the worker sends with backoff."""

import logging
import smtplib
from datetime import datetime, timedelta
from email.utils import formataddr

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_mail import BadHeaderError, Message
from sqlalchemy import select

from ..extensions import db, mail
from ..models import Agency, MailOutbox, utcnow
from . import ServiceError

log = logging.getLogger(__name__)


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link for emails, built from ``BASE_URL`` (works outside a request)."""
    adapter = current_app.url_map.bind("localhost", script_name="/", url_scheme="http")
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def normalise_email(value: str, field: str = "email") -> str:
    """Validate an address and return it lower-cased, or raise ServiceError naming ``field``."""
    try:
        result = validate_email((value or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError(f"Enter a valid email address ({exc}).", field=field) from None
    return result.normalized.lower()


def send_mail(
    agency: Agency | None,
    kind: str,
    to: list[str] | str,
    subject: str,
    template: str,
    not_before: datetime | None = None,
    **context,
) -> MailOutbox:
    """Queue a branded message (HTML + plain text) in the current transaction.

    Nothing is sent here: the worker delivers committed rows, so a rolled-back action never
    sends mail and a sent mail always belongs to a committed action. ``not_before`` holds a
    message back (an undoable action's mail waits out the undo window).
    """
    recipients = [normalise_email(addr, "to") for addr in ([to] if isinstance(to, str) else to)]
    if not recipients:
        raise ServiceError("A message needs at least one recipient.", field="to")
    # Subjects are built from job titles and names that may hold line breaks (an import, a pasted
    # title). Folding them onto one line keeps header injection impossible without refusing the
    # action that triggered the mail.
    subject = " ".join(subject.split())
    context.update(agency=agency, subject=subject)
    sender_name = (agency.email_sender_name or agency.name) if agency else "Agency Portal"
    # The sender name is agency configuration, not checked like the subject: a line break in it
    # would make Flask-Mail refuse the message at send time, so fold it into one line here.
    sender_name = " ".join(sender_name.split())
    row = MailOutbox(
        agency_id=agency.id if agency else None,
        kind=kind,
        sender=formataddr((sender_name, current_app.config["MAIL_DEFAULT_SENDER"])),
        recipients=recipients,
        subject=subject[:300],
        text_body=render_template(f"email/{template}.txt", **context),
        html_body=render_template(f"email/{template}.html", **context),
        attachments=context.get("attachments", []),
        next_attempt_at=not_before or utcnow(),
    )
    db.session.add(row)
    return row


def deliver_due_mail(batch_size: int = 20) -> int:
    """Send one batch of due outbox rows and record what became of each; returns how many were sent.

    The caller commits (the worker's unit of work), once for the batch. Until then the rows stay
    locked (``FOR UPDATE SKIP LOCKED``), so parallel workers on PostgreSQL never send one twice.
    """
    if not current_app.config["MAIL_DELIVER"]:
        return 0
    now = utcnow()
    rows = db.session.scalars(
        select(MailOutbox)
        .where(MailOutbox.status == "pending", MailOutbox.next_attempt_at <= now)
        .order_by(MailOutbox.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    ).all()
    settled: set[int] = set()
    if rows:
        try:
            with mail.connect() as connection:
                for row in rows:
                    try:
                        connection.send(_message(row))
                    except smtplib.SMTPRecipientsRefused as exc:
                        _failed(row, exc)
                    except BadHeaderError as exc:
                        # A row with a line break in a header (written before validation, or by
                        # hand) can never be sent. Raising here would abort the pass after earlier
                        # rows went out uncommitted, so they would be sent again on every pass.
                        _failed(row, exc, permanent=True)
                    else:
                        row.status, row.sent_at, row.attempts = "sent", utcnow(), row.attempts + 1
                    settled.add(row.id)
        except (OSError, smtplib.SMTPException) as exc:
            # The server went away: the row in flight and every row not reached wait for a retry.
            for row in rows:
                if row.id not in settled:
                    _failed(row, exc)
    return sum(1 for row in rows if row.status == "sent")


def withdraw(row: MailOutbox | None) -> bool:
    """Delete a message that has not been sent yet; False when it is already gone out."""
    if row is None or row.status != "pending":
        return False
    db.session.delete(row)
    return True


def retry(row: MailOutbox) -> None:
    """Put a failed message back in the queue (admin action)."""
    row.status, row.next_attempt_at, row.attempts = "pending", utcnow(), 0


def _message(row: MailOutbox) -> Message:
    message = Message(
        subject=row.subject, sender=row.sender, recipients=row.recipients, body=row.text_body, html=row.html_body
    )
    for item in row.attachments or []:
        message.attach(item["filename"], item["content_type"], item["content"].encode())
    return message


def _failed(row: MailOutbox, exc: Exception, permanent: bool = False) -> None:
    """Count the attempt and back off exponentially; give up visibly after MAIL_MAX_ATTEMPTS
    (at once when ``permanent``: retrying cannot help)."""
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if permanent or row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        row.status = "failed"
        log.error("mail %s failed for good: %s", row.id, row.last_error)
        return
    delay = current_app.config["MAIL_BACKOFF_SECONDS"] * (2 ** (row.attempts - 1))
    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
    log.warning("mail %s attempt %s failed, retry in %ss: %s", row.id, row.attempts, delay, row.last_error)


def messages_for_viewer(limit: int = 200, message_id: int | None = None) -> list[MailOutbox]:
    """The development mail viewer's messages (M2), queued or sent, newest first: at most
    ``limit``, or only the one with ``message_id`` (none when there is no such message)."""
    query = select(MailOutbox).order_by(MailOutbox.id.desc()).limit(limit)
    if message_id is not None:
        query = query.where(MailOutbox.id == message_id)
    return list(db.session.scalars(query))

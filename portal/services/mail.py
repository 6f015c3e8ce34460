"""Mail outbox (M1, M2): queue in the caller's transaction; the worker sends with backoff."""

import contextlib
import logging
import smtplib
from collections.abc import Collection
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any

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


def next_due_mail(tried: Collection[int] = ()) -> MailOutbox | None:
    """The oldest message due for sending, claimed for this unit of work: locked with ``FOR UPDATE
    SKIP LOCKED`` on PostgreSQL (parallel workers take different ones); on SQLite the unit of
    work's write lock serialises the workers. ``tried``: ids this pass already tried (a message
    retried at once would otherwise use up its attempts in one pass). None when nothing is due."""
    if not current_app.config["MAIL_DELIVER"]:
        return None
    return db.session.scalar(
        select(MailOutbox)
        .where(MailOutbox.status == "pending", MailOutbox.next_attempt_at <= utcnow(), MailOutbox.id.not_in(tried))
        .order_by(MailOutbox.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


class Outgoing:
    """One SMTP connection for a pass of the worker: opened at the first message, closed quietly
    at the end (a server that went away cannot refuse to say goodbye)."""

    def __init__(self) -> None:
        self._opened: Any = None
        self._connection: Any = None

    def send(self, message: Message) -> None:
        if self._connection is None:
            self._opened = mail.connect()
            self._connection = self._opened.__enter__()
        self._connection.send(message)

    def close(self) -> None:
        opened, self._opened, self._connection = self._opened, None, None
        if opened is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                opened.__exit__(None, None, None)


def send_one(row: MailOutbox, outgoing: Outgoing) -> str:
    """Send one claimed message and record what became of it. Returns ``"sent"``; ``"refused"``
    when the server refused this message (its recipients or content: retried with back-off, or
    given up at once for a permanent 5xx refusal of the content), the connection staying usable
    for the next one; or ``"server_gone"`` when the server could not be reached (retried later;
    the caller stops the pass)."""
    try:
        outgoing.send(_message(row))
    except BadHeaderError as exc:
        # A row with a line break in a header (written before validation, or by hand) can never
        # be sent.
        _failed(row, exc, permanent=True)
        return "refused"
    except smtplib.SMTPRecipientsRefused as exc:
        _failed(row, exc)
        return "refused"
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
        outgoing.close()
        _failed(row, exc)
        return "server_gone"
    except smtplib.SMTPResponseException as exc:
        _failed(row, exc, permanent=exc.smtp_code >= 500)
        return "refused"
    except OSError as exc:  # smtplib's errors are OSErrors too: this is what is left, the network
        outgoing.close()
        _failed(row, exc)
        return "server_gone"
    row.status, row.sent_at, row.attempts = "sent", utcnow(), row.attempts + 1
    return "sent"


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

"""Mail outbox (M1, M2): queue in the caller's transaction; the worker sends with backoff."""

import contextlib
import logging
import smtplib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_mail import BadHeaderError, Message
from sqlalchemy import CursorResult, and_, delete, or_, select, update

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
    reply_to: str | None = None,
    **context,
) -> MailOutbox:
    """Queue a branded message (HTML + plain text) in the current transaction.

    Nothing is sent here: the worker delivers committed rows, so a rolled-back action never
    sends mail and a sent mail always belongs to a committed action. ``not_before`` holds a
    message back (an undoable action's mail waits out the undo window). ``reply_to``: the address
    a reply goes to (validated like a recipient, so it cannot carry a header).
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
        reply_to=normalise_email(reply_to, "reply_to") if reply_to else None,
        recipients=recipients,
        subject=subject[:300],
        text_body=render_template(f"email/{template}.txt", **context),
        html_body=render_template(f"email/{template}.html", **context),
        attachments=context.get("attachments", []),
        next_attempt_at=not_before or utcnow(),
    )
    db.session.add(row)
    return row


@dataclass(frozen=True)
class Claim:
    """A message this worker holds until ``lease_until``, with everything needed to send it, read
    while the claim's unit of work was open: sending touches no database. ``attempt`` is the
    message's attempt count after this claim; it tells whether the message is still ours when the
    result is recorded (a takeover after the lease counts another attempt)."""

    id: int
    attempt: int
    lease_until: datetime
    message: Message


@dataclass(frozen=True)
class Delivery:
    """What the SMTP server made of one claimed message. ``outcome``: ``"sent"``; ``"refused"``
    (this message only: the connection stays usable for the next one); ``"server_gone"`` (the
    server could not be reached or dropped us: the caller stops the pass). ``permanent``: a
    refusal that retrying cannot change (a 5xx for the message, a header that can never be sent)."""

    outcome: str
    error: str | None = None
    permanent: bool = False


def claim_next_mail(skip: Collection[int] = (), now: datetime | None = None) -> Claim | None:
    """Claim the oldest due message for this worker: status ``sending``, a lease of
    ``MAIL_LEASE_SECONDS``, one more attempt counted. Due means pending and past its
    ``next_attempt_at``, or left in ``sending`` past its lease by a worker that died mid-send.
    ``skip``: ids this pass already tried (a message retried at once would otherwise use up its
    attempts in one pass). None when nothing is due or mail is not delivered (development).

    The caller commits at once and sends outside any transaction. Several workers may claim at the
    same time: ``FOR UPDATE SKIP LOCKED`` gives them different messages on PostgreSQL; on SQLite
    the unit of work's write lock serialises the claims; and the claim itself is a compare-and-set
    on the status and attempt count read, so a message changed under us is never claimed twice."""
    if not current_app.config["MAIL_DELIVER"]:
        return None
    now = now or utcnow()
    due = or_(
        and_(MailOutbox.status == "pending", MailOutbox.next_attempt_at <= now),
        and_(MailOutbox.status == "sending", MailOutbox.lease_until <= now),
    )
    while True:
        row = db.session.scalar(
            select(MailOutbox)
            .where(due, MailOutbox.id.not_in(skip))
            .order_by(MailOutbox.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            return None
        if row.status == "sending" and row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            # Every worker that took it stopped before recording a result: sending it again
            # could do the same, and it may well have arrived each time. An admin decides.
            _give_up(row, "The worker sending it stopped before the server answered, on every attempt.")
            skip = [*skip, row.id]
            continue
        lease_until = now + timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
        message = _message(row)
        result = db.session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == row.id, MailOutbox.status == row.status, MailOutbox.attempts == row.attempts)
            .values(status="sending", lease_until=lease_until, attempts=MailOutbox.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        # Session.execute is typed with the general Result; an UPDATE's carries the row count.
        assert isinstance(result, CursorResult)
        claimed = result.rowcount == 1
        db.session.refresh(row)
        if claimed:
            return Claim(id=row.id, attempt=row.attempts, lease_until=lease_until, message=message)
        skip = [*skip, row.id]


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


def send_claimed(claim: Claim, outgoing: Outgoing) -> Delivery:
    """Hand one claimed message to the SMTP server; no database is touched (call it outside any
    unit of work). An unexpected error escapes: the claim then runs out its lease and another pass
    takes the message over."""
    try:
        outgoing.send(claim.message)
    except BadHeaderError as exc:
        # A row with a line break in a header (written before validation, or by hand) can never be sent.
        return Delivery("refused", _describe(exc), permanent=True)
    except smtplib.SMTPRecipientsRefused as exc:
        return Delivery("refused", _describe(exc))
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
        outgoing.close()
        return Delivery("server_gone", _describe(exc))
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == 421:  # "closing the transmission channel": the server is leaving
            outgoing.close()
            return Delivery("server_gone", _describe(exc))
        return Delivery("refused", _describe(exc), permanent=exc.smtp_code >= 500)
    except OSError as exc:  # smtplib's errors are OSErrors too: this is what is left, the network
        outgoing.close()
        return Delivery("server_gone", _describe(exc))
    return Delivery("sent")


def record_delivery(claim: Claim, delivery: Delivery, now: datetime | None = None) -> None:
    """Record what became of a claimed message: sent; or the failure, retried with exponential
    back-off (pending again) or given up (failed) when ``permanent`` or after MAIL_MAX_ATTEMPTS.

    A message the server accepted is marked sent whatever happened meanwhile. A failure is
    recorded only while the claim is still ours: if the lease ran out and another worker took the
    message over, that worker's result is the one that counts."""
    now = now or utcnow()
    row = db.session.get(MailOutbox, claim.id, populate_existing=True, with_for_update=True)
    if row is None:
        log.warning("mail %s disappeared while it was being sent", claim.id)
        return
    if delivery.outcome == "sent":
        if row.status == "sent":
            log.warning("mail %s was sent twice: its lease ran out while the server had it", claim.id)
            return
        row.status, row.sent_at, row.lease_until = "sent", now, None
        return
    if row.status != "sending" or row.attempts != claim.attempt:
        log.warning("mail %s: another worker took it over; not recording %s", claim.id, delivery.error)
        return
    row.last_error = (delivery.error or delivery.outcome)[:2000]
    if delivery.permanent or row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        _give_up(row, row.last_error)
        return
    delay = current_app.config["MAIL_BACKOFF_SECONDS"] * (2 ** (row.attempts - 1))
    row.status, row.lease_until, row.next_attempt_at = "pending", None, now + timedelta(seconds=delay)
    log.warning("mail %s attempt %s failed, retry in %ss: %s", row.id, row.attempts, delay, row.last_error)


def withdraw(row: MailOutbox | None) -> bool:
    """Delete a message that has not gone out yet. False when it has, and also while a worker is
    sending it (the server may already have it). A compare-and-set on the status: on PostgreSQL
    the delete waits for a claim in progress and then finds the message no longer pending."""
    if row is None or row.status != "pending":
        return False
    result = db.session.execute(
        delete(MailOutbox)
        .where(MailOutbox.id == row.id, MailOutbox.status == "pending")
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        db.session.refresh(row)
        return False
    db.session.expunge(row)
    return True


def retry(row: MailOutbox, now: datetime | None = None) -> bool:
    """Put a failed message back in the queue (admin action). False, changing nothing, unless it
    had failed: a message being sent must not be queued a second time."""
    result = db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == row.id, MailOutbox.status == "failed")
        .values(status="pending", next_attempt_at=now or utcnow(), attempts=0, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    db.session.refresh(row)
    return result.rowcount == 1


def _message(row: MailOutbox) -> Message:
    message = Message(
        subject=row.subject,
        sender=row.sender,
        recipients=row.recipients,
        body=row.text_body,
        html=row.html_body,
        reply_to=row.reply_to,
    )
    for item in row.attachments or []:
        message.attach(item["filename"], item["content_type"], item["content"].encode())
    return message


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _give_up(row: MailOutbox, error: str) -> None:
    """Fail a message for good, visibly: it waits on the admin outbox page for a retry."""
    row.status, row.lease_until, row.last_error = "failed", None, error[:2000]
    log.error("mail %s failed for good: %s", row.id, row.last_error)


def messages_for_viewer(limit: int = 200, message_id: int | None = None) -> list[MailOutbox]:
    """The development mail viewer's messages (M2), queued or sent, newest first: at most
    ``limit``, or only the one with ``message_id`` (none when there is no such message)."""
    query = select(MailOutbox).order_by(MailOutbox.id.desc()).limit(limit)
    if message_id is not None:
        query = query.where(MailOutbox.id == message_id)
    return list(db.session.scalars(query))

"""The worker process (Procfile ``worker``): drains every outbox, mail and search.

Several workers may run at once, on PostgreSQL or SQLite: each message is claimed (status
``sending`` with a lease) in one short unit of work, sent with no transaction open, and recorded in
another, so no message is sent twice and a worker killed mid-send leaves only the message in
flight to be sent again, once its lease has run out.
"""

import logging
import signal
import threading
import time
from datetime import datetime

from sqlalchemy.exc import OperationalError

from search_sync import outbox
from search_sync.sync import prune_tasks, sync_search

from .extensions import db
from .services import auth as auth_service
from .services import interviews as interview_service
from .services import mail as mail_service
from .services import passwords as password_service
from .services import scheduled
from .unit_of_work import is_lock_timeout, unit_of_work

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 600
# Reminders, deadline checks, escalations and retention (``portal.services.scheduled``): keyed, so
# how often they run changes only how soon after a deadline they act, never how many times.
SCHEDULED_PASS_SECONDS = 60
# SQLite's planner statistics (``ANALYZE``): PostgreSQL's autovacuum keeps its own.
PLANNER_STATISTICS_EVERY_SECONDS = 24 * 3600
POLL_SECONDS = 0.25  # also bounds outbox-to-searchable lag (budget: p95 under 1 s)


def deliver_mail(batch_size: int = 20, now: datetime | None = None) -> int:
    """The mail step of a pass: send up to ``batch_size`` due messages. Each one is claimed in a
    short unit of work, handed to the SMTP server with no transaction open (on SQLite nobody
    waits for the write lock while the server answers), and recorded in another short unit of
    work, so one refused message never holds back the rest and a worker killed mid-send leaves at
    most that one message to be sent again when its lease runs out. Stops early when nothing is
    due or the server cannot be reached. ``now``: the clock for due times, leases and back-off
    (tests pass it). Returns how many were sent."""
    sent, tried = 0, set[int]()
    outgoing = mail_service.Outgoing()
    try:
        for _ in range(batch_size):
            with unit_of_work():
                claim = mail_service.claim_next_mail(tried, now=now)
            if claim is None:
                break
            tried.add(claim.id)
            delivery = mail_service.send_claimed(claim, outgoing)
            _record_delivery(claim, delivery, now)
            if delivery.outcome == "server_gone":
                break
            sent += delivery.outcome == "sent"
    finally:
        outgoing.close()
    return sent


RECORD_TRIES = 5


def _record_delivery(claim: mail_service.Claim, delivery: mail_service.Delivery, now: datetime | None) -> None:
    """Record a delivery, trying again while the database is busy: the server may already have the
    message, and a record lost to a lock timeout would leave it ``sending`` until its lease ran out
    and then send it a second time. Any other error, or a lock that outlasts every try, still
    stops the pass (the lease then decides)."""
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            with unit_of_work():
                mail_service.record_delivery(claim, delivery, now=now)
            return
        except OperationalError as exc:
            if not is_lock_timeout(exc) or attempt == RECORD_TRIES:
                raise
            log.warning("mail %s: recording the delivery waited too long for the database; trying again", claim.id)
            time.sleep(0.1 * attempt)


def answer_sign_in_requests(batch_size: int = 20) -> int:
    """The sign-in step: decide, request by request, whether a queued "email me a link" names an
    active contact and queue the link mail (sent by :func:`deliver_mail` in the same pass).
    Returns how many requests were answered."""
    answered = 0
    for _ in range(batch_size):
        with unit_of_work():
            queued = auth_service.next_sign_in_request()
            if queued is not None:
                auth_service.answer_sign_in_request(queued)
        if queued is None:
            break
        answered += 1
    return answered


def answer_password_reset_requests(batch_size: int = 20, now: datetime | None = None) -> int:
    """The password-reset step: decide, request by request, whether a queued "Forgot your password?"
    names an active user and queue the reset mail. Returns how many requests were answered."""
    answered = 0
    for _ in range(batch_size):
        with unit_of_work():
            queued = password_service.next_reset_request()
            if queued is not None:
                password_service.answer_reset_request(queued, now=now)
        if queued is None:
            break
        answered += 1
    return answered


def cancel_interviews_of_rejected(now: datetime | None = None) -> int:
    """The rejection step: interviews of candidates whose client reject can no longer be undone
    are cancelled, their cancellation invitations queued (and sent by :func:`deliver_mail` in the
    same pass). Returns how many were cancelled."""
    cancelled = total = 0
    while True:
        with unit_of_work():
            cancelled = interview_service.cancel_interviews_of_rejected(now=now)
        total += cancelled
        if cancelled == 0:
            return total


def refresh_planner_statistics() -> bool:
    """On SQLite, gather the query planner's statistics (``ANALYZE``; PostgreSQL's autovacuum
    keeps its own). SQLite gathers none by itself, and without them it may prefer a unique index
    to the partial one that answers from the index alone (the jobs list's count of live shares:
    280 ms against 60 ms at 100,000 applications). The worker runs it at start and once a day:
    0.4 s of the write lock at 100,000 applications. Returns whether it ran."""
    if db.engine.dialect.name != "sqlite":
        return False
    with db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return True


def run_once() -> dict:
    """One pass over both outboxes; returns what it did."""
    answer_sign_in_requests()
    answer_password_reset_requests()
    cancel_interviews_of_rejected()
    sent = deliver_mail()
    search = sync_search()
    pending = outbox.backlog()
    db.session.remove()
    return {"mail_sent": sent, "search_pending": pending, "search": search}


def run(once: bool = False, app=None) -> None:
    """Loop until SIGINT/SIGTERM; back off while idle."""
    from flask import current_app

    # Flask types current_app as Flask, but it is a LocalProxy; the loop needs the real app
    # object (it outlives the request/CLI context), which only the proxy method returns.
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    # Handlers are installed only for the loop and the caller's are put back afterwards: a single
    # pass (``flask worker --once``, a test) must not leave SIGINT/SIGTERM pointing at a dead loop.
    previous_handlers = {}
    if not once and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous_handlers[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        _loop(app, stop, once)
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)


def _loop(app, stop: threading.Event, once: bool) -> None:
    """Passes over the outboxes until ``stop`` is set (one pass when ``once``)."""
    log.info("worker started (mail delivery %s)", "on" if app.config["MAIL_DELIVER"] else "off: see /dev/mail")
    last_pending = None
    next_prune = next_scheduled = next_statistics = 0.0
    while not stop.is_set():
        if not once and time.monotonic() >= next_prune:
            next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            with app.app_context():
                prune_tasks()
        if not once and time.monotonic() >= next_statistics:
            next_statistics = time.monotonic() + PLANNER_STATISTICS_EVERY_SECONDS
            with app.app_context():
                try:
                    refresh_planner_statistics()
                except OperationalError:  # the write lock held past the busy timeout: tomorrow
                    log.warning("could not gather SQLite's planner statistics; trying again later", exc_info=True)
        if not once and time.monotonic() >= next_scheduled:
            next_scheduled = time.monotonic() + SCHEDULED_PASS_SECONDS
            with app.app_context():
                did = scheduled.run_pass()
                db.session.remove()
            if any(any(counts.values()) for counts in did.values()):
                log.info("scheduled pass: %s", did)
        with app.app_context():
            try:
                result = run_once()
            except Exception:
                # Each step's unit of work rolled its change back; leaving the app context ends the session.
                log.exception("worker pass failed; retrying")
                result = {"mail_sent": 0, "search_pending": last_pending}
        if result["search_pending"] != last_pending:
            log.info("search outbox backlog: %s", result["search_pending"])
            last_pending = result["search_pending"]
        if once:
            return
        busy = result["mail_sent"] or (result.get("search") or {}).get("rows")
        failed = (result.get("search") or {}).get("failed")
        stop.wait(0 if busy and not failed else POLL_SECONDS)
    log.info("worker stopped")

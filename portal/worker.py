"""The worker process (Procfile ``worker``): drains every outbox, mail and search.

Several workers may run at once: each message is claimed, sent and recorded in a unit of work
of its own (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), so no message
is sent twice and a worker killed mid-pass re-sends at most the one in flight.
"""

import logging
import signal
import threading
import time

from search_sync import outbox
from search_sync.sync import prune_tasks, sync_search

from .extensions import db
from .services import auth as auth_service
from .services import mail as mail_service
from .unit_of_work import unit_of_work

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 600
POLL_SECONDS = 0.25  # also bounds outbox-to-searchable lag (budget: p95 under 1 s)


def deliver_mail(batch_size: int = 20) -> int:
    """The mail step of a pass: send up to ``batch_size`` due messages, each committed on its own
    as soon as the server has it, so one refused message never holds back the rest. Stops early
    when nothing is due or the server cannot be reached. Returns how many were sent."""
    sent, tried = 0, set[int]()
    outgoing = mail_service.Outgoing()
    try:
        for _ in range(batch_size):
            with unit_of_work():
                row = mail_service.next_due_mail(tried)
                result = mail_service.send_one(row, outgoing) if row is not None else None
                if row is not None:
                    tried.add(row.id)
            if result is None or result == "server_gone":
                break
            sent += result == "sent"
    finally:
        outgoing.close()
    return sent


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


def run_once() -> dict:
    """One pass over both outboxes; returns what it did."""
    answer_sign_in_requests()
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
    next_prune = 0.0
    while not stop.is_set():
        if not once and time.monotonic() >= next_prune:
            next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            with app.app_context():
                prune_tasks()
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

"""The worker (Procfile ``worker``): one pass, parallel workers on PostgreSQL, and the real process."""

import os
import signal
import subprocess
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import MailOutbox
from portal.services.mail import send_mail
from portal.worker import deliver_mail, run, run_once
from search_sync import outbox
from tests import clock
from tests.factories import make_agency, make_candidate, make_company, make_contact
from tests.servers import ROOT, wait_until


def queue_messages(count: int, subject: str = "Message") -> list[int]:
    """Commit ``count`` real sign-in emails with distinct subjects; returns their ids."""
    agency = make_agency()
    contact = make_contact(make_company(agency), email="clara@acme.example")
    rows = [
        send_mail(
            agency,
            "sign_in",
            contact.email,
            f"{subject} {n:02d}",
            "configured",
            body="Sign in below.",
            button_label="Sign in",
            url="http://127.0.0.1:8000/x/link/token",
        )
        for n in range(count)
    ]
    db.session.commit()
    return [row.id for row in rows]


def statuses() -> Counter:
    db.session.expire_all()
    return Counter(db.session.scalars(select(MailOutbox.status)).all())


def test_run_once_sends_due_mail(app, smtp):
    with app.app_context():
        queue_messages(3)

    handlers_before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    run(once=True, app=app)

    received = smtp.inbox.wait_for(3)
    assert sorted(m["message"]["Subject"] for m in received) == ["Message 00", "Message 01", "Message 02"]
    with app.app_context():
        assert statuses() == Counter({"sent": 3})
    # One pass must leave the caller's Ctrl-C and SIGTERM handling as it found it.
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers_before


def test_run_once_reports_what_it_did(ctx, smtp):
    queue_messages(2)
    agency = make_agency()
    outbox.enqueue(agency.id, "candidate", make_candidate(agency).id)
    db.session.commit()

    result = run_once()
    assert result["mail_sent"] == 2
    assert len(smtp.inbox.wait_for(2)) == 2
    # The search backlog it reports is the outbox as the pass left it.
    assert result["search_pending"] == outbox.backlog()
    assert run_once()["mail_sent"] == 0


def test_two_workers_in_parallel_send_every_message_exactly_once(app, smtp):
    # PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the unit of work's write lock.
    with app.app_context():
        ids = queue_messages(30)

    start = threading.Barrier(2)
    sent_by_worker: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                start.wait(10)
                total = 0
                # Small batches so the two workers interleave over the queue.
                while sent := deliver_mail(batch_size=4):
                    total += sent
                sent_by_worker.append(total)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)

    # SMTP is synchronous: every message a worker counted has been accepted by the server.
    messages = [m["message"] for m in smtp.inbox.messages]
    subjects = Counter(m["Subject"] for m in messages)
    message_ids = Counter(m["Message-ID"] for m in messages)
    assert len(messages) == 30
    assert sum(sent_by_worker) == 30
    assert subjects == Counter({f"Message {n:02d}": 1 for n in range(30)})
    assert max(message_ids.values()) == 1
    with app.app_context():
        assert statuses() == Counter({"sent": 30})
        assert {row.attempts for row in db.session.scalars(select(MailOutbox).where(MailOutbox.id.in_(ids)))} == {1}


@pytest.fixture
def worker_env(database_url, smtp, meili):
    """Environment for ``python -m portal worker`` pointing at the suite's database and servers."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_ENV="testing",
        DATABASE_URL=database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp.port),
        MEILI_URL=meili.url,
        MEILI_MASTER_KEY=meili.master_key,
        PYTHONUNBUFFERED="1",
    )
    return env


def test_worker_process_delivers_mail_and_stops_cleanly_on_sigterm(app, smtp, worker_env, tmp_path):
    with app.app_context():
        [row_id] = queue_messages(1, subject="From the worker process")

    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            clock.shifted_command("portal", "worker"),
            cwd=ROOT,
            env=clock.shifted_environment(worker_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            [received] = smtp.inbox.wait_for(1, timeout=30)
        except TimeoutError:
            pytest.fail(f"the worker sent nothing; its log:\n{log_path.read_text()}")
        assert received["message"]["Subject"] == "From the worker process 00"
        with app.app_context():
            wait_until(
                lambda: db.session.get(MailOutbox, row_id, populate_existing=True).status == "sent",
                what="the worker to commit the sent row",
            )

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    output = log_path.read_text()
    assert "worker started" in output and "worker stopped" in output
    assert "Traceback" not in output
    assert len(smtp.inbox.messages) == 1


def test_flask_worker_once_drains_and_exits(app, smtp):
    with app.app_context():
        queue_messages(2)

    result = app.test_cli_runner().invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert len(smtp.inbox.wait_for(2)) == 2
    with app.app_context():
        assert statuses() == Counter({"sent": 2})

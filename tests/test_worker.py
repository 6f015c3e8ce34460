"""The worker (Procfile ``worker``): one pass, two workers at once (threads with their own apps, and
real processes) on either database, a worker killed mid-send, and the real process."""

import asyncio
import os
import signal
import subprocess
import threading
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Agency, MailOutbox, utcnow
from portal.services.mail import send_mail
from portal.unit_of_work import unit_of_work
from portal.worker import deliver_mail, run, run_once
from search_sync import outbox
from tests import clock
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_job,
    make_user,
)
from tests.locks import impatient_settings, write_lock_held
from tests.servers import ROOT, Inbox, free_port, wait_until


def queue_messages(count: int, subject: str = "Message") -> list[int]:
    """Commit ``count`` real sign-in emails with distinct subjects; returns their ids."""
    return queue_subjects([f"{subject} {n:02d}" for n in range(count)])


def queue_subjects(subjects: list[str]) -> list[int]:
    """Commit one real sign-in email per subject, oldest first; returns their ids."""
    agency = make_agency()
    contact = make_contact(make_company(agency), email="clara@acme.example")
    rows = [
        send_mail(
            agency,
            "sign_in",
            contact.email,
            subject,
            "configured",
            body="Sign in below.",
            button_label="Sign in",
            url="http://127.0.0.1:8000/x/link/token",
        )
        for subject in subjects
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


def test_two_workers_each_with_its_own_app_send_every_message_exactly_once(make_app, smtp):
    # Two workers as two processes would be: each its own app, engine and connections.
    # PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the claims take turns on the write lock.
    workers = [make_app(), make_app()]
    with workers[0].app_context():
        ids = queue_messages(40)

    start = threading.Barrier(2)
    sent_by_worker: list[int] = []
    errors: list[BaseException] = []

    def worker(worker_app):
        try:
            with worker_app.app_context():
                start.wait(10)
                total = 0
                # Small batches so the two workers interleave over the queue.
                while sent := deliver_mail(batch_size=4):
                    total += sent
                sent_by_worker.append(total)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(worker_app,)) for worker_app in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)

    # SMTP is synchronous: every message a worker counted has been accepted by the server.
    assert_each_received_once(smtp.inbox, [f"Message {n:02d}" for n in range(40)])
    assert sum(sent_by_worker) == 40
    with workers[0].app_context():
        assert statuses() == Counter({"sent": 40})
        assert {row.attempts for row in db.session.scalars(select(MailOutbox).where(MailOutbox.id.in_(ids)))} == {1}


def assert_each_received_once(inbox: Inbox, subjects: list[str]) -> None:
    """The SMTP server received exactly ``subjects``, each once, with distinct Message-IDs."""
    messages = [m["message"] for m in inbox.messages]
    assert Counter(str(m["Subject"]) for m in messages) == Counter(subjects)
    assert len({m["Message-ID"] for m in messages}) == len(messages)


class HoldingInbox(Inbox):
    """An SMTP server that keeps the first message whose subject starts with "Hold" and then says
    nothing until released: the server has the message, the worker still waits for its 250."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        answer = await super().handle_DATA(server, session, envelope)
        if str(message["Subject"]).startswith("Hold") and not self.holding.is_set():
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return answer


@pytest.fixture
def holding_smtp():
    inbox = HoldingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    inbox.release.set()
    controller.stop()


def test_client_writes_go_through_while_the_worker_waits_for_the_mail_server(make_app, holding_smtp):
    # The worker holds no transaction (on SQLite: no write lock) while the SMTP server answers.
    controller, inbox = holding_smtp
    worker_app, web_app = make_app(MAIL_PORT=controller.port), make_app()
    with worker_app.app_context():
        [row_id] = queue_messages(1, subject="Hold")
    delivered: list[int] = []
    worker = threading.Thread(target=lambda: delivered.append(_deliver_in(worker_app)))
    worker.start()
    try:
        wait_until(inbox.holding.is_set, 30, what="the server to hold the message")
        with web_app.app_context():
            with unit_of_work():
                make_agency("written-meanwhile")
            assert db.session.scalar(select(Agency.id).where(Agency.slug == "written-meanwhile")) is not None
            assert db.session.get(MailOutbox, row_id).status == "sending"
    finally:
        inbox.release.set()
        worker.join(30)
    assert delivered == [1]
    with web_app.app_context():
        assert statuses() == Counter({"sent": 1})


def _deliver_in(worker_app) -> int:
    with worker_app.app_context():
        return deliver_mail()


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


def test_worker_killed_after_the_server_took_a_message_re_sends_only_that_one(
    app, make_app, worker_env, holding_smtp, tmp_path
):
    controller, inbox = holding_smtp
    survivor = make_app(MAIL_PORT=controller.port)
    subjects = ["Message 00", "Message 01", "Hold 02", "Message 03", "Message 04"]
    with app.app_context():
        held_id = queue_subjects(subjects)[2]

    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            clock.shifted_command("portal", "worker"),
            cwd=ROOT,
            env=clock.shifted_environment({**worker_env, "MAIL_PORT": str(controller.port)}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_until(inbox.holding.is_set, 30, what="the server to hold a message")
        except TimeoutError:
            pytest.fail(f"the worker did not get to the held message; its log:\n{log_path.read_text()}")
        # The server has the third message; the worker is waiting for its answer. Kill it there.
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    inbox.release.set()

    with survivor.app_context():
        db.session.expire_all()
        rows = {row.subject: row for row in db.session.scalars(select(MailOutbox))}
        assert [rows[s].status for s in subjects] == ["sent", "sent", "sending", "pending", "pending"]
        start = utcnow()
        # Another worker sends the rest at once, but not the message whose lease is still live.
        assert deliver_mail(now=start) == 2
        assert db.session.get(MailOutbox, held_id, populate_existing=True).status == "sending"
        # When the lease has run out it is sent again: the only message that arrives twice.
        assert deliver_mail(now=start + timedelta(seconds=survivor.config["MAIL_LEASE_SECONDS"])) == 1
        assert statuses() == Counter({"sent": 5})
    received = Counter(str(m["message"]["Subject"]) for m in inbox.messages)
    assert received == Counter({**dict.fromkeys(subjects, 1), "Hold 02": 2})


def test_two_worker_processes_send_every_message_exactly_once(app, smtp, worker_env, tmp_path):
    processes, logs = [], []
    for n in range(2):
        logs.append(tmp_path / f"worker-{n}.log")
        with open(logs[-1], "wb") as log:
            processes.append(
                subprocess.Popen(
                    clock.shifted_command("portal", "worker"),
                    cwd=ROOT,
                    env=clock.shifted_environment(worker_env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        # Both are polling before the mail is committed, so both go for the same 40 messages.
        for path in logs:
            wait_until(lambda path=path: "worker started" in path.read_text(), 30, what="a worker to start")
        with app.app_context():
            queue_messages(40)
        smtp.inbox.wait_for(40, timeout=60)
        with app.app_context():
            wait_until(lambda: statuses() == Counter({"sent": 40}), 30, what="both workers to record every message")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process, path in zip(processes, logs, strict=True):
            try:
                assert process.wait(timeout=20) == 0, path.read_text()
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
    for path in logs:
        assert "Traceback" not in path.read_text()
    assert_each_received_once(smtp.inbox, [f"Message {n:02d}" for n in range(40)])


def test_a_delivery_recorded_while_the_database_is_busy_is_retried_not_sent_again(
    make_app, holding_smtp, database_url, caplog
):
    """The server has the message; recording it meets a lock held elsewhere beyond the busy timeout.
    The worker tries again until the lock is free, instead of leaving the message "sending" to be
    sent a second time when its lease runs out."""
    controller, inbox = holding_smtp
    worker_app = make_app(MAIL_PORT=controller.port, **impatient_settings(100))
    with worker_app.app_context():
        [row_id] = queue_messages(1, subject="Hold")
    delivered: list[int] = []
    failures: list[BaseException] = []

    def work():
        try:
            delivered.append(_deliver_in(worker_app))
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        wait_until(inbox.holding.is_set, 30, what="the server to hold the message")
        with write_lock_held(database_url, "mail_outbox"):
            inbox.release.set()  # the server answers 250; the worker goes to record it
            wait_until(
                lambda: any("trying again" in record.getMessage() for record in caplog.records),
                30,
                what="the worker to meet the lock and try again",
            )
    finally:
        inbox.release.set()
        worker.join(30)
    assert failures == [] and delivered == [1]
    assert len(inbox.messages) == 1
    with worker_app.app_context():
        assert db.session.get(MailOutbox, row_id).status == "sent"
        db.session.remove()


def test_the_worker_gathers_sqlites_planner_statistics(ctx):
    """SQLite gathers no statistics by itself: the worker does (at start and once a day), so the
    planner knows the partial index of live shares."""
    from portal.worker import refresh_planner_statistics

    if db.engine.dialect.name != "sqlite":
        assert refresh_planner_statistics() is False  # PostgreSQL's autovacuum keeps its own
        return
    agency = make_agency()
    job = make_job(make_company(agency), make_user(agency))
    make_application(job)
    db.session.commit()
    db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
    db.session.commit()
    try:
        assert refresh_planner_statistics() is True
        query = text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'shared_profile'")
        assert "ix_shared_profile_live" in db.session.execute(query).scalars().all()
    finally:  # the other tests plan their statements without statistics, as before
        db.session.rollback()
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.commit()

"""Scheduled passes (``portal.services.scheduled``): a keyed thing happens once, whoever runs the
pass and however often; a failing step does not stop the others; ``flask reminders run`` prints
what the pass did."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ScheduledMark, utcnow
from portal.services import scheduled
from portal.unit_of_work import unit_of_work
from tests.factories import make_agency


def test_a_key_is_claimed_once_per_agency(ctx):
    first, second = make_agency(), make_agency()
    now = utcnow()
    assert scheduled.once(first.id, "reminder:contact:1:2031-03-04", now=now)
    assert not scheduled.once(first.id, "reminder:contact:1:2031-03-04", now=now + timedelta(minutes=1))
    assert scheduled.once(second.id, "reminder:contact:1:2031-03-04", now=now)
    assert scheduled.was_done(first.id, "reminder:contact:1:2031-03-04")
    assert not scheduled.was_done(first.id, "reminder:contact:2:2031-03-04")


def test_a_claim_rolled_back_with_its_work_is_claimed_again(ctx):
    agency = make_agency()
    db.session.commit()
    try:
        with unit_of_work():
            assert scheduled.once(agency.id, "chase:share:1")
            raise RuntimeError("the work failed")
    except RuntimeError:
        pass
    with unit_of_work():
        assert scheduled.once(agency.id, "chase:share:1")


def test_two_workers_claiming_the_same_keys_at_once_share_them_exactly(make_app):
    workers = [make_app(), make_app()]
    with workers[0].app_context():
        agency_id = make_agency().id
        db.session.commit()
    keys = [f"reminder:contact:{n}" for n in range(30)]
    start = threading.Barrier(2)
    claimed: list[list[str]] = []
    errors: list[BaseException] = []

    def worker(worker_app):
        mine = []
        try:
            with worker_app.app_context():
                start.wait(10)
                for key in keys:
                    with unit_of_work():
                        if scheduled.once(agency_id, key):
                            mine.append(key)
                claimed.append(mine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(claimed[0] + claimed[1]) == sorted(keys)
    with workers[0].app_context():
        assert db.session.scalar(select(func.count()).select_from(ScheduledMark)) == len(keys)


def test_a_failing_step_is_reported_and_the_others_still_run(ctx, monkeypatch):
    calls = []

    def broken(now):
        raise RuntimeError("boom")

    def counting(now):
        calls.append(now)
        return {"reminders sent": 2}

    monkeypatch.setattr(scheduled, "_STEPS", [("broken", broken, "reminders"), ("counting", counting, "retention")])
    now = utcnow()
    assert scheduled.run_pass(now=now) == {"broken": {"failed": 1}, "counting": {"reminders sent": 2}}
    assert calls == [now]


def test_flask_reminders_run_prints_each_step(app, monkeypatch):
    monkeypatch.setattr(
        scheduled,
        "_STEPS",
        [
            ("client reminders", lambda now: {"sent": 1, "snoozed": 0}, "reminders"),
            ("retention", lambda now: {"asked": 3}, "retention"),
        ],
    )
    result = app.test_cli_runner().invoke(args=["reminders", "run"])
    assert result.exit_code == 0, result.output
    assert "client reminders: sent: 1, snoozed: 0" in result.output
    assert "retention" not in result.output  # its own command runs it

"""The clock guard itself (tests/clock.py): a moved clock reaches the child processes the tests start."""

import json
import subprocess
from datetime import UTC, datetime

import time_machine

from tests import clock
from tests.servers import ROOT

PRINT_NOW = "import datetime, json; print(json.dumps(datetime.datetime.now(datetime.timezone.utc).isoformat()))"


def child_now(env: dict[str, str]) -> datetime:
    """What ``datetime.now`` says inside ``python -m tests.clock`` (the worker's wrapper)."""
    output = subprocess.run(
        clock.shifted_command("-c", PRINT_NOW), cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return datetime.fromisoformat(json.loads(output))


def test_a_child_started_through_the_wrapper_reads_the_moved_clock(monkeypatch):
    monkeypatch.setenv(clock.ENV, "2041-03-10T06:45:00+00:00")
    env = clock.shifted_environment({"PATH": "/usr/bin:/bin"})
    assert env[clock.ENV]  # handed on: the parent's own (moved or real) now
    env[clock.ENV] = "2041-03-10T06:45:00+00:00"
    moved = child_now(env)
    assert datetime(2041, 3, 10, 6, 45, tzinfo=UTC) <= moved < datetime(2041, 3, 10, 7, 45, tzinfo=UTC)


def test_without_a_requested_clock_nothing_is_moved(monkeypatch):
    monkeypatch.delenv(clock.ENV, raising=False)
    assert clock.requested() is None
    assert clock.ENV not in clock.shifted_environment({"PATH": "/usr/bin:/bin"})
    hatch = time_machine.escape_hatch
    real_now = hatch.datetime.datetime.now(UTC) if hatch.is_travelling() else datetime.now(UTC)
    assert abs((child_now({"PATH": "/usr/bin:/bin"}) - real_now).total_seconds()) < 600

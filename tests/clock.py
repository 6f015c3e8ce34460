"""The suite's clock guard: run the tests with the wall clock moved elsewhere.

``TEST_CLOCK=2041-03-10T06:45:00+00:00 pytest`` moves the whole test process to that instant
(ticking on from there) with time-machine, so a test that mixes a fixed date with the real clock,
or that only passes on some day, hour or season, fails every time instead of one day in the future.
``make test`` runs the non-browser suite this way (see ``scripts/test.sh``). Subprocesses the tests
start (the worker) are moved with ``shifted_command`` so both sides read the same clock.
"""

import os
import sys
from datetime import UTC, datetime

import time_machine

ENV = "TEST_CLOCK"


def requested() -> datetime | None:
    """The instant ``TEST_CLOCK`` asks for, or None to run on the real clock."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{ENV} needs a UTC offset, e.g. 2041-03-10T06:45:00+00:00 (got {value!r})")
    return moment


def start() -> time_machine.travel | None:
    """Move this process to the requested instant; returns the traveller to stop, or None."""
    moment = requested()
    if moment is None:
        return None
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    return traveller


def shifted_environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a child process that should read the same (possibly moved) clock as this one."""
    env = dict(env)
    if requested() is not None:
        env[ENV] = datetime.now(UTC).isoformat()
    return env


def shifted_command(module: str, *args: str) -> list[str]:
    """``python -m module args`` (or ``python -c code``) on ``TEST_CLOCK``'s clock when it is set."""
    return [sys.executable, "-m", "tests.clock", module, *args]


if __name__ == "__main__":
    import runpy

    start()
    if sys.argv[1] == "-c":
        exec(sys.argv[2])  # noqa: S102 - the test's own one-liner, run on the moved clock
    else:
        module, sys.argv = sys.argv[1], sys.argv[1:]
        runpy.run_module(module, run_name="__main__", alter_sys=True)

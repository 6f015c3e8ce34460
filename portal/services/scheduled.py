"""Scheduled passes (issue 15, 16): reminders, deadline checks, escalations and retention run from
the worker, not cron. Each thing a pass does is keyed: :func:`once` inserts the key in the same
unit of work as the work itself, so two workers running the same pass at the same moment, or a pass
repeated after a crash, do each thing exactly once.

A pass is a function ``step(now) -> dict[str, int]`` (what it did, by name) registered with
:func:`scheduled_step`; :func:`run_pass` runs every registered step. The worker calls it every
``SCHEDULED_PASS_SECONDS``; ``flask reminders run`` calls it once.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import ScheduledMark, utcnow

log = logging.getLogger(__name__)

Step = Callable[[datetime], dict[str, int]]
_STEPS: list[tuple[str, Step, str]] = []
GROUPS = ("reminders", "retention")


def scheduled_step(name: str, group: str = "reminders") -> Callable[[Step], Step]:
    """Register ``step`` to run in every scheduled pass, under ``name`` (its report's heading).
    ``group``: the operator command that runs it alone (``flask reminders run``, ``flask retention
    run``); the worker runs every group."""
    assert group in GROUPS, group

    def register(step: Step) -> Step:
        if all(existing != name for existing, _, _ in _STEPS):
            _STEPS.append((name, step, group))
        return step

    return register


def steps(group: str | None = None) -> list[tuple[str, Step]]:
    """The registered steps of ``group`` (None: all), in registration order."""
    _import_step_modules()
    return [(name, step) for name, step, in_group in _STEPS if group in (None, in_group)]


def _import_step_modules() -> None:
    """Import the modules that register steps, so a pass sees them whatever imported what."""
    # Each feature module registers its own steps at import; the list lives here, in one place.
    for module in STEP_MODULES:
        __import__(module)


# Modules whose import registers scheduled steps.
STEP_MODULES: list[str] = [
    "portal.services.decision_reminders",
    "portal.services.no_ghosting",
    "portal.services.retention",
]


def once(agency_id: int, key: str, now: datetime | None = None) -> bool:
    """True the first time ``key`` is claimed for the agency (the caller then does the work in the
    same unit of work); False when it was claimed before, by this pass or another worker's. The
    claim is rolled back with the unit of work, so work that fails is tried again next pass."""
    now = now or utcnow()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed = db.session.execute(
        insert(ScheduledMark)
        .values(agency_id=agency_id, key=key, done_at=now)
        .on_conflict_do_nothing(index_elements=["agency_id", "key"])
        .returning(ScheduledMark.id)
    ).scalar_one_or_none()
    return claimed is not None


def was_done(agency_id: int, key: str) -> bool:
    """Whether ``key`` has been claimed for the agency (a report, a dry run)."""
    found = select(ScheduledMark.id).where(ScheduledMark.agency_id == agency_id, ScheduledMark.key == key)
    return db.session.scalar(found) is not None


def run_pass(now: datetime | None = None, group: str | None = None) -> dict[str, dict[str, int]]:
    """Run every registered step of ``group`` (None: all) once. A step opens its own units of
    work (one per thing it does, so one bad row rolls back only itself); a step that raises is
    logged and reported as ``{"failed": 1}`` and the other steps still run. Returns each step's report by name."""
    now = now or utcnow()
    report: dict[str, dict[str, int]] = {}
    for name, step in steps(group):
        try:
            report[name] = step(now)
        except Exception:
            # The step's unit of work rolled its change back; the rest of the pass goes on.
            log.exception("scheduled step %s failed; it runs again next pass", name)
            report[name] = {"failed": 1}
    return report

"""Per-account back-off for staff passwords (instead of a lock-out anyone could trigger).

Each address (known or not: the same rules, so the answer tells nothing) may fail a few times
freely; after that the next attempt is allowed only after a delay that doubles with every
further failure, up to a cap. A success clears the record; a record left alone for a day is
forgotten. The delay is enforced here, server-side, before any password is checked.

A browser that signed in to an address before carries a signed device cookie for it
(portal/trusted_device.py): its attempts have a back-off of their own, so strangers failing on
the address (one wrong guess per window from anywhere was enough) cannot keep its owner out,
while guesses from anywhere else still share the address's back-off. A stolen device cookie buys
one more back-off, not a way round it.

An attempt is counted as a failure *before* the password is checked (the caller commits the claim
in a unit of work of its own, then checks, then clears the record on success): so parallel
guesses cannot slip through one allowed slot, and the slow hash runs outside the write lock.
"""

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import LoginThrottle, as_utc, utcnow

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)
THROTTLED = "Too many attempts."


def _key(email: str, device: str | None = None) -> str:
    address = (email or "").strip().lower()
    return hashlib.sha256((address if device is None else f"{address}\0device:{device}").encode()).hexdigest()


def delay_after(failures: int) -> timedelta:
    """How long after the latest failure the next attempt must wait."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20), MAX_DELAY)


def claim_attempt(email: str, now: datetime | None = None, device: str | None = None) -> bool:
    """True when a password attempt for ``email`` may be checked now (and count it as a failure
    until :func:`attempt_succeeded` says otherwise); False while the address must wait.
    ``device``: the id of a browser that signed in to this address before, counted on its own."""
    now = now or utcnow()
    key = _key(email, device)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - FORGET_AFTER))
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0, next_allowed_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    claim = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    row = db.session.scalars(claim.execution_options(populate_existing=True)).one()
    if as_utc(row.next_allowed_at) > now:
        return False
    row.failures += 1
    row.next_allowed_at = now + delay_after(row.failures)
    row.updated_at = now
    return True


def seconds_to_wait(email: str, now: datetime | None = None, device: str | None = None) -> int:
    """Whole seconds, rounded up, until an attempt for ``email`` (from ``device``) may be made again
    (0: now)."""
    now = now or utcnow()
    query = select(LoginThrottle.next_allowed_at).where(LoginThrottle.key == _key(email, device))
    allowed_at = db.session.scalar(query)
    if allowed_at is None:
        return 0
    return max(0, math.ceil((as_utc(allowed_at) - now).total_seconds()))


def attempt_succeeded(email: str, device: str | None = None) -> None:
    """The password was right: start afresh (the address, and the device it came from)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_({_key(email), _key(email, device)})))

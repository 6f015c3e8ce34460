"""The agency's working-day calendar (issue 15): Monday to Friday, less the holidays its admins
list. The arithmetic is pure (dates in, dates out) so it is tested without a database; the
instants a deadline falls on are worked out in one zone, the job owner's (see
:func:`feedback_due_at`).
"""

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import AgencyHoliday
from .timezones import zone_or_utc

SATURDAY = 5  # date.weekday(): Saturday and Sunday are never working days


def is_working_day(day: date, holidays: Collection[date] = ()) -> bool:
    """Whether ``day`` is a working day: not a weekend, not one of ``holidays``."""
    return day.weekday() < SATURDAY and day not in holidays


def next_working_day(day: date, holidays: Collection[date] = ()) -> date:
    """The first working day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day, holidays):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date, holidays: Collection[date] = ()) -> date:
    """The last working day strictly before ``day``."""
    day -= timedelta(days=1)
    while not is_working_day(day, holidays):
        day -= timedelta(days=1)
    return day


def add_working_days(start: date, days: int, holidays: Collection[date] = ()) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count, so a share on
    Monday with 5 days is due the next Monday). ``days=0``: ``start`` when it is a working day,
    else the next one."""
    if days <= 0:
        return start if is_working_day(start, holidays) else next_working_day(start, holidays)
    day = start
    for _ in range(days):
        day = next_working_day(day, holidays)
    return day


def start_of_day(day: date, zone_name: str | None) -> datetime:
    """Midnight at the start of ``day`` in the zone, as an aware datetime in that zone."""
    return datetime.combine(day, time(0, 0), tzinfo=zone_or_utc(zone_name))


def end_of_day(day: date, zone_name: str | None) -> datetime:
    """The last second of ``day`` in the zone (23:59:59 local, whatever the daylight-saving rule)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone_or_utc(zone_name))


def local_date(instant: datetime, zone_name: str | None) -> date:
    """The calendar date ``instant`` falls on in the zone."""
    return instant.astimezone(zone_or_utc(zone_name)).date()


def feedback_due_at(shared_at: datetime, days: int, zone_name: str | None, holidays: Collection[date] = ()) -> datetime:
    """A share's "please decide by": the end of the ``days``-th working day after the day it was
    shared, both days read in ``zone_name`` (the job owner's: the agency's desk keeps the calendar
    and chases the client, so its day is the one that ends)."""
    due_day = add_working_days(local_date(shared_at, zone_name), days, holidays)
    return end_of_day(due_day, zone_name).astimezone(UTC)


def agency_holidays(agency_id: int) -> frozenset[date]:
    """Every holiday the agency listed (a few a year: read whole)."""
    return frozenset(db.session.scalars(select(AgencyHoliday.day).where(AgencyHoliday.agency_id == agency_id)))

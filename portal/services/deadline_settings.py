"""The agency's decision-deadline settings (issue 15), changed by its admins: how many working
days a client has to decide on a share, how many more before the job owner is asked to chase, and
the holidays that do not count as working days."""

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Agency, AgencyHoliday, User
from . import ServiceError
from .activity import record

DUE_DAYS_RANGE = (1, 60)
GRACE_DAYS_RANGE = (0, 30)


def _in_range(value: int | None, bounds: tuple[int, int], field: str, what: str) -> int:
    low, high = bounds
    if value is None or not low <= value <= high:
        raise ServiceError(f"Give {what} between {low} and {high} working days.", field=field)
    return value


def set_deadline_settings(actor: User, due_days: int | None, grace_days: int | None) -> Agency:
    """The agency's default days to decide (a job may override it) and the chase grace."""
    agency = db.session.get_one(Agency, actor.agency_id)
    agency.feedback_due_working_days = _in_range(due_days, DUE_DAYS_RANGE, "due_days", "the days to decide")
    agency.feedback_chase_grace_days = _in_range(grace_days, GRACE_DAYS_RANGE, "grace_days", "the grace")
    record(
        agency.id,
        "admin.deadlines_changed",
        f"{actor.name} set clients' decision time to {due_days} working day(s), chased {grace_days} later",
        actor=actor,
    )
    return agency


def holidays(agency_id: int) -> list[AgencyHoliday]:
    """The agency's holidays, in date order."""
    query = select(AgencyHoliday).where(AgencyHoliday.agency_id == agency_id).order_by(AgencyHoliday.day)
    return list(db.session.scalars(query))


def add_holiday(actor: User, day: date | None, name: str = "") -> AgencyHoliday:
    """List a day as a holiday (deadlines set from now on skip it; deadlines already set stay)."""
    if day is None:
        raise ServiceError("Give the holiday's date.", field="day")
    name = " ".join((name or "").split())
    if len(name) > 120:
        raise ServiceError("Keep the name under 120 characters.", field="name")
    taken = select(AgencyHoliday.id).where(AgencyHoliday.agency_id == actor.agency_id, AgencyHoliday.day == day)
    if db.session.scalar(taken) is not None:
        raise ServiceError(f"{day.isoformat()} is already a holiday.", field="day")
    holiday = AgencyHoliday(agency_id=actor.agency_id, day=day, name=name)
    db.session.add(holiday)
    db.session.flush()
    record(actor.agency_id, "admin.holiday_added", f"{actor.name} added the holiday {day.isoformat()}", actor=actor)
    return holiday


def remove_holiday(actor: User, holiday: AgencyHoliday) -> None:
    """Make a listed holiday a working day again."""
    db.session.delete(holiday)
    record(
        actor.agency_id,
        "admin.holiday_removed",
        f"{actor.name} removed the holiday {holiday.day.isoformat()}",
        actor=actor,
    )

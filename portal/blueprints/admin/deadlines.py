"""Decision deadlines (issue 15): the days a client has to decide on a share, the grace before
the job owner chases, and the agency's holidays (weekends never count as working days).

Refusals show on the field at fault; a refused holiday removal shows on its row."""

from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...htmx import render
from ...models import AgencyHoliday
from ...scoping import get_scoped_or_404
from ...services import deadline_settings
from ...unit_of_work import attempt
from . import bp
from .forms import show_refusal
from .responses import after_change


class DeadlineSettingsForm(FlaskForm):
    """The agency's default decision time and chase grace, in working days."""

    due_days = IntegerField(
        "Working days a client has to decide",
        validators=[
            InputRequired("Give the days to decide between 1 and 60 working days."),
            NumberRange(1, 60, "Give the days to decide between 1 and 60 working days."),
        ],
        description="Counted from the day a candidate is shared; a job can set its own.",
    )
    grace_days = IntegerField(
        "Working days before the job owner chases",
        validators=[
            InputRequired("Give the grace between 0 and 30 working days."),
            NumberRange(0, 30, "Give the grace between 0 and 30 working days."),
        ],
        description="After the date to decide by; the owner then gets a “Chase client feedback” task.",
    )


class HolidayForm(FlaskForm):
    """One day that is not a working day."""

    day = DateField("Date", validators=[InputRequired("Give the holiday's date.")])
    name = StringField("Name (optional)", validators=[Optional(), Length(max=120)])


def _context(form=None, holiday_form=None, error_for=None, error=None, saved=False) -> dict:
    agency = current_user.agency
    return {
        "form": form
        or DeadlineSettingsForm(
            formdata=None, due_days=agency.feedback_due_working_days, grace_days=agency.feedback_chase_grace_days
        ),
        "holiday_form": holiday_form or HolidayForm(formdata=None),
        "holidays": deadline_settings.holidays(current_user.agency_id),
        "error_for": error_for,
        "error": error,
        "saved": saved,
    }


def _page(status=200, **context):
    return render("admin/deadlines.html", "admin/_deadlines.html", status=status, **_context(**context))


@bp.get("/deadlines")
def deadlines():
    """The decision-deadline settings and the holiday list."""
    return _page()


@bp.post("/deadlines")
def update_deadlines():
    """Save the default days to decide and the chase grace."""
    form = DeadlineSettingsForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            deadline_settings.set_deadline_settings(current_user, form.due_days.data, form.grace_days.data)
        if outcome.refusal is None:
            return after_change("admin.deadlines", lambda: _page(saved=True))
        show_refusal(form, outcome.refusal)
    return _page(status=422, form=form)


@bp.post("/holidays")
def add_holiday():
    """List a holiday."""
    form = HolidayForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            deadline_settings.add_holiday(current_user, form.day.data, form.name.data or "")
        if outcome.refusal is None:
            return after_change("admin.deadlines", _page)
        show_refusal(form, outcome.refusal)
    return _page(status=422, holiday_form=form)


@bp.post("/holidays/<int:holiday_id>/delete")
def delete_holiday(holiday_id: int):
    """Make a holiday a working day again."""
    holiday = get_scoped_or_404(AgencyHoliday, holiday_id)
    with attempt() as outcome:
        deadline_settings.remove_holiday(current_user, holiday)
    if outcome.refusal is not None:
        return _page(status=422, error_for=holiday_id, error=outcome.refusal.message)
    return after_change("admin.deadlines", _page)

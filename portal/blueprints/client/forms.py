"""Forms of the client portal. Business rules (past times, overlaps ...) live in the services;
these only parse and bound the input."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...services.client_actions import DURATIONS, FORMATS, MAX_SLOTS
from ...services.timezones import zone_choices


class RatingForm(FlaskForm):
    """1–5 stars; empty clears the rating."""

    stars = IntegerField("Stars", validators=[Optional(), NumberRange(1, 5, "Choose from 1 to 5 stars.")])


class CommentForm(FlaskForm):
    """A message on the candidate's thread."""

    body = TextAreaField(
        "Add a comment",
        validators=[
            InputRequired("Write a comment first."),
            Length(max=4000, message="Keep comments under 4,000 characters."),
        ],
    )


def _duration_label(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


class SlotForm(Form):
    """One proposed time (no CSRF of its own: it lives inside InterviewForm)."""

    day = DateField("Date", validators=[Optional()])
    start = TimeField("Start", validators=[Optional()])
    minutes = SelectField(
        "Duration", coerce=int, default=60, choices=[SelectChoice(m, _duration_label(m)) for m in DURATIONS]
    )


class InterviewForm(FlaskForm):
    """C7: proposed slots in the contact's timezone, format and notes."""

    format = RadioField(
        "Interview format",
        default="video",
        choices=[SelectChoice(key, label) for key, label in FORMATS.items()],
        validators=[InputRequired("Choose video, phone or on-site.")],
    )
    timezone = SelectField("Your timezone", validators=[InputRequired("Choose a timezone from the list.")])
    slots = FieldList(FormField(SlotForm), min_entries=1, max_entries=MAX_SLOTS)
    notes = TextAreaField(
        "Notes for the recruiter (optional)",
        validators=[Length(max=2000, message="Keep the notes under 2,000 characters.")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(name, name.replace("_", " ")) for name in zone_choices()]


class HireForm(FlaskForm):
    """C8: optional start date and note."""

    start_date = DateField("Proposed start date (optional)", validators=[Optional()])
    note = TextAreaField(
        "Note for the recruiter (optional)",
        validators=[Length(max=2000, message="Keep the note under 2,000 characters.")],
    )


class RejectReasonForm(FlaskForm):
    """C9: reason from the agency's list and/or a comment, after the one-click reject."""

    reason_id = SelectField(
        "Reason (optional)", coerce=lambda v: int(v) if v not in (None, "", "None") else None, validators=[Optional()]
    )
    comment = TextAreaField(
        "Comment (optional)", validators=[Length(max=2000, message="Keep the comment under 2,000 characters.")]
    )


def renumber_slots(form: InterviewForm, *, drop: int | None = None, drop_empty: bool = False) -> int:
    """Rebuild the slot rows as ``slots-0`` … ``slots-n`` without row ``drop`` (a "Remove" button)
    or without empty rows, so field names, labels and the service's ``slots-<i>-…`` refusals agree.
    At least one row stays. Returns how many rows are left."""
    entries = form.slots.entries
    kept = [
        entry
        for index, entry in enumerate(entries)
        if index != drop and not (drop_empty and _blank(entry.form.day) and _blank(entry.form.start))
    ]
    if len(kept) == len(entries):
        return len(entries)  # nothing dropped: keep the rows as typed (and their own errors)
    rows = [entry.form.data for entry in kept] or [{}]
    form.slots.entries, form.slots.last_index = [], -1
    for row in rows:
        form.slots.append_entry(row)
    return len(rows)


def _blank(field) -> bool:
    """Nothing typed in ``field`` (a date or time input left empty)."""
    return not "".join(field.raw_data or []).strip()

"""Forms of the agency workspace: they parse and check input; the services hold the rules."""

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from ...services import ServiceError
from ...services.suppression import OVERRIDE_LABEL

ZONES = sorted(available_timezones())


def choices(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_refusal(form: FlaskForm, refusal: ServiceError | None) -> str | None:
    """Put a service's refusal beside the field it names (when the form has that field); returns
    its message for the top of the form, or None when there was no refusal."""
    if refusal is None:
        return None
    if refusal.field in form:
        form[refusal.field].errors = [*form[refusal.field].errors, refusal.message]
    return refusal.message


def form_errors(form: FlaskForm, fallback: str = "") -> str:
    """Every error of a form that did not validate, as one message for the top of the form."""
    return " ".join(error for errors in form.errors.values() for error in errors) or fallback


def _int_or_none(value):
    """Select values: '' and '0' mean "none chosen"."""
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return None


class JobForm(FlaskForm):
    """A1: create or edit a job."""

    title = StringField("Title", validators=[DataRequired(message="Give the job a title."), Length(max=200)])
    company_id = SelectField(
        "Client", coerce=_int_or_none, validators=[InputRequired(message="Choose one of your clients.")]
    )
    owner_id = SelectField(
        "Owner", coerce=_int_or_none, validators=[InputRequired(message="Choose an active colleague as the owner.")]
    )
    team_ids = SelectMultipleField("Hiring team", coerce=int)
    location = StringField("Location", validators=[Optional(), Length(max=200)])
    requisition_id = StringField("Requisition id", validators=[Optional(), Length(max=80)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=20000)])
    confidential = BooleanField("Confidential (only the hiring team and admins see it)")
    status = SelectField("Status", choices=choices([("open", "Open"), ("closed", "Closed")]), default="open")
    feedback_due_working_days = IntegerField(
        "Working days the client has to decide (optional)",
        validators=[Optional(), NumberRange(1, 60, "Give between 1 and 60 working days, or leave it empty.")],
        description="Leave empty to use the agency's default.",
    )


class StageForm(FlaskForm):
    """A1: move an application to another stage."""

    stage_id = SelectField("Stage", coerce=_int_or_none, validate_choice=False)


class OutcomeForm(FlaskForm):
    """A6: close an application."""

    outcome = SelectField(
        "Outcome",
        choices=choices(
            [
                ("", "Choose…"),
                ("hired", "Hired"),
                ("rejected_by_client", "Rejected by the client"),
                ("rejected_by_agency", "Rejected by the agency"),
                ("withdrawn", "Withdrawn"),
            ]
        ),
        validate_choice=False,
    )
    reason_id = SelectField("Reason", coerce=_int_or_none, validate_choice=False)
    comment = TextAreaField("Comment", validators=[Optional(), Length(max=2000)])


class ProfileFieldForm(Form):
    """One line of the online profile (a sub-form: the outer form carries the CSRF token)."""

    label = StringField("Label", validators=[Optional(), Length(max=80)])
    value = TextAreaField("Value", validators=[Optional(), Length(max=4000)])
    hidden = BooleanField("Hide from the client")
    # "1" when the template filled the line from a contact placeholder (the service also checks the text).
    contact = HiddenField()


class ShareForm(FlaskForm):
    """A2: what to share of one candidate."""

    resume_id = SelectField("Resume file", coerce=_int_or_none, validate_choice=False)
    video_resume_id = SelectField("Video resume", coerce=_int_or_none, validate_choice=False)
    fields = FieldList(FormField(ProfileFieldForm), min_entries=0)
    blind = BooleanField("Blind share (present as a numbered candidate)")
    show_contact_details = BooleanField("Show the candidate's e-mail and phone to the client now, before any hire")
    consent_override_reason = StringField(
        "Share without recorded consent because", validators=[Optional(), Length(max=500)]
    )


class BulkForm(FlaskForm):
    """A2: share or unshare the selected candidates."""

    application_ids = SelectMultipleField("Candidates", coerce=int, validate_choice=False)
    action = HiddenField("Action")
    consent_override_reason = StringField(
        "Reason to share without recorded consent (if any)", validators=[Optional(), Length(max=500)]
    )


class SendOnlineForm(FlaskForm):
    """A2: email chosen contacts the newly shared candidates."""

    contact_ids = SelectMultipleField("Contacts", coerce=int, validate_choice=False)
    note = TextAreaField(
        "Personal note (optional)",
        validators=[Length(max=2000, message="Keep the note under 2,000 characters.")],
    )


class ReassignForm(FlaskForm):
    """A3: give a task to a colleague."""

    assignee_id = SelectField("Assign to", coerce=_int_or_none, validate_choice=False)


class TaskCommentForm(FlaskForm):
    """A3: a note on a task."""

    body = TextAreaField(
        "Comment",
        validators=[
            DataRequired(message="Write a comment first."),
            Length(max=5000, message="Keep the comment under 5,000 characters."),
        ],
    )


class ClientReplyForm(FlaskForm):
    """C6: the agency's answer in a candidate's comment thread with the client."""

    body = TextAreaField(
        "Reply to the client",
        validators=[
            DataRequired(message="Write a reply first."),
            Length(max=4000, message="Keep replies under 4,000 characters."),
        ],
    )


class SkipForm(FlaskForm):
    """A3: close a feedback task without a message, with a reason."""

    reason = StringField("Reason for skipping", validators=[Length(max=2000)])


class ChecklistForm(FlaskForm):
    """A3: tick or untick one checklist line."""

    done = BooleanField("Done")


class ConfirmForm(FlaskForm):
    """A5: confirm a proposed slot, or a suggested free window (``starts_at`` in UTC, ISO)."""

    slot_id = HiddenField()
    starts_at = HiddenField()
    location = StringField("Location", validators=[Optional(), Length(max=300)])
    meeting_link = StringField(
        "Meeting link", validators=[Optional(), URL(message="Enter a full link."), Length(max=1000)]
    )


class ProposeForm(FlaskForm):
    """A5: counter-proposal of other times, entered in the chosen zone."""

    first = DateTimeLocalField("First time", validators=[Optional()])
    second = DateTimeLocalField("Second time", validators=[Optional()])
    third = DateTimeLocalField("Third time", validators=[Optional()])
    minutes = IntegerField(
        "Duration (minutes)", default=60, validators=[InputRequired(message="Give a duration."), NumberRange(10, 480)]
    )
    timezone = SelectField("Timezone", choices=choices((z, z) for z in ZONES))
    # The place, so the client can accept a time in one tap and the interview is confirmed.
    location = StringField("Location (lets the client accept in one tap)", validators=[Optional(), Length(max=300)])
    meeting_link = StringField(
        "Meeting link (lets the client accept in one tap)",
        validators=[Optional(), URL(message="Enter a full link."), Length(max=1000)],
    )


class RescheduleForm(FlaskForm):
    """A5: move an interview to a new time, entered in the chosen zone."""

    starts_at = DateTimeLocalField("New start", validators=[InputRequired(message="Choose the new time.")])
    timezone = SelectField("Timezone", choices=choices((z, z) for z in ZONES))


class FeedbackForm(FlaskForm):
    """A8: the editable feedback message."""

    subject = StringField("Subject", validators=[DataRequired(message="Write a subject."), Length(max=300)])
    body = TextAreaField("Message", validators=[DataRequired(message="Write the message."), Length(max=20000)])


def _line(label: str, longest: int, *validators) -> StringField:
    return StringField(label, validators=[*validators, Length(max=longest, message=f"At most {longest} characters.")])


class CandidateForm(FlaskForm):
    """Issue 14: add or edit a candidate (the service checks the e-mail, zone, tags and duplicates)."""

    first_name = _line("First name", 120, DataRequired(message="Enter a first name."))
    last_name = _line("Last name", 120)
    email = EmailField("Email", validators=[Length(max=254, message="At most 254 characters.")])
    phone = _line("Phone", 40)
    headline = _line("Headline", 300)
    current_title = _line("Current title", 200)
    current_company = _line("Current company", 200)
    location = _line("Location", 200)
    timezone = SelectField("Timezone", validate_choice=False)
    tags = StringField("Tags", description="Separated by commas.")
    source = _line("Source", 100)
    job_id = HiddenField()
    # Shown once the e-mail turned out to be an erased person's (issue 16): adding them is logged.
    add_anyway = BooleanField(OVERRIDE_LABEL)


class AddToJobForm(FlaskForm):
    """Issue 14: put a candidate on an open job's pipeline."""

    job_id = SelectField("Job", coerce=_int_or_none, validate_choice=False)


class NoteForm(FlaskForm):
    """Issue 14: a note on a candidate or a job."""

    body = TextAreaField(
        "Note",
        id="note-body",  # the candidate page has other forms with a "body"
        validators=[
            DataRequired(message="Write the note first."),
            Length(max=5000, message="Keep the note to 5,000 characters or fewer."),
        ],
    )

"""Admin forms. They check shape and length; the rules (contrast, placeholders, uniqueness) live in
the services, whose refusals are shown on the field they name."""

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ...services import ServiceError
from ...services.audit_log import AuditFilters

ROLE_CHOICES = [SelectChoice("recruiter", "Recruiter"), SelectChoice("admin", "Admin")]
ACTIVE_CHOICES = [SelectChoice("1", "Active"), SelectChoice("0", "Deactivated")]


def show_refusal(form: FlaskForm, refusal: ServiceError) -> None:
    """Show a service refusal on the field it names (or above the form)."""
    field = getattr(form, refusal.field, None) if refusal.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, refusal.message]
    else:
        form.form_errors.append(refusal.message)


def form_problems(form: FlaskForm) -> str:
    """A form's validation messages as one sentence, for a row action with no field to show them on."""
    return " ".join(message for messages in form.errors.values() for message in messages)


def uploaded_file(field) -> tuple[bytes, str] | tuple[None, None]:
    """(bytes, filename) of an uploaded file, or (None, None) when none was chosen."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", None):
        return None, None
    return storage.read(), storage.filename


class BrandingForm(FlaskForm):
    """Everything the portal and its emails wear (B1)."""

    portal_title = StringField(
        "Portal title",
        validators=[Optional(), Length(max=200)],
        description="Shown on the sign-in page and in the browser tab. Leave empty to use the agency name.",
    )
    welcome_text = TextAreaField(
        "Welcome text",
        validators=[Optional(), Length(max=2000)],
        description="Shown on the client sign-in page. Markdown: **bold**, "
        "*italic*, [links](https://example.com), lists.",
    )
    primary_color = StringField(
        "Primary colour",
        validators=[InputRequired("Enter the primary colour.")],
        description="Hex, such as #1d4ed8. Buttons show white text on it.",
    )
    accent_color = StringField(
        "Accent colour",
        validators=[InputRequired("Enter the accent colour.")],
        description="Hex, such as #b45309. Badges show white text on it.",
    )
    email_sender_name = StringField("Email sender name", validators=[Optional(), Length(max=200)])
    email_footer = TextAreaField("Email footer", validators=[Optional(), Length(max=1000)])
    logo = FileField("Logo", description="PNG, JPEG or WebP, at most 2 MB. SVG is not accepted.")
    remove_logo = BooleanField("Remove the current logo")


class InviteUserForm(FlaskForm):
    """A new agency user, emailed a set-password link."""

    name = StringField("Name", validators=[InputRequired("Enter the person's name."), Length(max=200)])
    email = EmailField("Email", validators=[InputRequired("Enter an email address."), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="recruiter")


class RoleForm(FlaskForm):
    """Change one user's role."""

    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired("Choose a role.")])


class ActiveForm(FlaskForm):
    """Deactivate or reactivate a person. The wanted state is explicit, so a repeated submit
    never flips it back."""

    active = SelectField(
        "Status", choices=ACTIVE_CHOICES, validators=[InputRequired("Say whether the account should be active.")]
    )


class CompanyForm(FlaskForm):
    """A client company and its optional co-branding logo."""

    name = StringField("Company name", validators=[InputRequired("Enter the company name."), Length(max=200)])
    logo = FileField(
        "Co-branding logo",
        description="Optional. PNG, JPEG or WebP, at most 2 MB. Shown beside your logo on this client's pages.",
    )
    remove_logo = BooleanField("Remove the current logo")


class ContactForm(FlaskForm):
    """A new client contact, emailed a sign-in link."""

    name = StringField("Name", validators=[InputRequired("Enter the contact's name."), Length(max=200)])
    email = EmailField("Email", validators=[InputRequired("Enter an email address."), Length(max=254)])


class StageForm(FlaskForm):
    """Add or rename a pipeline stage."""

    name = StringField("Stage name", validators=[InputRequired("Enter the stage name."), Length(max=80)])


class MoveForm(FlaskForm):
    """Move a stage up or down (the button pressed names the direction)."""

    direction = SelectField(
        "Direction",
        choices=[SelectChoice("up", "Up"), SelectChoice("down", "Down")],
        validators=[InputRequired("Move the stage up or down.")],
    )


class ReasonForm(FlaskForm):
    """Add or change a rejection or loss reason."""

    kind = SelectField(
        "List", choices=[SelectChoice("rejection", "Rejection reason"), SelectChoice("loss", "Loss reason")]
    )
    label = StringField("Reason", validators=[InputRequired("Enter the reason."), Length(max=200)])
    ends_job_search = BooleanField("Means the candidate stopped looking for work")


class ProfileTemplateForm(FlaskForm):
    """A profile template and the candidate its preview uses."""

    name = StringField("Template name", validators=[InputRequired("Enter the template name."), Length(max=120)])
    body = TextAreaField(
        "Template",
        validators=[InputRequired("Enter the template text."), Length(max=20000)],
        description="Placeholders in braces, such as {first_name} or {current_title}.",
    )
    hidden_by_default = StringField(
        "Fields hidden by default",
        default="email,phone",
        validators=[Optional(), Length(max=400)],
        description="Comma-separated, such as email,phone.",
    )
    candidate_id = HiddenField()


class EmailTemplateForm(FlaskForm):
    """The subject and body of one built-in email."""

    subject = StringField("Subject", validators=[InputRequired("Enter the subject."), Length(max=300)])
    body = TextAreaField("Body", validators=[InputRequired("Enter the body."), Length(max=20000)])


def _day(value: str | None) -> date | None:
    """A YYYY-MM-DD day, or None when the value is not one."""
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


class AuditFilterForm(FlaskForm):
    """The audit log's filters: a GET form (no CSRF: it changes nothing) whose names are the
    documented query-string keys action, actor, from, to, candidate. Days are the viewer's."""

    class Meta:
        csrf = False

    action = SelectField("Action", validate_choice=False, validators=[Optional()])
    actor = SelectField("By", validate_choice=False, validators=[Optional()])
    date_from = StringField("From (YYYY-MM-DD)", name="from", validators=[Optional()])
    date_to = StringField("To (YYYY-MM-DD)", name="to", validators=[Optional()])
    candidate = StringField("Candidate id", validators=[Optional(), Length(max=12)])

    def load_choices(self, actions: list[tuple[str, str]], actors: list[tuple[int, str]]) -> None:
        """Only actions that exist and the agency's own users are offered (and accepted)."""
        self.action.choices = [SelectChoice("", "All actions"), *(SelectChoice(k, v) for k, v in actions)]
        self.actor.choices = [SelectChoice("", "Anyone"), *(SelectChoice(str(i), name) for i, name in actors)]

    def validate_action(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose an action from the list.")

    def validate_actor(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose someone from the list.")

    def validate_date_from(self, field) -> None:
        if _day(field.data) is None:
            raise ValidationError("Enter the first day as YYYY-MM-DD, such as 2026-03-09.")

    def validate_date_to(self, field) -> None:
        day = _day(field.data)
        if day is None:
            raise ValidationError("Enter the last day as YYYY-MM-DD, such as 2026-03-31.")
        start = _day(self.date_from.data)
        if start is not None and day < start:
            raise ValidationError("The last day cannot be before the first day.")

    def validate_candidate(self, field) -> None:
        if not field.data.isdigit() or int(field.data) < 1:
            raise ValidationError("Enter a candidate's number, such as 123.")

    def filters(self, zone_name: str | None) -> AuditFilters:
        """The validated values as the service's filters."""
        return AuditFilters(
            action=self.action.data or None,
            actor_id=int(self.actor.data) if self.actor.data else None,
            start=_day(self.date_from.data),
            end=_day(self.date_to.data),
            candidate_id=int(self.candidate.data) if self.candidate.data else None,
            zone_name=zone_name,
        )

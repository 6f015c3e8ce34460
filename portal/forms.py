"""Forms and form fields shared across blueprints."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length

from .services.timezones import MESSAGE as ZONE_MESSAGE
from .services.timezones import grouped_zone_choices

LONGEST_EMAIL = 254  # RFC 5321's limit on a forward path
LONGEST_PASSWORD = 200


class EmptyForm(FlaskForm):
    """A bare POST button: carries nothing but the CSRF token."""


# Field factories rather than a base form: each call makes a new field, so a form lists its fields
# in the order it declares them (WTForms orders by creation), whichever factories it uses.


def sign_in_email_field(label: str = "Email") -> EmailField:
    """The address a person types to sign in or to be sent a link: required and well formed."""
    return EmailField(
        label,
        validators=[
            InputRequired("Enter your email address."),
            Email("Enter a valid email address."),
            Length(max=LONGEST_EMAIL),
        ],
    )


def current_password_field(label: str = "Current password") -> PasswordField:
    """The password the person has now (checked by the service, never here)."""
    required = InputRequired("Enter your current password.")
    return PasswordField(label, validators=[required, Length(max=LONGEST_PASSWORD)])


def new_password_field() -> PasswordField:
    """A new password; the rules it must meet are the service's (``passwords.check_new_password``)."""
    return PasswordField("New password", validators=[InputRequired("Choose a password."), Length(max=LONGEST_PASSWORD)])


def repeated_password_field(label: str = "Repeat the password") -> PasswordField:
    """The new password again (the service refuses a mismatch, naming this field)."""
    return PasswordField(label, validators=[InputRequired("Repeat the password."), Length(max=LONGEST_PASSWORD)])


def zone_select_choices() -> list[SelectChoice]:
    """Every choosable zone, grouped by region (``<optgroup>``), for a timezone select."""
    return [
        SelectChoice(value, label, optgroup=region)
        for region, zones in grouped_zone_choices()
        for value, label in zones
    ]


def timezone_field(label: str = "Timezone") -> SelectField:
    """A zone picker offering real IANA zones only, grouped by region."""
    return SelectField(label, choices=zone_select_choices, validators=[InputRequired(ZONE_MESSAGE)])

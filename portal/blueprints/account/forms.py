"""Account forms: set a password from a link, change it, reset it, and the second factor."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ...forms import (
    current_password_field,
    new_password_field,
    repeated_password_field,
    sign_in_email_field,
    timezone_field,
)
from ...services.preferences import ALERT_EMAIL_CHOICES


class SetPasswordForm(FlaskForm):
    """A person chooses a password from an emailed link (an invitation or a reset)."""

    password = new_password_field()
    confirm = repeated_password_field()


class PreferencesForm(FlaskForm):
    """A staff member's zone and how alerts reach them."""

    timezone = timezone_field()
    alert_email = SelectField(
        "Alert e-mails",
        choices=[SelectChoice(value, label) for value, label in ALERT_EMAIL_CHOICES.items()],
        validators=[InputRequired("Choose how alerts reach you.")],
    )


class ChangePasswordForm(FlaskForm):
    """A signed-in staff member changes their password."""

    current = current_password_field()
    password = new_password_field()
    confirm = repeated_password_field("Repeat the new password")


class ConfirmSecondFactorForm(FlaskForm):
    """The first code from the authenticator app, proving it was set up."""

    code = StringField(
        "Code from your app", validators=[InputRequired("Enter the code from your app."), Length(max=40)]
    )


class DisableSecondFactorForm(FlaskForm):
    """Turning the second factor off takes the password and a code."""

    password = current_password_field()
    code = StringField(
        "Code from your app or a recovery code",
        validators=[InputRequired("Enter a code from your app or a recovery code."), Length(max=40)],
    )


class ForgotPasswordForm(FlaskForm):
    """A staff member asks for a password-reset link."""

    email = sign_in_email_field()

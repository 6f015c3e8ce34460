"""Account forms: set a password from a link, change it, reset it, and the second factor."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length


class SetPasswordForm(FlaskForm):
    """A new user chooses their password from the emailed link."""

    password = PasswordField("New password", validators=[InputRequired("Choose a password."), Length(max=200)])
    confirm = PasswordField("Repeat the password", validators=[InputRequired("Repeat the password."), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    """A signed-in staff member changes their password."""

    current = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password."), Length(max=200)]
    )
    password = PasswordField("New password", validators=[InputRequired("Choose a password."), Length(max=200)])
    confirm = PasswordField(
        "Repeat the new password", validators=[InputRequired("Repeat the password."), Length(max=200)]
    )


class ConfirmSecondFactorForm(FlaskForm):
    """The first code from the authenticator app, proving it was set up."""

    code = StringField(
        "Code from your app", validators=[InputRequired("Enter the code from your app."), Length(max=40)]
    )


class DisableSecondFactorForm(FlaskForm):
    """Turning the second factor off takes the password and a code."""

    password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password."), Length(max=200)]
    )
    code = StringField(
        "Code from your app or a recovery code",
        validators=[InputRequired("Enter a code from your app or a recovery code."), Length(max=40)],
    )


class ForgotPasswordForm(FlaskForm):
    """A staff member asks for a password-reset link."""

    email = EmailField(
        "Email",
        validators=[InputRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
    )

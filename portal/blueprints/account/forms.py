"""The set-password form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length


class SetPasswordForm(FlaskForm):
    """A new user chooses their password from the emailed link."""

    password = PasswordField("New password", validators=[InputRequired("Choose a password."), Length(max=200)])
    confirm = PasswordField("Repeat the password", validators=[InputRequired("Repeat the password."), Length(max=200)])

"""Sign-in forms."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ...forms import LONGEST_PASSWORD, sign_in_email_field


class StaffLoginForm(FlaskForm):
    """Email and password for agency staff."""

    email = sign_in_email_field()
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password."), Length(max=LONGEST_PASSWORD)]
    )


class ClientSignInForm(FlaskForm):
    """A client contact asks for a sign-in link."""

    email = sign_in_email_field("Work email")


class SecondFactorForm(FlaskForm):
    """The code from the authenticator app (or a recovery code) after the password."""

    code = StringField("Code", validators=[InputRequired("Enter the code from your app."), Length(max=40)])

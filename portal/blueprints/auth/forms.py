"""Sign-in forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length


class StaffLoginForm(FlaskForm):
    """Email and password for agency staff."""

    email = EmailField(
        "Email",
        validators=[InputRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
    )
    password = PasswordField("Password", validators=[InputRequired("Enter your password."), Length(max=200)])


class ClientSignInForm(FlaskForm):
    """A client contact asks for a sign-in link."""

    email = EmailField(
        "Work email",
        validators=[InputRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
    )


class SecondFactorForm(FlaskForm):
    """The code from the authenticator app (or a recovery code) after the password."""

    code = StringField("Code", validators=[InputRequired("Enter the code from your app."), Length(max=40)])

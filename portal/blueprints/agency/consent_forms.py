"""Forms for consent (A2a): record an answer the recruiter heard, or ask the candidate by e-mail."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import HiddenInput

from ...services.consent import CHANNELS
from .forms import _int_or_none, choices


class RecordConsentForm(FlaskForm):
    """The answer, for which client, how and on which day."""

    company_id = SelectField("Client", coerce=_int_or_none)
    answer = SelectField(
        "Answer",
        choices=choices([("given", "Agreed to be presented"), ("declined", "Declined")]),
        validators=[InputRequired("Choose whether the candidate agreed or declined.")],
    )
    channel = SelectField(
        "How",
        choices=choices([("", "Choose how"), *((key, label.capitalize()) for key, label in CHANNELS.items())]),
        validators=[InputRequired("Choose how the candidate answered.")],
    )
    given_on = DateField("Date", validators=[InputRequired("Give the day the candidate answered.")])
    # Set when the form is on a share page, which the browser returns to afterwards.
    application_id = IntegerField(widget=HiddenInput(), validators=[Optional()])


class AskConsentForm(FlaskForm):
    """The client the candidate is asked about."""

    company_id = SelectField("Client", coerce=_int_or_none, validators=[InputRequired("Choose one of your clients.")])
    application_id = IntegerField(widget=HiddenInput(), validators=[Optional()])


def fill_company_choices(record_form: RecordConsentForm, ask_form: AskConsentForm, companies) -> None:
    """Every client of the agency; an answer may also be for any client."""
    pairs = [(c.id, c.name) for c in companies]
    record_form.company_id.choices = choices([("", "Any client"), *pairs])
    ask_form.company_id.choices = choices([("", "Choose a client"), *pairs])

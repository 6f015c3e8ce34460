"""The contact's own settings: the timezone every time in the portal is shown in, and whether
decision reminders are e-mailed (on, snoozed until a date, off)."""

from flask import flash, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from ...forms import timezone_field
from ...htmx import redirect_for, render
from ...services import decision_reminders, preferences
from ...templating import viewer_zone
from ...unit_of_work import attempt
from . import bp


class ClientSettingsForm(FlaskForm):
    """The contact's zone."""

    timezone = timezone_field()


class ReminderSettingsForm(FlaskForm):
    """Decision reminder e-mails: on, snoozed until a date, or off."""

    reminders = RadioField(
        "Reminder e-mails",
        choices=[
            SelectChoice("on", "On"),
            SelectChoice("snoozed", "Snoozed until the date below"),
            SelectChoice("off", "Off"),
        ],
        validators=[InputRequired("Choose on, snoozed or off.")],
    )
    snoozed_until = DateField("Snooze until", validators=[Optional()])


def _page(contact, form=None, reminder_form=None, status=200):
    form = form or ClientSettingsForm(
        formdata=None, timezone=contact.timezone if contact.timezone_source else (viewer_zone() or "UTC")
    )
    reminder_form = reminder_form or ReminderSettingsForm(
        formdata=None, reminders=contact.reminders, snoozed_until=contact.reminders_snoozed_until
    )
    return render("client/settings.html", status=status, form=form, reminder_form=reminder_form, contact=contact)


@bp.route("/settings", methods=["GET", "POST"])
def settings(slug: str):
    """Show and change the contact's timezone (taken from their browser until they choose one)."""
    contact = current_user._get_current_object()
    if request.method == "GET":
        return _page(contact)
    form = ClientSettingsForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            preferences.set_contact_timezone(contact, form.timezone.data)
        if outcome.refusal is None:
            flash(f"Times are now shown in {form.timezone.data}.")
            return redirect_for(url_for("client.settings", slug=slug))
        form.timezone.errors = [*form.timezone.errors, outcome.refusal.message]
    return _page(contact, form=form, status=422)


@bp.post("/settings/reminders")
def reminder_settings(slug: str):
    """Turn decision reminder e-mails on or off, or snooze them until a date."""
    contact = current_user._get_current_object()
    form = ReminderSettingsForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            decision_reminders.set_reminder_preference(contact, form.reminders.data, form.snoozed_until.data)
        if outcome.refusal is None:
            flash("Your reminder e-mail choice is saved.")
            return redirect_for(url_for("client.settings", slug=slug))
        field = getattr(form, outcome.refusal.field or "reminders", form.reminders)
        field.errors = [*field.errors, outcome.refusal.message]
    return _page(contact, reminder_form=form, status=422)

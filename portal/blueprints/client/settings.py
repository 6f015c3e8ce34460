"""The contact's own settings: the timezone every time in the portal is shown in."""

from flask import flash, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ...forms import timezone_field
from ...htmx import redirect_for, render
from ...services import preferences
from ...templating import viewer_zone
from ...unit_of_work import attempt
from . import bp


class ClientSettingsForm(FlaskForm):
    """The contact's zone."""

    timezone = timezone_field()


@bp.route("/settings", methods=["GET", "POST"])
def settings(slug: str):
    """Show and change the contact's timezone (taken from their browser until they choose one)."""
    contact = current_user._get_current_object()
    form = (
        ClientSettingsForm(
            formdata=None, timezone=contact.timezone if contact.timezone_source else (viewer_zone() or "UTC")
        )
        if request.method == "GET"
        else ClientSettingsForm()
    )
    if request.method == "POST":
        if form.validate_on_submit():
            with attempt() as outcome:
                preferences.set_contact_timezone(contact, form.timezone.data)
            if outcome.refusal is None:
                flash(f"Times are now shown in {form.timezone.data}.")
                return redirect_for(url_for("client.settings", slug=slug))
            form.timezone.errors = [*form.timezone.errors, outcome.refusal.message]
        return render("client/settings.html", status=422, form=form, contact=contact)
    return render("client/settings.html", form=form, contact=contact)

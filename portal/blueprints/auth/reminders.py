"""The one-click unsubscribe link in a decision reminder (issue 15). The signed link is the
credential (no sign-in); a GET only asks, so a mail scanner following it changes nothing; the
button's POST turns reminders off."""

from flask import render_template

from ...forms import EmptyForm
from ...scoping import agency_or_404
from ...services import decision_reminders
from ...unit_of_work import attempt
from .views import bp


def _page(agency, contact, status: int = 200, **extra):
    return render_template(
        "auth/reminders_unsubscribe.html", brand=agency, contact=contact, form=EmptyForm(), **extra
    ), status


@bp.get("/<slug>/reminders/unsubscribe/<unsubscribe_token>")
def reminders_unsubscribe(slug: str, unsubscribe_token: str):
    """Ask the contact to confirm they want no more reminder e-mails."""
    agency = agency_or_404(slug)
    contact = decision_reminders.contact_for_unsubscribe(agency, unsubscribe_token)
    if contact is None:
        return _page(agency, None, status=404)
    return _page(agency, contact)


@bp.post("/<slug>/reminders/unsubscribe/<unsubscribe_token>")
def reminders_unsubscribe_confirm(slug: str, unsubscribe_token: str):
    """Turn the contact's reminder e-mails off."""
    agency = agency_or_404(slug)
    contact = decision_reminders.contact_for_unsubscribe(agency, unsubscribe_token)
    if contact is None:
        return _page(agency, None, status=404)
    with attempt() as outcome:
        decision_reminders.unsubscribe(contact)
    if outcome.refusal is not None:
        return _page(agency, contact, status=422, error=outcome.refusal.message)
    return _page(agency, contact, done=True)

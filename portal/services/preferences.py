"""Each person's own settings: a staff member's zone and alert e-mails, a client contact's zone.

A contact's zone starts unchosen (``timezone_source`` is null): the first time they act in the
portal, the zone their browser reports fills it (``adopt_browser_zone``); once they or the agency
chose one, the browser never overrides it.
"""

from ..models import ClientContact, User
from . import ServiceError
from .timezones import valid_zone, zone_names

# A browser reporting UTC is mostly a server, a kiosk or a privacy setting, not where someone lives;
# UTC is also what an unchosen zone reads as, so taking it would only hide the company's zone.
UNINFORMATIVE_BROWSER_ZONES = frozenset({"UTC"})
ALERT_EMAIL_CHOICES = {"immediate": "Immediately", "digest": "In a daily digest", "off": "Off (on screen only)"}


def set_staff_preferences(user: User, *, timezone: str, alert_email: str) -> User:
    """A staff member's zone (every time they see is shown in it) and how alerts reach them."""
    zone = valid_zone(timezone)
    if alert_email not in ALERT_EMAIL_CHOICES:
        raise ServiceError("Choose how alerts reach you.", field="alert_email")
    user.timezone, user.alert_email = zone.key, alert_email
    return user


def set_contact_timezone(contact: ClientContact, timezone: str, *, source: str = "contact") -> ClientContact:
    """The zone a contact chose (or the agency chose for them: ``source="staff"``)."""
    contact.timezone, contact.timezone_source = valid_zone(timezone).key, source
    return contact


def adopt_browser_zone(contact: ClientContact, reported: str | None) -> bool:
    """Take the zone the contact's browser reports while nobody has chosen one; True when taken.
    Anything but a real zone name is ignored (the browser's word is a hint, never an error)."""
    if contact.timezone_source is not None or not reported or reported not in zone_names():
        return False
    if reported in UNINFORMATIVE_BROWSER_ZONES:
        return False
    contact.timezone, contact.timezone_source = reported, "browser"
    return True


def zone_is_chosen(contact: ClientContact) -> bool:
    """Whether anyone (the contact, their browser, the agency) chose the contact's zone."""
    return contact.timezone_source is not None

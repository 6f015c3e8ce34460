"""What a client contact sees of a shared candidate (C5), decided in one place.

The client page, every partial and the recruiter's share-form preview all come from
``what_the_client_sees``, so the preview cannot promise less than the page shows. Contact details
(the candidate's e-mail addresses and phone) are governed by the typed ``show_contact_details``
flag of the share and by hire, never by a line's label: a line counts as contact when the
template put a contact placeholder in it, or when its text holds one of the candidate's contact
values (relabelled, retyped or pasted into another line).
"""

import re
from dataclasses import dataclass, field

from ..models import Application, Candidate
from .client_actions import anonymous_ids

# Template placeholders whose value is a contact detail (sharing.py fills them).
CONTACT_PLACEHOLDERS = frozenset({"email", "phone"})
# Profile lines that identify a person; a blind share leaves them out until an interview is requested.
IDENTIFYING_FIELDS = frozenset(
    {"name", "full name", "first name", "last name", "current company", "company"}
    | {"email", "phone", "linkedin", "address"}
)
# A run of digits with the usual phone punctuation, long enough to be a number rather than a year.
PHONE_RUN = re.compile(r"\+?\d[\d\s().\-/]{4,}\d")
# Phone numbers are compared on their last digits, so "+44 7700 900123" matches "07700 900123".
PHONE_TAIL = 9

WITHHELD_CONTACT = "contact details: shown once hired, or when you choose to show them"
WITHHELD_HIDDEN = "hidden by you"
WITHHELD_BLIND = "blind share: identifying, until the client asks for an interview"


# What a blind share shows in place of the candidate's name inside free text.
NAME_STAND_IN = "the candidate"


@dataclass(frozen=True)
class ProfileLine:
    """One line of the online profile, and whether (and why not) the client sees it.
    ``name_removed``: a blind share took the candidate's name out of its text."""

    label: str
    value: str
    shown: bool
    withheld_because: str | None = None
    name_removed: bool = False


@dataclass
class ClientProfile:
    """Everything the client is shown of one candidate's profile."""

    lines: list[ProfileLine] = field(default_factory=list)
    contact_visible: bool = False
    email: str | None = None
    phone: str | None = None
    anonymous: bool = False

    @property
    def shown_lines(self) -> list[ProfileLine]:
        return [line for line in self.lines if line.shown]

    @property
    def withheld_lines(self) -> list[ProfileLine]:
        return [line for line in self.lines if not line.shown]


def contact_values(candidate: Candidate) -> tuple[list[str], str | None]:
    """The candidate's e-mail addresses (lower-case) and the phone's digits (None without a phone)."""
    emails = [e.email.lower() for e in candidate.emails if e.email]
    digits = re.sub(r"\D", "", candidate.phone or "")
    return emails, (digits if len(digits) >= 5 else None)


def mentions_contact(text: str, candidate: Candidate) -> bool:
    """Whether ``text`` holds one of the candidate's e-mail addresses or their phone number."""
    return _mentions_email(text, candidate) or _mentions_phone(text, candidate)


def _mentions_email(text: str, candidate: Candidate) -> bool:
    emails, _ = contact_values(candidate)
    lowered = (text or "").lower()
    return any(email in lowered for email in emails)


def _mentions_phone(text: str, candidate: Candidate) -> bool:
    _, phone = contact_values(candidate)
    if phone is None or not text:
        return False
    tail = phone[-PHONE_TAIL:]
    return any(re.sub(r"\D", "", run.group()).endswith(tail) for run in PHONE_RUN.finditer(text))


def is_contact_line(line: dict, candidate: Candidate) -> bool:
    """A stored or submitted line holds contact details: by its typed flag or by its text."""
    return bool(line.get("contact")) or mentions_contact(str(line.get("value") or ""), candidate)


def is_hired(application: Application) -> bool:
    """Hire lifts the default hiding of contact details (C5)."""
    return application.client_status == "hired" or application.outcome == "hired"


def what_the_client_sees(
    candidate: Candidate,
    fields: list[dict],
    *,
    show_contact_details: bool,
    hired: bool,
    anonymous: bool,
) -> ClientProfile:
    """The profile as the client sees it, from the share's lines and flags (pure: no queries
    beyond the candidate's e-mail addresses), for the client page and the share-form preview."""
    contact_visible = not anonymous and (show_contact_details or hired)
    lines = []
    for item in fields:
        label = str(item.get("label") or "").strip()
        if not label:
            continue
        value = str(item.get("value") or "")
        reason = None
        if item.get("hidden"):
            reason = WITHHELD_HIDDEN
        elif is_contact_line(item, candidate) and not contact_visible:
            reason = WITHHELD_BLIND if anonymous else WITHHELD_CONTACT
        elif anonymous and label.lower() in IDENTIFYING_FIELDS:
            reason = WITHHELD_BLIND
        scrubbed = scrub_name(value, candidate) if anonymous and reason is None else value
        lines.append(ProfileLine(label, scrubbed, reason is None, reason, name_removed=scrubbed != value))
    view = ClientProfile(lines=lines, contact_visible=contact_visible, anonymous=anonymous)
    if contact_visible:
        # The record's e-mail and phone, unless a shown line already carries them.
        shown = [line.value for line in view.shown_lines]
        if candidate.primary_email and not any(_mentions_email(text, candidate) for text in shown):
            view.email = candidate.primary_email
        if candidate.phone and not any(_mentions_phone(text, candidate) for text in shown):
            view.phone = candidate.phone
    return view


def _name_pattern(candidate: Candidate) -> re.Pattern[str] | None:
    """The candidate's full, first and last name as whole words (longest first), any case, with
    a possessive "'s" taken along."""
    names = {
        " ".join(candidate.name.split()),
        *(candidate.first_name or "").split(),
        *(candidate.last_name or "").split(),
    }
    names = {name for name in names if len(name.strip(".")) >= 2}
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?:['’]s)?(?!\w)", re.IGNORECASE)


def scrub_name(text: str, candidate: Candidate) -> str:
    """``text`` with the candidate's first, last and full name replaced by "the candidate" (A2a
    blind shares: a summary that says "Mara led…" would name the person)."""
    pattern = _name_pattern(candidate)
    if pattern is None or not text:
        return text

    def stand_in(match: re.Match[str]) -> str:
        possessive = match.group(0).lower().endswith(("'s", "’s"))
        words = NAME_STAND_IN + ("'s" if possessive else "")
        before = text[: match.start()].rstrip()
        # At the start of the text or of a sentence the stand-in is capitalised.
        return words[0].upper() + words[1:] if not before or before[-1] in ".!?:\n" else words

    # Runs of the same name ("Mara Stephenson" after "Mara" matched alone) collapse into one.
    scrubbed = pattern.sub(stand_in, text)
    return re.sub(rf"(?i)\b({re.escape(NAME_STAND_IN)})(?:\s+{re.escape(NAME_STAND_IN)})+\b", r"\1", scrubbed)


def client_profile(application: Application, *, anonymous: bool) -> ClientProfile:
    """What the client sees of a stored share (``anonymous``: a blind share not yet asked for)."""
    profile = application.shared_profile
    if profile is None:
        return ClientProfile(anonymous=anonymous)
    return what_the_client_sees(
        application.candidate,
        profile.fields or [],
        show_contact_details=bool(profile.show_contact_details),
        hired=is_hired(application),
        anonymous=anonymous,
    )


def client_sees_contact_details(application: Application) -> bool:
    """Whether the candidate's e-mail and phone may reach the client now (page, mail, ``.ics``)."""
    profile = application.shared_profile
    if profile is None or application.id in anonymous_ids([application.id]):
        return False
    return bool(profile.show_contact_details) or is_hired(application)

"""Who saw what (issue 16 item 4): a client contact opening a shared candidate's profile, viewing
their resume in the browser or downloading it, recorded for the agency and read back as one line
per contact ("Clara viewed the profile · downloaded the CV (2×)").

Only who (the contact) and when are kept: no address, no browser. A staff member who opened the
portal through a contact's revealed link ("Copy link", ``contact.revealed_by``) is not the client
looking: nothing is recorded for such a session, so the agency never reads its own checks as
the client's interest (the security log already names who used the link).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import VIEW_KINDS, Application, ClientContact, ProfileView, as_utc, utcnow

# What the agency reads for each kind, in VIEW_KINDS order.
KIND_PHRASES = {
    "profile": "viewed the profile",
    "resume_view": "opened the CV",
    "resume_download": "downloaded the CV",
}
FORMER_CONTACT = "A former contact"  # the contact was removed since (contact_id SET NULL)


def record_profile_view(
    contact: ClientContact,
    application: Application,
    kind: str,
    *,
    resume_id: int | None = None,
    now: datetime | None = None,
) -> ProfileView | None:
    """Add one view of ``application`` by ``contact`` to the current transaction; None (nothing
    added) when a staff member is acting through the contact's revealed link."""
    if kind not in VIEW_KINDS:
        raise ValueError(f"unknown view kind {kind!r}")
    if contact.revealed_by is not None:
        return None
    if contact.agency_id != application.agency_id:
        raise ValueError("a contact sees only their own agency's candidates")
    view = ProfileView(
        agency_id=application.agency_id,
        application_id=application.id,
        contact_id=contact.id,
        kind=kind,
        resume_id=resume_id,
        viewed_at=now or utcnow(),
    )
    db.session.add(view)
    return view


@dataclass(frozen=True)
class ContactViews:
    """What one contact did with one shared candidate: counts by kind and the last time."""

    contact_id: int | None
    name: str
    counts: dict[str, int]
    last_at: datetime

    @property
    def phrases(self) -> list[str]:
        """``["viewed the profile", "downloaded the CV (2×)"]``: each kind seen, with its count
        when more than once."""
        return [
            KIND_PHRASES[kind] + (f" ({self.counts[kind]}×)" if self.counts[kind] > 1 else "")
            for kind in VIEW_KINDS
            if self.counts.get(kind)
        ]


def views_by_application(agency_id: int, application_ids: list[int]) -> dict[int, list[ContactViews]]:
    """The views of each of ``application_ids`` (of agency ``agency_id`` only), one entry per
    contact, the most recent first; one grouped query however many applications."""
    if not application_ids:
        return {}
    rows = db.session.execute(
        select(
            ProfileView.application_id,
            ProfileView.contact_id,
            ClientContact.name,
            ProfileView.kind,
            func.count(ProfileView.id),
            func.max(ProfileView.viewed_at),
        )
        .outerjoin(ClientContact, ClientContact.id == ProfileView.contact_id)
        .where(ProfileView.agency_id == agency_id, ProfileView.application_id.in_(application_ids))
        .group_by(ProfileView.application_id, ProfileView.contact_id, ClientContact.name, ProfileView.kind)
    ).tuples()
    gathered: dict[tuple[int, int | None], dict] = {}
    for application_id, contact_id, name, kind, count, last_at in rows:
        entry = gathered.setdefault(
            (application_id, contact_id), {"name": name or FORMER_CONTACT, "counts": {}, "last_at": as_utc(last_at)}
        )
        entry["counts"][kind] = count
        entry["last_at"] = max(entry["last_at"], as_utc(last_at))
    result: dict[int, list[ContactViews]] = {}
    for (application_id, contact_id), entry in gathered.items():
        result.setdefault(application_id, []).append(ContactViews(contact_id, **entry))
    for entries in result.values():
        entries.sort(key=lambda e: (e.last_at, e.contact_id or 0), reverse=True)
    return result

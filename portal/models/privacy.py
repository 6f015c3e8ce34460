"""Who saw what (issue 16): every client view of a candidate's profile and every resume view or
download, recorded for the agency; and the append-only audit log of staff actions that touch
personal data."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, agency_fk, created_at, utcnow

VIEW_KINDS = ("profile", "resume_view", "resume_download")


class ProfileView(Model):
    """A client contact opened a candidate's profile, or viewed / downloaded their resume.
    Nothing about the request beyond who and when is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("client_contact.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    resume_id: Mapped[int | None] = mapped_column(ForeignKey("resume.id", ondelete="SET NULL"))
    viewed_at: Mapped[datetime] = created_at()

    __table_args__ = (
        CheckConstraint("kind IN ('profile', 'resume_view', 'resume_download')", name="kind"),
        Index("ix_profile_view_application", "application_id", "viewed_at"),
        Index("ix_profile_view_agency", "agency_id", "viewed_at"),  # the scoreboard's period
    )


AUDIT_ACTIONS = (
    "candidate_exported",
    "candidate_erased",
    "candidate_anonymised",  # by the retention policy
    "suppression_overridden",
    "import_run",
    "role_changed",
    "retention_changed",
)


class AuditEntry(Model):
    """One staff action that touched personal data: who (``actor_user_id``), what (``action``),
    about whom (``candidate_id``).

    Rows are only ever added (``portal.services.audit``); PostgreSQL refuses UPDATE and DELETE
    with a trigger. Ids are plain integers, not foreign keys: the record outlives what it names
    (an erased person keeps their placeholder id). ``detail`` holds counts and ids, never a name,
    an address or free text about the person, so an erasure leaves nothing here to find.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    action: Mapped[str] = mapped_column(String(40))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)  # None: the worker or the CLI
    candidate_id: Mapped[int | None] = mapped_column(Integer)
    subject_user_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (
        CheckConstraint(
            "action IN ('candidate_exported', 'candidate_erased', 'candidate_anonymised', 'suppression_overridden',"
            " 'import_run', 'role_changed', 'retention_changed')",
            name="action",
        ),
        Index("ix_audit_entry_agency", "agency_id", "at"),
    )


class SuppressedEmail(Model):
    """An address of an erased person, as a keyed hash (HMAC-SHA256 of the lower-cased address
    under a key derived from SECRET_KEY; ``portal.services.suppression``), never the address: a
    later "New candidate" or import bringing it back is warned and needs an explicit override."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    email_hash: Mapped[str] = mapped_column(String(64))
    created_at = created_at()

    __table_args__ = (UniqueConstraint("agency_id", "email_hash"),)

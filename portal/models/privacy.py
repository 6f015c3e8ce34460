"""Who saw what (issue 16): every client view of a candidate's profile and every resume view or
download, recorded for the agency."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, agency_fk, created_at

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
    )

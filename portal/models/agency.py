"""The tenant (agency) and its configuration: branding, stages, reasons, templates."""

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Model, agency_fk, created_at

if TYPE_CHECKING:
    # people.py imports this module, so the name is only for the checker.
    from .people import ClientContact


class Agency(Model):
    """A recruitment agency: the tenant. Branding lives on the row (one read per request, cached)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    portal_title: Mapped[str | None] = mapped_column(String(200))
    welcome_text: Mapped[str | None] = mapped_column(Text)
    primary_color: Mapped[str] = mapped_column(String(7), default="#1d4ed8")
    accent_color: Mapped[str] = mapped_column(String(7), default="#b45309")
    logo_png: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)
    logo_content_type: Mapped[str | None] = mapped_column(String(40))
    email_sender_name: Mapped[str | None] = mapped_column(String(200))
    email_footer: Mapped[str | None] = mapped_column(Text)
    # Bumped on every branding save so cached CSS and pages pick the change up at once.
    branding_version: Mapped[int] = mapped_column(Integer, default=1)
    landing_link_days: Mapped[int] = mapped_column(Integer, default=14)
    # Issue 15: a share's "please decide by" is this many working days after it (a job may
    # override it); the job owner is asked to chase the client this many working days after that.
    feedback_due_working_days: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    feedback_chase_grace_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # No-ghosting: a candidate who reached the client is told where they stand within this many
    # days of their last interview, or of the client's decision.
    inform_days_after_interview: Mapped[int] = mapped_column(Integer, default=45, server_default="45")
    inform_days_after_decision: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Issue 16: retention. Off until an admin switches it on (after reading the dry run).
    retention_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    retention_months: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    retention_answer_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    created_at = created_at()

    __table_args__ = (
        CheckConstraint("slug <> ''", name="slug_not_empty"),
        CheckConstraint("landing_link_days BETWEEN 1 AND 90", name="landing_days_range"),
        CheckConstraint("feedback_due_working_days BETWEEN 1 AND 60", name="feedback_due_range"),
        CheckConstraint("feedback_chase_grace_days BETWEEN 0 AND 30", name="chase_grace_range"),
        CheckConstraint("inform_days_after_interview BETWEEN 1 AND 365", name="inform_interview_range"),
        CheckConstraint("inform_days_after_decision BETWEEN 1 AND 90", name="inform_decision_range"),
        CheckConstraint("retention_months BETWEEN 1 AND 240", name="retention_months_range"),
        CheckConstraint("retention_answer_days BETWEEN 1 AND 365", name="retention_answer_range"),
    )

    stages: Mapped[list["StageDefinition"]] = relationship(back_populates="agency", order_by="StageDefinition.position")

    @property
    def title(self) -> str:
        """What the portal calls itself: the configured title or the agency name."""
        return self.portal_title or self.name


class StageDefinition(Model):
    """One step of the agency's pipeline; ``position`` orders them (A6)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    agency: Mapped[Agency] = relationship(back_populates="stages")

    __table_args__ = (UniqueConstraint("agency_id", "name"),)


class Reason(Model):
    """A rejection or loss reason from the agency's configurable list."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Reasons that mean the person stopped looking (A6: "already found a job").
    ends_job_search: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("agency_id", "kind", "label"),
        CheckConstraint("kind IN ('rejection', 'loss')", name="kind"),
    )


class ProfileTemplate(Model):
    """The agency's online-profile template with ``{placeholders}`` (A2)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    hidden_by_default: Mapped[str] = mapped_column(String(400), default="email,phone")

    __table_args__ = (UniqueConstraint("agency_id", "name"),)


class EmailTemplate(Model):
    """An agency override of one built-in email (subject and body with placeholders)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    key: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("agency_id", "key"),)


class ClientCompany(Model):
    """A client of the agency; its contacts see only its jobs."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    name: Mapped[str] = mapped_column(String(200))
    logo_png: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)
    created_at = created_at()

    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    contacts: Mapped[list["ClientContact"]] = relationship(back_populates="company")

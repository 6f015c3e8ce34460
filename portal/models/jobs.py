"""Jobs (requisitions) of client companies and their hiring teams."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .agency import ClientCompany
from .base import Model, UTCDateTime, agency_fk, created_at
from .people import User

job_team = Table(
    "job_team",
    db.metadata,
    Column("job_id", ForeignKey("job.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Job(Model):
    """A vacancy the agency works on for a client company."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    company_id: Mapped[int] = mapped_column(ForeignKey("client_company.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    requisition_id: Mapped[str | None] = mapped_column(String(80))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # The agency's feedback_due_working_days for this job's shares, when it differs (issue 15).
    feedback_due_working_days: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = created_at()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    company: Mapped[ClientCompany] = relationship()
    owner: Mapped[User] = relationship()
    hiring_team: Mapped[list[User]] = relationship(secondary=job_team)

    __table_args__ = (
        UniqueConstraint("agency_id", "external_id"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("feedback_due_working_days BETWEEN 1 AND 60", name="feedback_due_range"),
    )

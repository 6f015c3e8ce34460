"""What the agency expects of clients and owes candidates (issue 15): decision deadlines, the
agency's working-day calendar, the candidate survey, and the keyed marks that make every
scheduled reminder, task and escalation happen once however many workers run."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, agency_fk, created_at


class AgencyHoliday(Model):
    """A day the agency does not count as a working day (weekends never count)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120), default="")

    __table_args__ = (UniqueConstraint("agency_id", "day"),)


class SurveyAnswer(Model):
    """A candidate's answer to "How were you treated?" on one application: one per application
    (the database refuses a second). Reported per agency, recruiter and client, never shown to the
    client one by one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = created_at()

    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        Index("ix_survey_answer_answered", "agency_id", "answered_at"),  # the scoreboard's period
    )


class ScheduledMark(Model):
    """One thing a scheduled pass did, by key ("reminder:contact:7:2026-12-01", "chase:share:42"):
    a pass inserts the mark in the same unit of work as what it does, so two workers, or a pass run
    twice, do it once (``portal.services.scheduled.once``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    key: Mapped[str] = mapped_column(String(160))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("agency_id", "key"),)

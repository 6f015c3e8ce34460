"""A candidate on a job: pipeline position, what was shared, and what the client did."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .agency import Reason, StageDefinition
from .base import Model, UTCDateTime, agency_fk, created_at, utcnow
from .jobs import Job
from .people import Candidate

OUTCOMES = ("hired", "rejected_by_client", "rejected_by_agency", "withdrawn")
CLIENT_STATUSES = (
    "awaiting_review",
    "interview_requested",
    "interview_scheduled",
    "hire_requested",
    "hired",
    "rejected_by_client",
    "closed",
)
VERDICTS = ("strong_yes", "yes", "no", "strong_no")
INTERVIEW_FORMATS = ("video", "phone", "onsite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Application(Model):
    """Candidate × job. ``outcome`` is null while the application is active."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage_definition.id"))
    external_id: Mapped[str | None] = mapped_column(String(120))
    client_status: Mapped[str] = mapped_column(String(30), default="awaiting_review")
    outcome: Mapped[str | None] = mapped_column(String(30))
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("reason.id", ondelete="SET NULL"))
    outcome_comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))
    applied_at: Mapped[datetime] = created_at()
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # No-ghosting (issue 15): when the candidate must have been told where they stand (set once
    # the application reached the client, moved by interviews and decisions) and when they were.
    inform_by_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    candidate_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    candidate: Mapped[Candidate] = relationship()
    job: Mapped[Job] = relationship()
    stage: Mapped[StageDefinition] = relationship()
    reason: Mapped[Reason | None] = relationship()
    shared_profile: Mapped["SharedProfile | None"] = relationship(back_populates="application", uselist=False)

    __table_args__ = (
        UniqueConstraint("job_id", "candidate_id"),
        UniqueConstraint("agency_id", "external_id"),
        CheckConstraint(_in("client_status", CLIENT_STATUSES), name="client_status"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
        # Degraded search's per-candidate aggregate reads only this index (portal/services/search_database.py).
        Index("ix_application_search", "agency_id", "candidate_id", "outcome", "job_id", "last_activity_at"),
    )

    @property
    def is_active(self) -> bool:
        return self.outcome is None


class StageHistory(Model):
    """Every stage move, so "reached stage X" survives later moves back."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage_definition.id"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stage_definition.id"))
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    moved_at = created_at()
    # How long the application stayed in ``to_stage_id``: whole seconds to the application's next
    # move, None while it is still there. Kept by portal/services/scoreboard_facts.py when a move
    # is recorded, so the scoreboard reads stays from one index instead of ordering every move.
    seconds_in_stage: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_stage_history_reached", "application_id", "to_stage_id"),  # degraded search
        # The scoreboard's stays in a period: covering, so no row of the table is read.
        Index("ix_stage_history_stay", "agency_id", "moved_at", "to_stage_id", "seconds_in_stage", "application_id"),
    )


class SharedProfile(Model):
    """What a client sees of a candidate on one job. ``unshared_at`` set = hidden from the portal."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    resume_id: Mapped[int | None] = mapped_column(ForeignKey("resume.id", ondelete="SET NULL"))
    video_resume_id: Mapped[int | None] = mapped_column(ForeignKey("video_resume.id", ondelete="SET NULL"))
    # Ordered lines prepared from the profile template: {"label", "value", "hidden", "contact"}.
    # ``hidden``: the recruiter hid the line; ``contact``: it holds the candidate's e-mail or phone
    # (a contact placeholder, or a contact value typed in). portal/services/client_profile.py
    # decides from these flags, never from a line's label, what the client sees.
    fields: Mapped[list] = mapped_column(JSON, default=list)
    # C5: the candidate's e-mail and phone (contact lines included) reach the client only once
    # hired, unless the recruiter chose to show them earlier on the share form.
    show_contact_details: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_override_reason: Mapped[str | None] = mapped_column(Text)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    shared_at = created_at()
    unshared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "Please decide by" (issue 15): the end of the due working day, in UTC; None for shares made
    # before deadlines existed.
    feedback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The client's first answer to this share (a rating, comment, interview or hire request, or a
    # rejection) at or after ``shared_at``; None until then. Kept by
    # portal/services/scoreboard_facts.py, for the scoreboard's "time to first feedback".
    first_feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[Application] = relationship(back_populates="shared_profile")

    __table_args__ = (
        # The scoreboard's shares in a period, with what its figures read of each.
        Index("ix_shared_profile_shared", "agency_id", "shared_at", "application_id", "first_feedback_at"),
        # Live shares by application: the jobs list's count of shared candidates per job reads
        # this index only (100,000 applications on SQLite: 280 ms to 60 ms).
        Index(
            "ix_shared_profile_live",
            "application_id",
            sqlite_where=text("unshared_at IS NULL"),
            postgresql_where=text("unshared_at IS NULL"),
        ),
    )


class Rating(Model):
    """One contact's 1–5 stars on one application (one row per pair: C6, C10)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("client_contact.id", ondelete="CASCADE"))
    stars: Mapped[int] = mapped_column(Integer)
    updated_at = created_at()

    __table_args__ = (
        UniqueConstraint("application_id", "contact_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
    )


class Comment(Model):
    """A message on a candidate's thread, by a client contact or an agency user."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("client_contact.id", ondelete="SET NULL"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at = created_at()

    __table_args__ = (
        CheckConstraint("NOT (author_contact_id IS NOT NULL AND author_user_id IS NOT NULL)", name="one_author"),
    )

    author_contact = relationship("ClientContact", lazy="joined")
    author_user = relationship("User", lazy="joined")

    @property
    def author_name(self) -> str:
        """Who wrote it, as shown in the thread."""
        author = self.author_contact or self.author_user
        return author.name if author else "Former user"


class Scorecard(Model):
    """An interviewer's verdict on an application (feeds the S3 positive-ratio filter)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    verdict: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    submitted_at = created_at()

    __table_args__ = (
        CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
        Index("ix_scorecard_verdict", "application_id", "verdict"),  # degraded search's scorecard filters
    )


class InterviewRequest(Model):
    """A client's request to interview, with proposed slots. One open request per application."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("client_contact.id", ondelete="SET NULL"))
    format: Mapped[str] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at = created_at()

    proposed_slots: Mapped[list["ProposedSlot"]] = relationship(
        cascade="all, delete-orphan", order_by="ProposedSlot.starts_at"
    )

    __table_args__ = (
        CheckConstraint(_in("format", INTERVIEW_FORMATS), name="format"),
        CheckConstraint("status IN ('open', 'scheduled', 'cancelled')", name="status"),
        Index(
            "uq_interview_request_open",
            "application_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )


class ProposedSlot(Model):
    """A proposed interview time, stored in UTC beside the proposer's IANA zone."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("interview_request.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    proposed_by: Mapped[str] = mapped_column(String(10), default="client")
    # Where an agency-proposed time would be held, so the client can accept it in one tap and
    # the interview is confirmed with its place; when the client accepted it (the candidate's
    # scheduling link offers only client-proposed or client-accepted times).
    location: Mapped[str | None] = mapped_column(String(300))
    meeting_link: Mapped[str | None] = mapped_column(String(1000))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("proposed_by IN ('client', 'agency')", name="proposed_by"),
    )


class Interview(Model):
    """A confirmed interview. An owner can hold only one scheduled interview per start time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("interview_request.id", ondelete="SET NULL"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(10))
    location: Mapped[str | None] = mapped_column(String(300))
    meeting_link: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    ics_uid: Mapped[str] = mapped_column(String(120), unique=True)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at = created_at()

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status"),
        CheckConstraint(_in("format", INTERVIEW_FORMATS), name="format"),
        Index(
            "uq_interview_owner_slot",
            "owner_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status = 'scheduled'"),
            postgresql_where=text("status = 'scheduled'"),
        ),
    )

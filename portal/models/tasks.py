"""What the agency has to do (tasks), what it is told (alerts), and what happened (activity)."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, agency_fk, created_at

# chase_feedback: a client left a share past its "please decide by" (issue 15); inform_candidate:
# a candidate's "informed by" date is near (no-ghosting, issue 15).
TASK_TYPES = ("organise_interview", "process_offer", "send_feedback", "follow_up", "chase_feedback", "inform_candidate")


class Task(Model):
    """A to-do for a recruiter. ``dedupe_key`` makes generated tasks idempotent (C10)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    type: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    interview_request_id: Mapped[int | None] = mapped_column(ForeignKey("interview_request.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="open")
    skip_reason: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at = created_at()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    checklist: Mapped[list["TaskChecklistItem"]] = relationship(
        cascade="all, delete-orphan", order_by="TaskChecklistItem.position"
    )

    __table_args__ = (
        UniqueConstraint("agency_id", "dedupe_key"),
        CheckConstraint(
            "type IN ('organise_interview', 'process_offer', 'send_feedback', 'follow_up', 'chase_feedback',"
            " 'inform_candidate')",
            name="type",
        ),
        CheckConstraint("status IN ('open', 'done', 'skipped', 'retracted')", name="status"),
    )


class TaskChecklistItem(Model):
    """One line of a task's checklist."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TaskComment(Model):
    """A note on a task by an agency user."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at = created_at()


class Alert(Model):
    """An on-screen notice for a user; also emailed at once or in a digest (A4)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(500))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at = created_at()
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The queued email for this alert, so an Undo inside the grace period can withdraw it.
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_alert_unread", "user_id", "read_at"),
    )


class Activity(Model):
    """A timeline entry (A7): who did what, when, about which job / candidate."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_contact_id: Mapped[int | None] = mapped_column(ForeignKey("client_contact.id", ondelete="SET NULL"))
    verb: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    # Whether client contacts of the job may see this entry on their job page.
    client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = created_at()

    __table_args__ = (
        Index("ix_activity_job", "agency_id", "job_id", "created_at"),
        Index("ix_activity_candidate", "agency_id", "candidate_id", "created_at"),
        # The scoreboard's client actions per application (first feedback, hire requests).
        Index("ix_activity_application", "application_id", "verb", "created_at"),
    )

    actor_user = relationship("User")
    actor_contact = relationship("ClientContact")

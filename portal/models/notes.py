"""Notes the agency keeps on a candidate or a job: who wrote what, and when."""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, agency_fk, created_at


class Note(Model):
    """A recruiter's note on exactly one candidate or one job (never seen by clients)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at = created_at()

    author = relationship("User")

    __table_args__ = (
        CheckConstraint("(candidate_id IS NULL) <> (job_id IS NULL)", name="one_subject"),
        Index("ix_note_candidate", "agency_id", "candidate_id", "created_at"),
        Index("ix_note_job", "agency_id", "job_id", "created_at"),
    )

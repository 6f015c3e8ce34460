"""Transactional outboxes drained by the worker, single-use sign-in tokens and ended sessions."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, agency_fk, created_at, utcnow


class MailOutbox(Model):
    """A message waiting to be (or already) sent. Failed rows stay, visible to admins (M1).

    ``status``: ``pending`` (due at ``next_attempt_at``), ``sending`` (claimed by a worker, which
    is talking to the SMTP server; ``lease_until`` is when another worker may take it over because
    this one must have died), ``sent`` or ``failed`` (given up, waiting for an admin's retry).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    sender: Mapped[str] = mapped_column(String(400))
    # Where a reply goes when not to the sender (a candidate's reply reaches the job owner).
    reply_to: Mapped[str | None] = mapped_column(String(400))
    recipients: Mapped[list] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # [{"filename", "content_type", "content"}] with text content (e.g. an .ics invitation).
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )


class SearchOutbox(Model):
    """A change that affects search documents: the worker rebuilds the named entity's documents."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    parked: Mapped[bool] = mapped_column(default=False)
    created_at = created_at()

    __table_args__ = (
        CheckConstraint("entity IN ('candidate', 'job')", name="entity"),
        Index("ix_search_outbox_due", "parked", "next_attempt_at"),
    )


class LoginToken(Model):
    """An emailed link's server-side record: expiry, single use, revocation (C1, C2)."""

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    contact_id: Mapped[int] = mapped_column(ForeignKey("client_contact.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The staff member a "Copy link" showed this link to (None: emailed to the contact). A session
    # opened with it acts for the contact on that staff member's behalf (``portal.sessions``).
    revealed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at = created_at()

    __table_args__ = (CheckConstraint("kind IN ('sign_in', 'landing')", name="kind"),)


class EndedSession(Model):
    """A signed-in session that was signed out: its cookie (and every copy of it) is refused.

    Sessions live in the signed cookie; each carries a random id (``portal.sessions``). Logging
    out records that id here until the session could not be valid anyway (its absolute limit),
    when the row may be pruned.
    """

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CandidateSearchFacts(Model):
    """Per-candidate facts the degraded (database) search filters and sorts by, kept in the same
    transaction as every change by ``search_sync.facts`` (hooked where the search outbox rows are
    written), so a search reads one row per candidate instead of aggregating its applications.

    Scope as in ``search_sync.documents``: the aggregates over the public applications when there
    are any, else over all. ``sort_key`` is the document's ``last_in_process_at`` (unix seconds),
    -1 when there is none, so "newest first, then candidate id" is one index order.
    """

    __tablename__ = "candidate_search_facts"

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    listed: Mapped[bool]  # neither private nor hired: the only candidates search shows
    public: Mapped[bool]  # a public application, or none at all (the "public" visibility token)
    has_public: Mapped[bool]  # a public application (the scope is the public applications)
    has_active: Mapped[bool]
    sort_key: Mapped[int] = mapped_column(BigInteger)
    max_stage: Mapped[int | None] = mapped_column(Integer)
    positive_ratio: Mapped[float | None] = mapped_column(Float)
    has_strong_no: Mapped[bool]
    # The word search's flags (narrow here: a search reads them for every candidate of the agency).
    pdf_only: Mapped[bool]  # the newest resume has no stored text (its document reads the PDF)
    # Every word character of the searchable text is ASCII (``search_sync.documents.plain_words``):
    # there the word indexes find exactly the document's words; None when not listed
    plain_words: Mapped[bool | None]
    # JSON list of "<facet>\x1f<value>", one per value the document counts in (``documents.Stored``);
    # None when the candidate is not listed
    facet_values: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # ``public`` and the word flags last: the visibility check of a recruiter's search and the
        # word search's choice of index or LIKE read the index only (migration e8b3d5a1c7f2).
        Index(
            "ix_candidate_search_facts_default",
            "agency_id",
            "listed",
            "has_active",
            sort_key.desc(),
            "candidate_id",
            "public",
            "plain_words",
            "pdf_only",
        ),
        Index(
            "ix_candidate_search_facts_all",
            "agency_id",
            "listed",
            sort_key.desc(),
            "candidate_id",
            "public",
            "plain_words",
            "pdf_only",
        ),
    )


class CandidateSearchText(Model):
    """The searchable text of a candidate's document in one column (names, headline, title, company,
    skills, tags, emails, the newest resume's first 10,000 characters), kept with the facts by
    ``search_sync.facts``, with the stored form of the document (``search_sync.documents.Stored``,
    None when the candidate is not listed) so the degraded search reads its page instead of
    building it.

    On SQLite an FTS5 index (``candidate_search_fts``, external content, kept by triggers) finds
    the words of ``text``; on PostgreSQL a GIN index over ``words``, a generated tsvector of its
    ASCII words (``search_sync.facts.WORDS_VECTOR``, migration ``7d2e4b9c1a53``); neither is mapped."""

    __tablename__ = "candidate_search_text"

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    document: Mapped[str | None] = mapped_column(Text)
    document_bytes: Mapped[int | None] = mapped_column(Integer)

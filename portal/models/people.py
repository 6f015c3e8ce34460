"""Principals (staff users, client contacts) and candidates with their files and consent."""

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .agency import Agency, ClientCompany
from .base import Model, UTCDateTime, agency_fk, created_at

ROLES = ("admin", "recruiter")


class Principal(UserMixin):
    """What staff users and client contacts share as ``current_user``.

    The session id embeds ``session_version`` so that deactivation, logout-everywhere and
    password changes end existing sessions on their next request.
    """

    kind: str = ""
    is_staff = False
    is_contact = False
    is_admin = False
    # Not a column: set by the user loader for a contact whose session began with a link a staff
    # member revealed ("Copy link"); what the contact does in it is recorded as done by that person.
    revealed_by: "User | None" = None

    def get_id(self) -> str:
        return f"{self.kind}:{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return bool(self.active)


class User(Principal, Model):
    """A person of the agency: admin or recruiter."""

    kind = "u"
    is_staff = True

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    # Unique across agencies: staff sign in at one /login and their email picks the tenant.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20), default="recruiter")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    alert_email: Mapped[str] = mapped_column(String(20), default="immediate")
    # Second factor (TOTP, RFC 6238): the base32 secret, asked for at sign-in once confirmed with a
    # code; the last time step accepted, so one code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at = created_at()

    agency: Mapped[Agency] = relationship()

    __table_args__ = (
        CheckConstraint("role IN ('admin', 'recruiter')", name="role"),
        CheckConstraint("alert_email IN ('immediate', 'digest', 'off')", name="alert_email"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    @property
    def is_admin(self) -> bool:  # type: ignore[override]
        return self.role == "admin"

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash (Werkzeug's default) of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches; always False for users without one."""
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)


class ClientContact(Principal, Model):
    """A hiring manager or HR person at a client company; signs in by emailed link only."""

    kind = "c"
    is_contact = True

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    company_id: Mapped[int] = mapped_column(ForeignKey("client_company.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Who chose ``timezone``: none (the default, so the browser's zone may fill it in the first time
    # the contact acts), "browser" (filled in so), "contact" (chosen on their settings page) or "staff".
    timezone_source: Mapped[str | None] = mapped_column(String(10))
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Decision reminders (issue 15): "on", "snoozed" (none before ``reminders_snoozed_until``, a
    # date in the contact's zone) or "off" (unsubscribed).
    reminders: Mapped[str] = mapped_column(String(8), default="on", server_default="on")
    reminders_snoozed_until: Mapped[date | None] = mapped_column(Date)
    created_at = created_at()

    agency: Mapped[Agency] = relationship()
    company: Mapped[ClientCompany] = relationship(back_populates="contacts")

    __table_args__ = (
        UniqueConstraint("agency_id", "email"),
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint("timezone_source IN ('browser', 'contact', 'staff')", name="timezone_source"),
        CheckConstraint("reminders IN ('on', 'snoozed', 'off')", name="reminders"),
        CheckConstraint("reminders <> 'snoozed' OR reminders_snoozed_until IS NOT NULL", name="reminders_snooze_date"),
    )


class Candidate(Model):
    """A person the agency may present; one per human per agency (emails de-duplicated)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    external_id: Mapped[str | None] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    headline: Mapped[str | None] = mapped_column(String(300))
    current_title: Mapped[str | None] = mapped_column(String(200))
    current_company: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text)
    skills: Mapped[str | None] = mapped_column(Text)
    notice_period: Mapped[str | None] = mapped_column(String(100))
    salary_expectation: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(100))
    looking_for_work: Mapped[bool] = mapped_column(Boolean, default=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    added_via: Mapped[str] = mapped_column(String(20), default="user")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at = created_at()
    # Issue 16: set when the person's data was erased (the row stays as a placeholder, private, so
    # job counts stay true and search never shows it); when the retention policy last asked them
    # whether to keep their details, and when they last answered "keep" (that resets their clock).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retention_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retention_kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    emails: Mapped[list["CandidateEmail"]] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", order_by="CandidateEmail.id"
    )
    tags: Mapped[list["CandidateTag"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("agency_id", "external_id"),
        CheckConstraint("added_via IN ('user', 'import')", name="added_via"),
    )

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def primary_email(self) -> str | None:
        return self.emails[0].email if self.emails else None


class CandidateEmail(Model):
    """An address of a candidate. Unique per agency, stored lower-case: the de-duplication key."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    candidate: Mapped[Candidate] = relationship(back_populates="emails")

    __table_args__ = (
        UniqueConstraint("agency_id", "email"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )


class CandidateTag(Model):
    """A free-form tag on a candidate."""

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(80), primary_key=True)


CONSENT_STATUSES = ("requested", "given", "declined")
CONSENT_CHANNELS = ("email", "phone", "in_person", "written", "link")


class ConsentRecord(Model):
    """The candidate's answer to being presented (to one client, or to any when company is null).

    One row per answer a recruiter recorded, or per request e-mailed to the candidate ("Ask the
    candidate"): such a row is ``requested`` until the candidate answers through the link, and the
    link may change the answer until it expires. ``given_at`` is when the answer was given (none
    while requested), ``channel`` how, ``recorded_by`` the staff member who recorded or asked.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("client_company.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="given", server_default="given")
    channel: Mapped[str | None] = mapped_column(String(20))
    given_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    company: Mapped[ClientCompany | None] = relationship()
    recorded_by: Mapped["User | None"] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('requested', 'given', 'declined')", name="status"),
        CheckConstraint("channel IN ('email', 'phone', 'in_person', 'written', 'link')", name="channel"),
        CheckConstraint("status = 'requested' OR given_at IS NOT NULL", name="answered_at"),
    )


class Resume(Model):
    """A resume file, kept in the database so it is never reachable by a static URL."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    content: Mapped[bytes] = mapped_column(db.LargeBinary, deferred=True)
    text: Mapped[str | None] = mapped_column(Text, deferred=True)
    uploaded_at = created_at()

    __table_args__ = (Index("ix_resume_newest", "candidate_id", "id"),)  # degraded search: the newest resume


class VideoResume(Model):
    """A link to a candidate's video introduction."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    created_at = created_at()

"""The append-only security log (issue 12, SPEC P4): authentication and account events."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, utcnow

SECURITY_EVENT_KINDS = (
    "staff_sign_in",
    "staff_sign_in_failed",
    "client_sign_in_requested",
    "client_link_issued",
    "client_link_revealed",
    "client_link_redeemed",
    "client_link_refused",
    "logout",
    "password_set",
    "password_changed",
    "role_changed",
    "user_deactivated",
    "contact_deactivated",
    "second_factor_on",
    "second_factor_off",
    "recovery_code_used",
    "rate_limited",
    "session_idle_timeout",
    "session_absolute_timeout",
)


class SecurityEvent(Model):
    """One authentication or account event: who (``actor``), about whom (``subject``), from where.

    Rows are only ever added (``portal.services.security_log``); PostgreSQL refuses UPDATE and
    DELETE with a trigger. The principal columns are plain ids, not foreign keys: the record must
    outlive what it is about, and a cascade would be an update. ``detail`` holds a few typed facts
    (a link's kind and job, a short non-reversible reference to the link), never a token or password.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null for an event that names no agency (a failed staff sign-in for an unknown address).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(40))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_contact_id: Mapped[int | None] = mapped_column(Integer)
    subject_user_id: Mapped[int | None] = mapped_column(Integer)
    subject_contact_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_security_event_agency", "agency_id", "at"),)

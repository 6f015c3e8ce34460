"""Sign-in bookkeeping: queued client sign-in and staff password-reset requests, per-account password
back-off, and staff recovery codes."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, agency_fk, created_at


class SignInRequest(Model):
    """A client's "email me a sign-in link", queued as typed (C1).

    The web request only stores this row, whether or not the address is known, so its work and
    answer are the same either way; the worker decides whether a contact gets a link.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    email: Mapped[str] = mapped_column(String(254))
    created_at = created_at()


class LoginThrottle(Model):
    """Failed staff password attempts for one address (known or not) and when the next may come.

    Keyed by a SHA-256 of the normalised address, so unknown addresses are throttled exactly like
    known ones and the table holds no plain addresses.
    """

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_allowed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PasswordResetRequest(Model):
    """A staff "Forgot your password?", queued as typed.

    Like :class:`SignInRequest`: the web request stores this row whatever the address, and the
    worker decides whether an active user gets a reset link, so the answer and the work of the
    request say nothing about which addresses have accounts.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at = created_at()


class RecoveryCode(Model):
    """One single-use recovery code of a staff member's second factor, stored as a hash.

    The codes are random (50 bits each), so a keyed SHA-256 is enough; a slow password hash would
    make checking one code against ten take seconds.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

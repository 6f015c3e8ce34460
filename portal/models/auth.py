"""Sign-in bookkeeping: queued client sign-in requests and per-account password back-off."""

from datetime import datetime

from sqlalchemy import Integer, String
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

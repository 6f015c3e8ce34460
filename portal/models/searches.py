"""A recruiter's saved searches (issue 14 item 6): a named query string of ``/search``, re-run
from a list on the search page."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, agency_fk, created_at


class SavedSearch(Model):
    """One user's named search. ``query`` is the query string the search page bookmarks (the
    filters are checked again each time it runs, so a saved search can never widen access)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = agency_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The lower-cased name: "Python London" and "python london" are the same name to a person.
    name_key: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(2000))
    created_at = created_at()

    __table_args__ = (UniqueConstraint("user_id", "name_key"),)

"""Saved searches (issue 14 item 6): a recruiter names the search on screen and re-runs it from a
list. Each one belongs to its user in their agency; nobody else sees, runs or deletes it.

What is stored is the query string ``/search`` bookmarks, kept to the keys the search form
knows; running it goes through the same form checks as a typed URL, so a saved search can never
show more than its owner may see now (a job they left, a tag that is gone: refused in place).
"""

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SavedSearch, User
from . import ServiceError
from .validation import clean_text

# The query-string keys of /search a saved search keeps; the page number is not one of them.
SEARCH_KEYS = (
    "q",
    "job",
    "job_title",
    "tag",
    "reason",
    "stage",
    "min_positive",
    "exclude_strong_no",
    "last_before",
    "last_after",
    "location",
    "source",
    "include_active",
    "sort",
)
MAX_PER_USER = 100
MAX_QUERY = 2000


def search_query(pairs: list[tuple[str, str]]) -> str:
    """The query string worth keeping from ``pairs`` (the search page's arguments): known keys
    only, empty values and the default sort dropped, in the page's order."""
    kept = [
        (key, value)
        for key, value in pairs
        if key in SEARCH_KEYS and value.strip() and not (key == "sort" and value == "relevance")
    ]
    return urlencode(sorted(kept, key=lambda pair: SEARCH_KEYS.index(pair[0])))


def saved_searches(user: User) -> list[SavedSearch]:
    """The user's saved searches, by name."""
    return list(
        db.session.scalars(
            select(SavedSearch)
            .where(SavedSearch.user_id == user.id, SavedSearch.agency_id == user.agency_id)
            .order_by(SavedSearch.name_key, SavedSearch.id)
        )
    )


def get_saved_search(user: User, saved_id: int) -> SavedSearch | None:
    """One of the user's own saved searches, or None (someone else's is not there for them)."""
    return db.session.scalar(
        select(SavedSearch).where(
            SavedSearch.id == saved_id, SavedSearch.user_id == user.id, SavedSearch.agency_id == user.agency_id
        )
    )


def save_search(user: User, name: str, pairs: list[tuple[str, str]]) -> SavedSearch:
    """Save the search of ``pairs`` under ``name`` for ``user``. A name is required and unique
    per user whatever its case; saving the very same search again under a new name is allowed
    (two names for one list can be what a person wants)."""
    name = clean_text(
        name,
        field="name",
        max_length=80,
        empty="Give the search a name.",
        too_long="Keep the name under 80 characters.",
    )
    name = " ".join(name.split())
    key = name.casefold()
    query = search_query(pairs)
    if not query:
        raise ServiceError("Search for something or choose a filter before saving.", field="name")
    if len(query) > MAX_QUERY:
        raise ServiceError("This search is too long to save; use fewer filters.", field="name")
    if db.session.scalar(select(SavedSearch.id).where(SavedSearch.user_id == user.id, SavedSearch.name_key == key)):
        raise ServiceError(f"You already have a saved search called “{name}”. Choose another name.", field="name")
    count = db.session.scalar(select(db.func.count()).select_from(SavedSearch).where(SavedSearch.user_id == user.id))
    if (count or 0) >= MAX_PER_USER:
        raise ServiceError(f"You can keep up to {MAX_PER_USER} saved searches; delete one first.", field="name")
    saved = SavedSearch(agency_id=user.agency_id, user_id=user.id, name=name, name_key=key, query=query)
    try:
        with db.session.begin_nested():  # the unique constraint is the last guard (a double submit)
            db.session.add(saved)
    except IntegrityError:
        raise ServiceError(
            f"You already have a saved search called “{name}”. Choose another name.", field="name"
        ) from None
    return saved


def delete_saved_search(user: User, saved_id: int) -> SavedSearch:
    """Delete one of the user's saved searches."""
    saved = get_saved_search(user, saved_id)
    if saved is None:
        raise ServiceError("That saved search no longer exists.")
    db.session.delete(saved)
    return saved


def query_pairs(saved: SavedSearch) -> list[tuple[str, str]]:
    """The saved query string as (key, value) pairs, repeated keys kept."""
    return parse_qsl(saved.query, keep_blank_values=False)

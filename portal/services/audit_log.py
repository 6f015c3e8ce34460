"""Reading the audit log (issue 16): an admin's filtered, paginated view of their agency's entries
and the same rows as CSV. Entries are written only by ``portal.services.audit``."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from ..extensions import db
from ..models import AuditEntry, Candidate, User
from .interviews import format_in_zone, zone

PAGE_SIZE = 50

ACTION_LABELS = {
    "candidate_exported": "Exported everything held about a candidate",
    "candidate_erased": "Erased a candidate",
    "candidate_anonymised": "Anonymised by the retention policy",
    "suppression_overridden": "Brought back an erased person (override)",
    "import_run": "Imported a file",
    "role_changed": "Changed a user's role",
    "retention_changed": "Changed the retention policy",
}

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ["When", "Zone", "Action", "By", "Candidate", "User", "Details"]


@dataclass(frozen=True)
class AuditFilters:
    """What the admin asked for; ``start`` and ``end`` are days in ``zone_name`` (both included)."""

    action: str | None = None
    actor_id: int | None = None
    start: date | None = None
    end: date | None = None
    candidate_id: int | None = None
    zone_name: str | None = None


@dataclass
class AuditPage:
    """One page of entries, newest first, with the names and links they need."""

    entries: list[AuditEntry]
    page: int
    pages: int
    total: int
    users: dict[int, str]
    existing_candidates: set[int]


def actor_choices(agency_id: int) -> list[tuple[int, str]]:
    """Every user of the agency, deactivated ones too (they may have acted before)."""
    rows = db.session.execute(
        select(User.id, User.name).where(User.agency_id == agency_id).order_by(User.name, User.id)
    )
    return [(user_id, name) for user_id, name in rows.tuples()]


def _query(agency_id: int, filters: AuditFilters) -> Select:
    query = select(AuditEntry).where(AuditEntry.agency_id == agency_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.actor_id:
        query = query.where(AuditEntry.actor_user_id == filters.actor_id)
    if filters.candidate_id:
        query = query.where(AuditEntry.candidate_id == filters.candidate_id)
    if filters.start:
        query = query.where(AuditEntry.at >= _start_of(filters.start, filters.zone_name))
    if filters.end:
        query = query.where(AuditEntry.at < _start_of(filters.end + timedelta(days=1), filters.zone_name))
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _start_of(day: date, zone_name: str | None) -> datetime:
    """The UTC instant a local day begins in ``zone_name`` (a DST gap shifts it, never skips it)."""
    return datetime.combine(day, time(), tzinfo=zone(zone_name)).astimezone(zone("UTC"))


def audit_page(agency_id: int, filters: AuditFilters, *, page: int = 1) -> AuditPage:
    """The agency's entries matching ``filters``, page ``page`` of :data:`PAGE_SIZE`."""
    query = _query(agency_id, filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    users, existing = _names(agency_id, entries)
    return AuditPage(entries, page, pages, total, users, existing)


def _names(agency_id: int, entries: list[AuditEntry]) -> tuple[dict[int, str], set[int]]:
    """The agency's users the entries name, and which of their candidates still exist (ids are
    plain columns, not foreign keys: only the agency's own are named or linked)."""
    user_ids = {i for e in entries for i in (e.actor_user_id, e.subject_user_id) if i}
    candidate_ids = {e.candidate_id for e in entries if e.candidate_id}
    users: dict[int, str] = {}
    existing: set[int] = set()
    if user_ids:
        named = select(User.id, User.name).where(User.id.in_(user_ids), User.agency_id == agency_id)
        users = dict(db.session.execute(named).tuples().all())
    if candidate_ids:
        kept = select(Candidate.id).where(Candidate.id.in_(candidate_ids), Candidate.agency_id == agency_id)
        existing = set(db.session.scalars(kept))
    return users, existing


def detail_text(entry: AuditEntry) -> str:
    """``created: 2; rows: 3``: the entry's counts and ids, in a stable order."""
    return "; ".join(f"{key.replace('_', ' ')}: {value}" for key, value in sorted(entry.detail.items()))


def audit_csv(agency_id: int, filters: AuditFilters) -> str:
    """Every entry matching ``filters`` as CSV (times in ``filters.zone_name``), no cell of which
    a spreadsheet would run as a formula."""
    entries = list(db.session.scalars(_query(agency_id, filters)))
    users, _ = _names(agency_id, entries)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for e in entries:
        writer.writerow(
            neutralise(
                [
                    format_in_zone(e.at, filters.zone_name),
                    zone(filters.zone_name).key,
                    ACTION_LABELS.get(e.action, e.action),
                    _person(users, e.actor_user_id, none="System"),
                    f"Candidate #{e.candidate_id}" if e.candidate_id else "",
                    _person(users, e.subject_user_id),
                    detail_text(e),
                ]
            )
        )
    return out.getvalue()


def _person(users: dict[int, str], user_id: int | None, none: str = "") -> str:
    if not user_id:
        return none
    return users.get(user_id, f"User #{user_id}")


def neutralise(cells: Iterable[str]) -> list[str]:
    """Cells as a spreadsheet may open them: one starting like a formula gets a leading ``'``."""
    return [f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell for cell in cells]

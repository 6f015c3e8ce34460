"""The search outbox: rows written in the same transaction as a change to a candidate or job."""
import logging

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SearchOutbox

log = logging.getLogger(__name__)


def enqueue(agency_id: int, entity: str, entity_id: int) -> SearchOutbox:
    """Note in the current transaction that ``entity`` needs its search documents rebuilt."""
    row = SearchOutbox(agency_id=agency_id, entity=entity, entity_id=entity_id)
    db.session.add(row)
    return row


def backlog() -> int:
    """How many outbox rows wait (parked rows excluded)."""
    return db.session.scalar(select(func.count()).select_from(SearchOutbox).where(SearchOutbox.parked.is_(False)))

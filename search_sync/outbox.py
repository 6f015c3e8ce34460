"""The search outbox: rows written in the same transaction as a change to a candidate or job.

``init_app`` registers a session listener, so every service that changes something a search
document shows gets its outbox row for free: after each flush (ids assigned, still inside the
transaction) the affected candidates and jobs are inserted into ``search_outbox`` on the same
connection. Rows are de-duplicated per transaction; the worker de-duplicates again.
"""

import logging

from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import (
    Application,
    Candidate,
    CandidateEmail,
    CandidateTag,
    Job,
    Resume,
    Scorecard,
    SearchOutbox,
    StageHistory,
)

log = logging.getLogger(__name__)

_QUEUED = "search_outbox_queued"
# Job columns a document shows or depends on; other job edits need no reindex.
JOB_FIELDS = ("title", "confidential", "hiring_team")


def init_app(app) -> None:
    """Listen to every session of the app's SQLAlchemy instance (registered once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _forget)
        event.listen(Session, "after_soft_rollback", _forget_on_rollback)


def enqueue(agency_id: int, entity: str, entity_id: int) -> SearchOutbox:
    """Note in the current transaction that ``entity`` needs its search documents rebuilt."""
    row = SearchOutbox(agency_id=agency_id, entity=entity, entity_id=entity_id)
    db.session.add(row)
    return row


def backlog() -> int:
    """How many outbox rows wait (parked rows excluded)."""
    return db.session.execute(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.parked.is_(False))
    ).scalar_one()


def parked() -> int:
    """How many rows were parked because their document could not be indexed."""
    return db.session.execute(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.parked.is_(True))
    ).scalar_one()


def parked_rows() -> list[SearchOutbox]:
    """The parked rows, oldest first, with the reason each document was refused."""
    return list(db.session.scalars(select(SearchOutbox).where(SearchOutbox.parked.is_(True)).order_by(SearchOutbox.id)))


def _forget(session, *_args) -> None:
    session.info.pop(_QUEUED, None)


def _forget_on_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_QUEUED, None)


def _after_flush(session: Session, _flush_context) -> None:
    """Insert outbox rows for what this flush changed, on the flush's own connection."""
    candidates: set[tuple[int | None, int]] = set()  # agency may be unknown (tags): looked up below
    jobs: set[tuple[int, int]] = set()
    application_refs: set[int] = set()
    for obj, deleted in _touched(session):
        if isinstance(obj, SearchOutbox):
            continue
        if isinstance(obj, Candidate):
            candidates.add((obj.agency_id, obj.id))
        elif isinstance(obj, (CandidateEmail, Application, Resume)):
            for candidate_id in _values(obj, "candidate_id"):
                candidates.add((obj.agency_id, candidate_id))
        elif isinstance(obj, CandidateTag):
            candidates.add((None, obj.candidate_id))
        elif isinstance(obj, (StageHistory, Scorecard)):
            application_refs.add(obj.application_id)
        elif isinstance(obj, Job) and not deleted and obj in session.dirty and _job_changed(obj):
            jobs.add((obj.agency_id, obj.id))
    if not (candidates or jobs or application_refs):
        return
    connection = session.connection()
    if application_refs:
        candidates |= set(
            connection.execute(
                select(Application.agency_id, Application.candidate_id).where(Application.id.in_(application_refs))
            )
            .tuples()
            .all()
        )
    unknown_agency = {cid for agency_id, cid in candidates if agency_id is None}
    if unknown_agency:
        found = dict(
            connection.execute(select(Candidate.id, Candidate.agency_id).where(Candidate.id.in_(unknown_agency)))
            .tuples()
            .all()
        )
        candidates = {(agency_id or found.get(cid), cid) for agency_id, cid in candidates}
    queued = session.info.setdefault(_QUEUED, set())
    rows = []
    for entity, keys in (("candidate", candidates), ("job", jobs)):
        for agency_id, entity_id in keys:
            key = (entity, agency_id, entity_id)
            if agency_id is None or entity_id is None or key in queued:
                continue  # a tag of a candidate deleted in the same flush: the candidate row covers it
            queued.add(key)
            rows.append({"agency_id": agency_id, "entity": entity, "entity_id": entity_id})
    if rows:
        connection.execute(insert(SearchOutbox), rows)


def _touched(session: Session):
    for obj in session.new:
        yield obj, False
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=isinstance(obj, Job)):
            yield obj, False
    for obj in session.deleted:
        yield obj, True


def _values(obj, attribute: str) -> set[int]:
    """The attribute's current value and, when it changed in this flush, the previous one."""
    history = inspect(obj).attrs[attribute].history
    return {value for value in (*history.unchanged, *history.added, *history.deleted) if value is not None} or (
        {getattr(obj, attribute)} - {None}
    )


def _job_changed(job: Job) -> bool:
    state = inspect(job)
    return any(state.attrs[name].history.has_changes() for name in JOB_FIELDS)

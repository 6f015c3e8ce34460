"""The search outbox: rows written in the same transaction as a change to a candidate or job.

``init_app`` registers two session listeners, one mechanism for every API that changes what a
search document shows:

- after each ORM flush (ids assigned, still inside the transaction) the candidates and jobs the
  flushed objects belong to;
- before each ``update()`` / ``delete()`` statement the session executes (ORM-enabled or plain
  Core, e.g. the compare-and-set of ``application_status.move``) the candidates and jobs of the
  rows its WHERE clause selects, read (and on PostgreSQL locked) on the statement's own
  connection just before it runs: a compare-and-set that matches nothing enqueues nothing.

Either way the rows are inserted into ``search_outbox`` on the same connection, de-duplicated
per transaction (the worker de-duplicates again), and the same candidates' degraded-search facts
(``search_sync.facts``) are recomputed there, after the change (a statement is run first).
Enqueueing too much is harmless (the worker rebuilds from the database), missing a change is not.
Not covered: raw SQL text and ``insert()`` statements of tracked tables (the services use neither;
use the ORM).

Stage and reason changes (rename, reorder, delete) change the stage names, ordinals and reason
labels that documents show, so they enqueue every job with an application that refers to them.
"""

import logging
from collections.abc import Iterable

from sqlalchemy import Table, event, func, insert, inspect, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session

from portal.extensions import db
from portal.models import (
    Application,
    Candidate,
    CandidateEmail,
    CandidateTag,
    Job,
    Reason,
    Resume,
    Scorecard,
    SearchOutbox,
    StageDefinition,
    StageHistory,
)
from search_sync import facts

log = logging.getLogger(__name__)

_QUEUED = "search_outbox_queued"
# Job columns a document shows or depends on; other job edits need no reindex.
JOB_FIELDS = ("title", "confidential", "hiring_team")
# Stage and reason columns a document shows (stage name and ordinal, reason label).
STAGE_FIELDS = ("name", "position")
REASON_FIELDS = ("label",)

# Tables whose rows belong to a candidate through a ``candidate_id`` column.
_BY_CANDIDATE = {model.__tablename__ for model in (Application, CandidateEmail, Resume)}
_BY_APPLICATION = {model.__tablename__ for model in (StageHistory, Scorecard)}
# Every table a statement can change a document through.
TRACKED_TABLES = frozenset(
    {
        *_BY_CANDIDATE,
        *_BY_APPLICATION,
        Candidate.__tablename__,
        CandidateTag.__tablename__,
        Job.__tablename__,
        StageDefinition.__tablename__,
        Reason.__tablename__,
    }
)

Keys = tuple[set[tuple[int | None, int]], set[tuple[int, int]]]  # (agency, candidate), (agency, job)


def init_app(app) -> None:
    """Listen to every session of the app's SQLAlchemy instance (registered once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_statement)
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


def _forget_on_rollback(session, _previous_transaction) -> None:
    # A rolled-back savepoint takes its outbox rows with it: forget what was queued (queueing a
    # key twice is harmless, believing a rolled-back row exists is not).
    session.info.pop(_QUEUED, None)


# --- ORM flushes -------------------------------------------------------------------------


def _after_flush(session: Session, _flush_context) -> None:
    """Insert outbox rows for what this flush changed, on the flush's own connection."""
    candidates: set[tuple[int | None, int]] = set()  # agency may be unknown (tags): looked up below
    jobs: set[tuple[int, int]] = set()
    application_refs: set[int] = set()
    stage_refs: set[int] = set()
    reason_refs: set[int] = set()
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
            application_refs |= _values(obj, "application_id")
        elif isinstance(obj, Job) and not deleted and obj in session.dirty and _changed(obj, JOB_FIELDS):
            jobs.add((obj.agency_id, obj.id))
        elif isinstance(obj, StageDefinition) and (deleted or _changed(obj, STAGE_FIELDS)) and obj.id is not None:
            stage_refs.add(obj.id)
        elif isinstance(obj, Reason) and (deleted or _changed(obj, REASON_FIELDS)) and obj.id is not None:
            reason_refs.add(obj.id)
    if not (candidates or jobs or application_refs or stage_refs or reason_refs):
        return
    connection = session.connection()
    if application_refs:
        candidates |= _application_candidates(connection, Application.id.in_(application_refs))
    if stage_refs:
        jobs |= _stage_jobs(connection, stage_refs)
    if reason_refs:
        jobs |= _reason_jobs(connection, reason_refs)
    _insert(session, connection, candidates, jobs)
    _refresh_facts(connection, candidates, jobs)


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


def _changed(obj, names: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


# --- update() / delete() statements ------------------------------------------------------


def _before_statement(state: ORMExecuteState):
    """For an UPDATE or DELETE of a tracked table: enqueue the keys of the rows its WHERE clause
    selects now; for an UPDATE that may move a row to another candidate, also the keys after."""
    if not (state.is_update or state.is_delete):
        return None
    statement = state.statement
    table = getattr(statement, "table", None)
    if not isinstance(table, Table) or table.name not in TRACKED_TABLES:
        return None
    session = state.session
    connection = session.connection()
    where = _where(statement, table, state.parameters)
    candidates, jobs = _keys_for(connection, table, where)
    moved_ids: list[int] = []
    if (
        state.is_update
        and table.name in _BY_CANDIDATE | _BY_APPLICATION
        and _sets_any(statement, state.parameters, ("candidate_id", "application_id", "agency_id"))
    ):
        moved_ids = list(connection.execute(select(table.c.id).where(where)).scalars())  # locked just above
    _insert(session, connection, candidates, jobs)
    if not (candidates or jobs or moved_ids):
        return None
    # Run the statement now: the candidates' search facts are recomputed from its result.
    result = state.invoke_statement()
    if moved_ids:
        after, _ = _keys_for(connection, table, table.c.id.in_(moved_ids))
        _insert(session, connection, after, set())
        candidates |= after
    _refresh_facts(connection, candidates, jobs)
    return result


def _where(statement, table: Table, parameters):
    """The statement's WHERE clause; for an ORM bulk UPDATE by primary key, those keys; with
    neither, the whole table (a statement without WHERE changes every row)."""
    if statement.whereclause is not None:
        return statement.whereclause
    rows = parameters if isinstance(parameters, list) else []
    if rows and "id" in table.c and all("id" in row for row in rows):
        return table.c.id.in_([row["id"] for row in rows])
    return true()


def _sets_any(statement, parameters, names: tuple[str, ...]) -> bool:
    """Whether the UPDATE may set one of ``names`` (unknown means yes)."""
    values = getattr(statement, "_values", None)
    if values is None and not parameters:
        return True
    keys = {getattr(key, "key", key) for key in (values or {})}
    for row in parameters if isinstance(parameters, list) else [parameters or {}]:
        keys |= set(row)
    return bool(keys & set(names))


def _keys_for(connection: Connection, table: Table, where) -> Keys:
    """(agency, candidate) and (agency, job) keys of the rows of ``table`` that ``where`` selects.

    On PostgreSQL the rows are read ``FOR UPDATE``: a row another transaction is changing is read
    once that transaction ends, re-checked against ``where`` exactly as the UPDATE or DELETE that
    follows will re-check it, and stays locked until this transaction ends; so the keys read are
    the keys of the rows the statement changes. (SQLite's writers are serialised by the unit of
    work's ``BEGIN IMMEDIATE``.)
    """
    lock = connection.dialect.name == "postgresql"

    def rows(*columns):
        query = select(*columns).where(where)
        return connection.execute(query.with_for_update() if lock else query).tuples().all()

    candidates: set[tuple[int | None, int]] = set()
    jobs: set[tuple[int, int]] = set()
    name = table.name
    if name == Candidate.__tablename__:
        candidates |= set(rows(table.c.agency_id, table.c.id))
    elif name in _BY_CANDIDATE:
        candidates |= set(rows(table.c.agency_id, table.c.candidate_id))
    elif name == CandidateTag.__tablename__:
        candidates |= {(None, cid) for (cid,) in rows(table.c.candidate_id)}
    elif name in _BY_APPLICATION:
        application_ids = {app_id for (app_id,) in rows(table.c.application_id)}
        if application_ids:
            candidates |= _application_candidates(connection, Application.id.in_(application_ids))
    elif name == Job.__tablename__:
        jobs |= set(rows(table.c.agency_id, table.c.id))
    elif name == StageDefinition.__tablename__:
        jobs |= _stage_jobs(connection, {stage_id for (stage_id,) in rows(table.c.id)})
    elif name == Reason.__tablename__:
        jobs |= _reason_jobs(connection, {reason_id for (reason_id,) in rows(table.c.id)})
    return candidates, jobs


# --- shared ------------------------------------------------------------------------------


def _pairs(connection: Connection, query) -> set:
    return set(connection.execute(query).tuples().all())


def _application_candidates(connection: Connection, criterion) -> set[tuple[int | None, int]]:
    return _pairs(connection, select(Application.agency_id, Application.candidate_id).where(criterion))


def _stage_jobs(connection: Connection, stage_ids: set[int]) -> set[tuple[int, int]]:
    """Jobs with an application in, or ever moved to, one of these stages."""
    if not stage_ids:
        return set()
    through_history = select(StageHistory.application_id).where(StageHistory.to_stage_id.in_(stage_ids))
    return _pairs(
        connection,
        select(Application.agency_id, Application.job_id)
        .where(or_(Application.stage_id.in_(stage_ids), Application.id.in_(through_history.scalar_subquery())))
        .distinct(),
    )


def _reason_jobs(connection: Connection, reason_ids: set[int]) -> set[tuple[int, int]]:
    if not reason_ids:
        return set()
    return _pairs(
        connection,
        select(Application.agency_id, Application.job_id).where(Application.reason_id.in_(reason_ids)).distinct(),
    )


def _refresh_facts(connection: Connection, candidates: set[tuple[int | None, int]], jobs: set[tuple[int, int]]) -> None:
    """Recompute the search facts of these candidates and of the jobs' candidates (``search_sync.facts``)."""
    ids = {cid for _, cid in candidates if cid is not None}
    if jobs:
        ids |= facts.job_candidates(connection, {job_id for _, job_id in jobs})
    if ids:
        facts.refresh(connection, ids)


def _insert(
    session: Session, connection: Connection, candidates: set[tuple[int | None, int]], jobs: set[tuple[int, int]]
) -> None:
    """Insert the outbox rows not yet queued in this transaction, on ``connection``."""
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

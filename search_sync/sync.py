"""Drain the search outbox into Meilisearch: batch, de-duplicate, rebuild, wait, retry, park."""

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, exists, select, update

from portal.extensions import db
from portal.models import Application, SearchOutbox, utcnow
from portal.unit_of_work import unit_of_work

from . import documents
from .indexer import SearchUnavailable, call, client, ensure_index, index_exists, push
from .settings import index_name, staging_name

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_BACKOFF_SECONDS = 300
UNAVAILABLE = "Meilisearch unavailable"
# While rows wait out an outage's backoff, ask Meilisearch at most this often whether it is back.
PROBE_SECONDS = 5.0
_MEMORY_TURN = threading.Lock()


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff from ``SEARCH_BACKOFF_SECONDS`` (1 s), capped at five minutes (reset as
    soon as Meilisearch answers again: see ``sync_search``)."""
    base = float(current_app.config.get("SEARCH_BACKOFF_SECONDS", 1))
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def claim_batch(limit: int) -> list[SearchOutbox]:
    """Due, unparked rows in order; on PostgreSQL locked so parallel workers take different ones."""
    query = (
        select(SearchOutbox)
        .where(SearchOutbox.parked.is_(False), SearchOutbox.next_attempt_at <= utcnow())
        .order_by(SearchOutbox.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def expand(rows: list[SearchOutbox]) -> dict[tuple[int, int], list[SearchOutbox]]:
    """(agency, candidate) -> the rows asking for it; a job row asks for all its candidates."""
    wanted: dict[tuple[int, int], list[SearchOutbox]] = {}
    job_rows = [row for row in rows if row.entity == "job"]
    for row in rows:
        if row.entity == "candidate":
            wanted.setdefault((row.agency_id, row.entity_id), []).append(row)
    if job_rows:
        by_job = {(row.agency_id, row.entity_id): row for row in job_rows}
        for agency_id, job_id, candidate_id in db.session.execute(
            select(Application.agency_id, Application.job_id, Application.candidate_id).where(
                Application.job_id.in_([job_id for _, job_id in by_job])
            )
        ):
            if (agency_id, job_id) in by_job:
                wanted.setdefault((agency_id, candidate_id), []).append(by_job[(agency_id, job_id)])
    return wanted


def sync_search(batch_size: int = BATCH_SIZE) -> dict:
    """One batch from the outbox into the live index.

    The claimed rows stay locked while Meilisearch is called and the outcome (rows handled,
    documents parked) is committed once. When Meilisearch is unreachable that unit of work rolls
    back and the rows are put back with backoff in another. When Meilisearch answers again (a
    batch goes through, or a health probe while rows wait out their backoff) the rows backed off
    for unavailability are due at once, so the backlog of an outage drains without waiting out
    its backoff. Returns counts: ``indexed``, ``deleted``, ``parked``, ``failed`` (rows put
    back), ``resumed`` (backed-off rows made due) and ``paused`` (True while a full reindex
    runs: its replay picks the rows up afterwards).
    """
    result = {"rows": 0, "indexed": 0, "deleted": 0, "parked": 0, "failed": 0, "resumed": 0, "paused": False}
    if db.engine.dialect.name == "sqlite":
        return _sync_search_sqlite(batch_size, result)
    claimed: list[int] = []
    try:
        with unit_of_work():
            rows = claim_batch(batch_size)
            claimed = [row.id for row in rows]
            result["rows"] = len(rows)
            if rows:
                result.update(_index(rows))
                if not result["paused"]:
                    result["resumed"] = _resume_backed_off()
        if not rows and _probe_due() and _backed_off_waiting():
            call(client().health)  # SearchUnavailable while it is still down
            with unit_of_work():
                resumed = _resume_backed_off()
            if resumed:
                return {**sync_search(batch_size), "resumed": resumed}
    except SearchUnavailable as exc:
        if claimed:
            _put_back(claimed, f"{UNAVAILABLE}: {exc}")
        result["failed"] = len(claimed)
    return result


def _sync_search_sqlite(batch_size: int, result: dict) -> dict:
    """``sync_search`` on SQLite, where a unit of work holds the database's only write lock: held
    across a Meilisearch call (up to its timeout when Meilisearch hangs) it would keep every client
    write waiting. So the rows are read and their documents built in a read transaction, Meilisearch
    is called with no transaction open, and the outcome is written in a short unit of work. Workers
    take turns through a lock file beside the database, so two of them never send the same person
    out of order."""
    resumed = 0
    with _sqlite_sync_turn() as mine:
        if not mine:
            return result  # another worker is syncing: it takes these rows
        claimed: list[int] = []
        try:
            try:
                rows = claim_batch(batch_size)
                claimed = [row.id for row in rows]
                result["rows"] = len(rows)
                meili = client() if rows else None
                paused = meili is not None and index_exists(meili, staging_name())
                batch = _prepare(rows) if rows and not paused else None
            finally:
                db.session.rollback()  # end the read: nothing is held while Meilisearch works
            if paused:
                result["paused"] = True
            elif meili is not None and batch is not None:
                ensure_index(meili, index_name())
                bad = _send(meili, batch)
                with unit_of_work():
                    result.update(_record(batch, bad))
                    result["resumed"] = _resume_backed_off()
            elif _probe_due() and _backed_off_waiting():
                call(client().health)  # SearchUnavailable while it is still down
                with unit_of_work():
                    resumed = _resume_backed_off()
        except SearchUnavailable as exc:
            if claimed:
                _put_back(claimed, f"{UNAVAILABLE}: {exc}")
            result["failed"] = len(claimed)
    if resumed:
        return {**sync_search(batch_size), "resumed": resumed}
    return result


@contextmanager
def _sqlite_sync_turn() -> Iterator[bool]:
    """This process's turn at syncing (True), or False while another worker has it: an exclusive
    ``flock`` on ``<database>.search-sync.lock``, released by the kernel if the worker dies. An
    in-memory database belongs to one process: a process-wide lock serves."""
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        if not _MEMORY_TURN.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            _MEMORY_TURN.release()
        return
    with open(f"{path}.search-sync.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _probe_due() -> bool:
    """At most one health probe per ``SEARCH_PROBE_SECONDS`` (a hung Meilisearch costs its timeout)."""
    every = float(current_app.config.get("SEARCH_PROBE_SECONDS", PROBE_SECONDS))
    state = current_app.extensions.setdefault("search_sync", {})
    now = time.monotonic()
    if now - state.get("last_probe", float("-inf")) < every:
        return False
    state["last_probe"] = now
    return True


def _unavailable_backed_off():
    return (
        SearchOutbox.parked.is_(False),
        SearchOutbox.next_attempt_at > utcnow(),
        SearchOutbox.last_error.startswith(UNAVAILABLE),
    )


def _backed_off_waiting() -> bool:
    """Whether rows wait out a backoff because Meilisearch was unavailable (parked rows aside)."""
    with unit_of_work():
        return bool(db.session.scalar(select(exists().where(*_unavailable_backed_off()))))


def _resume_backed_off() -> int:
    """Meilisearch answered: rows backed off because it was unavailable are due now, their
    backoff starts over. Parked rows (refused documents) stay parked. Returns how many (in the
    caller's unit of work)."""
    resumed = db.session.execute(
        update(SearchOutbox)
        .where(*_unavailable_backed_off())
        .values(next_attempt_at=utcnow(), attempts=0)
        .execution_options(synchronize_session=False)
    )
    count = getattr(resumed, "rowcount", 0) or 0
    if count:
        log.info("search sync: Meilisearch answers again; %d backed-off row(s) due now", count)
    return count


@dataclass
class _Batch:
    """What one batch sends, captured from the database so it outlives the read transaction:
    the claimed rows' ids, which rows ask for each person (and which of them are the person's own
    candidate rows), and the rebuilt documents."""

    row_ids: set[int]
    wanted: dict[tuple[int, int], list[int]]
    own: dict[tuple[int, int], int]
    built: documents.Built


def _prepare(rows: list[SearchOutbox]) -> _Batch:
    """Rebuild the documents the rows ask for (reads only)."""
    wanted = expand(rows)
    own = {}
    for key, key_rows in wanted.items():
        candidate_rows = [row.id for row in key_rows if row.entity == "candidate"]
        if candidate_rows:
            own[key] = candidate_rows[0]
    return _Batch(
        row_ids={row.id for row in rows},
        wanted={key: [row.id for row in key_rows] for key, key_rows in wanted.items()},
        own=own,
        built=documents.build(set(wanted)),
    )


def _send(meili, batch: _Batch) -> dict[str, str]:
    """Upsert and delete the batch's documents; returns {document id: reason} for the refused ones
    (invalid or refused by Meilisearch), whose old documents are removed while they are parked."""
    built = batch.built
    refused = push(meili, index_name(), built.documents, built.deletions)
    bad = {**built.invalid, **refused}
    if bad:
        # The old document may show what the person no longer wants shown: remove it while parked.
        push(meili, index_name(), [], sorted(bad))
    return bad


def _record(batch: _Batch, bad: dict[str, str]) -> dict:
    """In the caller's unit of work: park the refused documents' rows and delete the handled ones
    (by id: a row written for the same person meanwhile is a new row and stays for the next batch)."""
    handled = set(batch.row_ids)
    parked_keys = set()
    for key in batch.wanted:
        reason = bad.get(documents.document_id(*key))
        if reason is None:
            continue
        own_id = batch.own.get(key)
        row = db.session.get(SearchOutbox, own_id) if own_id is not None else None
        if row is not None:
            row.parked, row.last_error = True, reason[:2000]
            handled.discard(row.id)
        else:
            db.session.add(
                SearchOutbox(
                    agency_id=key[0], entity="candidate", entity_id=key[1], parked=True, last_error=reason[:2000]
                )
            )
        parked_keys.add(key)
    db.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(handled)))
    built = batch.built
    indexed = sum(1 for document in built.documents if str(document["id"]) not in bad)
    return {"indexed": indexed, "deleted": len(built.deletions), "parked": len(parked_keys)}


def _index(rows: list[SearchOutbox]) -> dict:
    """Rebuild the rows' documents, send them, park the refused ones and delete the handled rows.

    Changes nothing while a reindex's staging index exists; ``SearchUnavailable`` leaves the
    rows to the caller.
    """
    meili = client()
    if index_exists(meili, staging_name()):
        return {"paused": True}
    ensure_index(meili, index_name())
    batch = _prepare(rows)
    return _record(batch, _send(meili, batch))


def drain(batch_size: int = BATCH_SIZE, max_batches: int = 10_000) -> dict:
    """Run batches until nothing is due (or Meilisearch fails); totals of ``sync_search``."""
    totals = {"rows": 0, "indexed": 0, "deleted": 0, "parked": 0, "failed": 0, "resumed": 0, "paused": False}
    for _ in range(max_batches):
        result = sync_search(batch_size)
        for key in ("rows", "indexed", "deleted", "parked", "failed", "resumed"):
            totals[key] += result[key]
        totals["paused"] = result["paused"]
        if result["failed"] or result["paused"] or not result["rows"]:
            break
    return totals


def _put_back(ids: list[int], error: str) -> None:
    """Keep every row, with its next attempt pushed back: nothing is lost while Meilisearch is down."""
    now = utcnow()
    with unit_of_work():
        for row in db.session.scalars(select(SearchOutbox).where(SearchOutbox.id.in_(ids))):
            row.attempts += 1
            row.last_error = error[:2000]
            row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
    log.warning("search sync: %d row(s) put back: %s", len(ids), error)


def prune_tasks(older_than: timedelta = timedelta(hours=1)) -> int | None:
    """Delete finished Meilisearch tasks older than ``older_than``: the task store has hard limits.
    Returns the deletion task's uid (None when Meilisearch is unreachable)."""
    cutoff = (utcnow() - older_than).isoformat().replace("+00:00", "Z")
    try:
        return call(
            client().delete_tasks, {"statuses": ["succeeded", "failed", "canceled"], "beforeFinishedAt": cutoff}
        ).task_uid
    except SearchUnavailable as exc:
        log.info("task pruning skipped: %s", exc)
        return None

"""Full reindex with no downtime, and the drift check.

Build ``<index>_new`` (settings first), note the outbox high-water mark, load every candidate
from the database, wait, swap atomically, delete the old index, then replay the outbox. While
``<index>_new`` exists the worker leaves the outbox alone, so a change made during the load is
never applied to the old index only: it waits in the outbox and the replay applies it to the new
live index. Searches keep using the old index until the swap.
"""

import logging
from collections.abc import Callable

from sqlalchemy import exists, func, select

from portal.extensions import db
from portal.models import Agency, Application, Candidate, SearchOutbox
from portal.unit_of_work import unit_of_work

from . import documents
from .indexer import call, client, create_index, index_exists, push, wait
from .settings import index_name, staging_name
from .sync import drain

log = logging.getLogger(__name__)

CHUNK = 1000


def indexable_candidates():
    """The candidates that must have a document: not private and never hired."""
    hired = exists().where(Application.candidate_id == Candidate.id, Application.outcome == "hired")
    return select(Candidate.agency_id, Candidate.id).where(Candidate.private.is_(False), ~hired)


def reindex(on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Rebuild the whole index from the database and swap it in. Returns counts and the mark.

    ``on_progress(done, total)`` is called after each chunk is sent (the CLI's progress bar).
    """
    meili = client()
    live, staging = index_name(), staging_name()
    if index_exists(meili, staging):
        wait(meili, call(meili.delete_index, staging).task_uid)
    create_index(meili, staging)
    with unit_of_work():
        mark = db.session.scalar(select(func.max(SearchOutbox.id))) or 0
    keys = [tuple(row) for row in db.session.execute(indexable_candidates().order_by(Candidate.id))]
    total, done, refused = len(keys), 0, {}
    sent: list[tuple[int, list]] = []  # (task uid, the chunk's keys) to rebuild if the task fails
    try:
        for start in range(0, total, CHUNK):
            chunk = keys[start : start + CHUNK]
            built = documents.build(set(chunk))
            refused.update(built.invalid)
            if built.documents:
                # Not waited for here: Meilisearch batches queued additions while the next chunk is built.
                task = call(meili.index(staging).add_documents, built.documents, primary_key="id")
                sent.append((task.task_uid, chunk))
            done = min(start + CHUNK, total)
            if on_progress:
                on_progress(done, total)
        for task_uid, chunk in sent:
            if wait(meili, task_uid).status != "succeeded":
                built = documents.build(set(chunk))
                refused.update(push(meili, staging, built.documents, []))
        if not index_exists(meili, live):
            create_index(meili, live)
        task = wait(meili, call(meili.swap_indexes, [{"indexes": [live, staging]}]).task_uid)
        if task.status != "succeeded":
            raise RuntimeError(f"swapping indexes failed: {task.error}")
    finally:
        # After the swap this is the old index; on failure the half-built one. Either way it goes,
        # and the worker resumes.
        wait(meili, call(meili.delete_index, staging).task_uid)
    with unit_of_work():
        for doc_id, reason in refused.items():
            agency_id, candidate_id = (int(part[1:]) for part in doc_id.split("-"))
            db.session.add(
                SearchOutbox(
                    agency_id=agency_id,
                    entity="candidate",
                    entity_id=candidate_id,
                    parked=True,
                    last_error=reason[:2000],
                )
            )
    replayed = drain()
    return {"documents": total - len(refused), "refused": len(refused), "mark": mark, "replayed": replayed["rows"]}


def counts_by_agency() -> tuple[dict[int, int], dict[int, int]]:
    """(expected from the database, found in the index) document counts per agency."""
    expected = _expected_counts()
    meili = client()
    found: dict[int, int] = {}
    if index_exists(meili, index_name()):
        result = call(meili.index(index_name()).search, "", {"limit": 0, "facets": ["agency_id"]})
        found = {int(k): v for k, v in result.get("facetDistribution", {}).get("agency_id", {}).items()}
    return expected, found


def _expected_counts() -> dict[int, int]:
    sub = indexable_candidates().subquery()
    return dict(db.session.execute(select(sub.c.agency_id, func.count()).group_by(sub.c.agency_id)).tuples().all())


def drift() -> list[dict]:
    """Agencies whose document count differs from the database's."""
    expected, found = counts_by_agency()
    slugs = dict(db.session.execute(select(Agency.id, Agency.slug)).tuples().all())
    return [
        {
            "agency": slugs.get(agency_id, agency_id),
            "database": expected.get(agency_id, 0),
            "index": found.get(agency_id, 0),
        }
        for agency_id in sorted(set(expected) | set(found))
        if expected.get(agency_id, 0) != found.get(agency_id, 0)
    ]

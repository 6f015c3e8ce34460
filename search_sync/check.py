"""Does the index say what the database says? A content check, document by document.

Every document carries ``content_hash`` (see ``documents.content_hash``). The check rebuilds the
documents from the database in chunks, reads ids and hashes from Meilisearch page by page, and
reports per agency:

- **stale**: in both, but the hashes differ (the index shows an old version);
- **missing**: the database says the person should be searchable, the index has no document;
- **extra**: the index has a document that should not be there (private, hired, deleted).

Documents with an outbox row still waiting are left out: the worker is about to apply them, so
they are in flight, not drift (counted separately). A document changed while the check runs can
show up once; run it again. ``repair`` enqueues the differences so the worker rewrites them.
"""

import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, Application, Candidate, SearchOutbox

from . import documents
from .indexer import call, client, index_exists
from .reindex import indexable_candidates
from .settings import index_name

log = logging.getLogger(__name__)

CHUNK = 1000
PAGE = 1000
_DOC_ID = re.compile(r"^a(\d+)-c(\d+)$")


@dataclass
class AgencyReport:
    """One agency's differences, as document ids, sorted."""

    agency_id: int
    agency: str
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [*self.stale, *self.missing, *self.extra]


@dataclass
class CheckResult:
    """The agencies with differences, how many documents were compared and how many were in flight."""

    agencies: list[AgencyReport]
    checked: int
    in_flight: int

    @property
    def ok(self) -> bool:
        return not self.agencies


def expected_hashes(chunk: int = CHUNK) -> dict[str, str]:
    """{document id: content hash} built from the database, ``chunk`` candidates at a time.
    Refused (parked) documents are not expected: they are kept out of the index on purpose."""
    keys = [tuple(row) for row in db.session.execute(indexable_candidates().order_by(Candidate.id))]
    expected: dict[str, str] = {}
    for start in range(0, len(keys), chunk):
        built = documents.build(set(keys[start : start + chunk]))
        expected.update((doc["id"], doc[documents.HASH_FIELD]) for doc in built.documents)
    return expected


def indexed_hashes(page: int = PAGE) -> dict[str, str | None]:
    """{document id: content hash (None for a document written before hashes)} from the live index."""
    meili = client()
    found: dict[str, str | None] = {}
    if not index_exists(meili, index_name()):
        return found
    index = meili.index(index_name())
    offset = 0
    while True:
        batch = call(
            index.get_documents, {"fields": ["id", documents.HASH_FIELD], "limit": page, "offset": offset}
        ).results
        for doc in batch:
            values = dict(doc)
            found[str(values["id"])] = values.get(documents.HASH_FIELD)
        if len(batch) < page:
            return found
        offset += page


def pending_ids() -> set[str]:
    """Document ids an unparked outbox row is waiting to rewrite (job rows expanded)."""
    waiting = set()
    for agency_id, entity, entity_id in db.session.execute(
        select(SearchOutbox.agency_id, SearchOutbox.entity, SearchOutbox.entity_id).where(
            SearchOutbox.parked.is_(False)
        )
    ):
        if entity == "candidate":
            waiting.add(documents.document_id(agency_id, entity_id))
        elif entity == "job":
            for candidate_id in db.session.scalars(
                select(Application.candidate_id).where(Application.job_id == entity_id)
            ):
                waiting.add(documents.document_id(agency_id, candidate_id))
    return waiting


def check(chunk: int = CHUNK) -> CheckResult:
    """Compare every document's content with the database's; differences per agency."""
    found = indexed_hashes()
    expected = expected_hashes(chunk)
    in_flight = pending_ids()
    slugs = dict(db.session.execute(select(Agency.id, Agency.slug)).tuples().all())
    reports: dict[int, AgencyReport] = {}

    def report(doc_id: str) -> AgencyReport:
        agency_id = agency_of(doc_id)
        if agency_id not in reports:
            reports[agency_id] = AgencyReport(agency_id, slugs.get(agency_id, str(agency_id)))
        return reports[agency_id]

    skipped = 0
    for doc_id in sorted(set(found) | set(expected)):
        if doc_id in in_flight:
            skipped += 1
            continue
        if doc_id not in found:
            report(doc_id).missing.append(doc_id)
        elif doc_id not in expected:
            report(doc_id).extra.append(doc_id)
        elif found[doc_id] != expected[doc_id]:
            report(doc_id).stale.append(doc_id)
    return CheckResult(
        agencies=[reports[key] for key in sorted(reports)], checked=len(set(found) | set(expected)), in_flight=skipped
    )


def agency_of(doc_id: str) -> int:
    """The agency in a document id (``a{agency}-c{candidate}``); -1 for an id of another shape."""
    match = _DOC_ID.match(doc_id)
    return int(match.group(1)) if match else -1


def repair(result: CheckResult) -> int:
    """Enqueue every differing document for the worker (in the caller's unit of work); a deleted
    or hidden person's row makes the worker delete the document. Returns the rows written."""
    queued = 0
    for agency in result.agencies:
        for doc_id in agency.ids:
            match = _DOC_ID.match(doc_id)
            if match is None:
                log.warning("search check: cannot repair document %r (not an a{agency}-c{candidate} id)", doc_id)
                continue
            db.session.add(
                SearchOutbox(agency_id=int(match.group(1)), entity="candidate", entity_id=int(match.group(2)))
            )
            queued += 1
    return queued

"""The degraded search path: the database answers when Meilisearch cannot (issue 11).

The plan (``search.plan``) is translated into one SQL statement over ``candidate_search_facts``:
one row per candidate with what a document derives from all of its applications (listed, the
"public" visibility token, has an active application, last in process as unix seconds, furthest
stage, positive ratio, a strong no; the same "public applications first" scope as
``search_sync.documents``), kept in the transaction of every change by ``search_sync.facts``,
plus EXISTS subqueries for the rest (jobs, stages of given jobs, reasons, tags, location,
source). The facts index is walked in rank order (last in process, newest first, then candidate
id) until the first ``SEARCH_DEGRADED_TOTAL_UP_TO`` + 1 matches are found; the page, the facet
counts and the total are read from those, so a broad search is not collected in full and its
total reads "more than N" (``SearchResult.total_is_lower_bound``). A page past that rank
materialises every match once per statement and counts them exactly. The page's
documents are read in their stored form (``candidate_search_text.document``, written with the
facts; built as before only for a candidate whose newest resume has no stored text), in the same
statement as the ranking, with the column names (who added the person, the latest job's title).
Facet counts count the stored facet values (``candidate_search_facts.facet_values``, one JSON
list per candidate, read by the rank-order walk, joined in SQL, counted in Python) of the first
``SEARCH_DEGRADED_FACET_SAMPLE`` matches by rank; a broad degraded search shows counts "from the
first N results" (``SearchResult.facets_sample``).

Text: every query word must be a word of the searchable text and the last may be a prefix
(``search._text_matches``). Where every word character of the text is ASCII
(``facts.plain_words``), a word index finds the words: SQLite's FTS5, exactly Python's words;
PostgreSQL's tsvector of ASCII letter-and-digit runs (the narrow copy ``candidate_search_words``),
a superset (it splits at "_"). Elsewhere (non-ASCII letters: case folding and word characters may differ) SQL checks the
superset "the text contains the word" with LIKE (a non-ASCII letter becomes the one-character
wildcard so case folding cannot lose a match); a row whose resume has no stored text is let
through. The page's rows that the index did not match exactly are then checked word by word in
Python: a row that only contains the word inside a longer one ("ava" in "java") is dropped and
the next row taken, so the page is exactly what the healthy rules give. Ranks before the page are
verified too, which keeps deeper pages exact. When such inexact rows matched, the total and the
facet counts count the superset until every row has been verified, and say so on the page
(``SearchResult.approximate``).

Two guards keep a Meilisearch outage from slowing everyone else: at most
``SEARCH_DEGRADED_CONCURRENCY`` degraded searches at once per process (others get a "busy"
message at once), and a time budget ``SEARCH_DEGRADED_BUDGET_MS`` (PostgreSQL: a transaction-local
``statement_timeout`` inside a savepoint; SQLite: a progress handler on the raw connection that
interrupts the statement) that turns into a "took too long" message.
"""

import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain

from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Integer,
    String,
    Text,
    and_,
    case,
    cast,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from search_sync.documents import FACET_SEPARATOR, MAX_DOCUMENT_BYTES
from search_sync.facts import FTS_TABLE, WORDS_COLUMN, WORDS_TABLE

from ..extensions import db
from ..models import (
    Application,
    Candidate,
    CandidateSearchFacts,
    CandidateSearchText,
    CandidateTag,
    Job,
    StageHistory,
    User,
)
from ..models import StageDefinition as Stage
from ..models.base import UTCDateTime

log = logging.getLogger(__name__)

CONCURRENCY = 2  # SEARCH_DEGRADED_CONCURRENCY: degraded searches at once per process
FACET_SAMPLE = 1000  # SEARCH_DEGRADED_FACET_SAMPLE: facet counts cover at most this many matches (first by rank)
# SEARCH_DEGRADED_TOTAL_UP_TO: a degraded total is exact up to this many matches, then
# "more than" it (the search stops collecting matches there)
TOTAL_UP_TO = 1000
BUDGET_MS = 3000  # SEARCH_DEGRADED_BUDGET_MS: the time one degraded search may take
BUSY = "Search is busy while the search service is down, try again in a moment."
TOO_SLOW = "Search took too long while the search service is down: add a filter or try again in a moment."
RESUME_CHARS = 10_000  # search_sync.documents.RESUME_CHARS: only this much resume text is searchable
POSITIVE = ("strong_yes", "yes")

_slots_lock = threading.Lock()
# Built once: an alias's columns (with copies of the model's foreign keys) cost ~10 ms to set up.
_APPLICATION = aliased(Application, name="app")


class OverBudget(Exception):
    """The degraded search ran out of its time budget."""


def slots() -> threading.BoundedSemaphore:
    """This process's degraded-search slots (one semaphore per app: gunicorn runs one per process)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    semaphore = app.extensions.get("degraded_search_slots")
    if semaphore is None:
        with _slots_lock:
            semaphore = app.extensions.setdefault(
                "degraded_search_slots",
                threading.BoundedSemaphore(max(1, int(app.config.get("SEARCH_DEGRADED_CONCURRENCY", CONCURRENCY)))),
            )
    return semaphore


def search_database(p, decorate=None, visible_jobs=None):
    """One page of results for plan ``p`` from the database (see the module docstring);
    ``decorate(result)`` (names for the columns) runs inside the same time budget, for a page
    whose names the ranking statement did not read already: given ``visible_jobs`` (SELECT id,
    title of the jobs the principal may see), it reads who added each person of the page and the
    title of their latest application's job with their stored documents."""
    from .search import SearchResult

    semaphore = slots()
    if not semaphore.acquire(blocking=False):
        log.warning("degraded search refused: every slot of this process is taken")
        return SearchResult(hits=[], total=0, page=p.criteria.page, pages=1, facets={}, degraded=True, notice=BUSY)
    try:
        budget = int(current_app.config.get("SEARCH_DEGRADED_BUDGET_MS", BUDGET_MS))
        with time_budget(budget) as check:
            result = _search(p, check, visible_jobs)
            if decorate is not None and any("added_by" not in hit for hit in result.hits):
                decorate(result)
            return result
    except OverBudget:
        log.warning("degraded search over its %s ms budget", current_app.config.get("SEARCH_DEGRADED_BUDGET_MS"))
        return SearchResult(hits=[], total=0, page=p.criteria.page, pages=1, facets={}, degraded=True, notice=TOO_SLOW)
    finally:
        semaphore.release()


@contextmanager
def time_budget(milliseconds: int) -> Iterator:
    """Run the block's statements within ``milliseconds``; yields a check to call between steps.
    The block only reads.

    PostgreSQL: ``statement_timeout`` (and ``jit`` off, see ``LIMITS``) set transaction-locally
    inside a savepoint, so a cancelled statement aborts only the savepoint (the request can still
    render). At the end the savepoint is rolled back, which puts the previous settings back (the
    block wrote nothing to keep). Both ends are one round trip each (several statements in one
    simple-protocol call): a degraded search sends few statements, and each round trip was a
    visible part of a one-word search's ≈ 20 ms. SQLite: a progress handler that interrupts the running
    statement once the deadline has passed (a read is interrupted harmlessly).
    """
    deadline = time.monotonic() + milliseconds / 1000

    def check() -> None:
        if time.monotonic() > deadline:
            raise OverBudget

    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        db.session.flush()  # nothing of the session's may be written inside: it is rolled back
        # Literal values only (no parameters): psycopg then sends both statements in one call.
        connection.exec_driver_sql(f"SAVEPOINT {SAVEPOINT}; {LIMITS.format(timeout=max(1, int(milliseconds)))}")
        try:
            # No autoflush inside: a change made in the block stays pending and is written after
            # the savepoint, instead of being written inside it and silently rolled back.
            with db.session.no_autoflush:
                yield check
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
                raise OverBudget from exc
            raise
        finally:
            connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        yield check
    except OperationalError as exc:
        if "interrupted" in str(exc.orig):
            raise OverBudget from exc
        raise
    finally:
        raw.set_progress_handler(None, 0)


SAVEPOINT = "degraded_search"
# ``statement_timeout`` and ``jit``, transaction-locally. JIT off: the degraded search's statements
# cost more than ``jit_above_cost`` by the planner's estimate (a common word matches most of the
# agency), and compiling them took ≈ 450 ms of an 860 ms statement at 10,000 candidates
# (``EXPLAIN ANALYZE``, PostgreSQL 15) for a plan that runs in tens of milliseconds.
LIMITS = "SELECT set_config('statement_timeout', '{timeout}ms', true), set_config('jit', 'off', true)"


def _search(p, check, visible_jobs=None):
    from .search import FACETS, PAGE_SIZE, SearchResult, name_columns

    dialect = db.session.get_bind().dialect.name
    offset = (p.criteria.page - 1) * PAGE_SIZE
    # Without words SQL is exact: fetch the page. With words, the ranks before it are verified too,
    # with a page of slack for rows that only contain a word inside a longer one.
    first, limit = (0, offset + 2 * PAGE_SIZE) if p.words else (offset, PAGE_SIZE)
    sample = int(current_app.config.get("SEARCH_DEGRADED_FACET_SAMPLE", FACET_SAMPLE))
    cap = int(current_app.config.get("SEARCH_DEGRADED_TOTAL_UP_TO", TOTAL_UP_TO))
    none = cast(literal(None), String)
    capped = first + limit <= max(sample, cap)
    if capped:
        # The facts index is walked in rank order and stops once it has the first max(sample,
        # cap) + 1 matches, kept once: the page, the facet counts and the total read them. A
        # broad search is not collected in full (measured at 10,000 candidates: one common
        # word 14 → ≈ 9 ms of CPU); its total says "more than <cap>".
        # The walk reads each match's stored facet values from its row as it passes (instead of a
        # lookup per sampled match afterwards).
        m = matching(p, facet_values=True).cte("m").prefix_with("NOT MATERIALIZED")  # read in index order
        order = (m.c.sort_key.desc(), m.c.id)
        top = (
            select(m.c.id, m.c.sort_key, m.c.exact, m.c.facet_values)
            .order_by(*order)
            .limit(max(sample, cap) + 1)
            .cte("top")
        ).prefix_with("MATERIALIZED")
        total_of = top
        page = _ranked(top, first, limit)
        sampled_matches = _ranked(top, 0, sample, facet_values=True)
    else:
        # The matches, computed once per statement (the page, the total and the facet counts read them).
        m = matching(p).cte("m").prefix_with("MATERIALIZED")
        order = (m.c.sort_key.desc(), m.c.id)
        total_of = m
        page = _ranked(m, first, limit)
        sampled_matches = _ranked(m, 0, sample)
    need = offset + PAGE_SIZE - first  # verified rows wanted, from rank ``first`` on
    # The stored documents of the first ``need`` ranks come with the ranking (one round trip
    # fewer: most searches verify no further).
    stored = _ranked(total_of, first, need)
    searchable = CandidateSearchText
    names = _name_columns(searchable, visible_jobs) if visible_jobs is not None else [none, none]
    statements = [
        select(literal("page"), none, page.c.sort_key, page.c.id, cast(page.c.exact, Integer), none, none, none),
        select(
            literal("total"),
            none,
            func.count(),
            literal(None),
            func.sum(case((total_of.c.exact, 0), else_=1)),
            none,
            none,
            none,
        ).select_from(total_of),
        *_facet_selects(sampled_matches, dialect),
        select(
            literal("stored"),
            searchable.document,
            searchable.document_bytes,
            searchable.candidate_id,
            literal(None),
            searchable.text if p.words else literal(""),
            *names,
        ).join_from(stored, searchable, searchable.candidate_id == stored.c.id),
    ]
    rows: list[tuple[int, int]] = []
    exact: set[int] = set()  # page rows whose words the index matched exactly: no text check
    superset = inexact = 0
    facets: dict[str, dict[str, int]] = {}
    prefetched: dict[int, tuple] = {}
    named: dict[int, tuple[str | None, str | None]] = {}  # id -> (added by, latest job's title)
    for kind, key, n, candidate_id, extra, words, added_by, title in db.session.execute(union_all(*statements)):
        if kind == "page":
            rows.append((-n, candidate_id))
            if extra:
                exact.add(candidate_id)
        elif kind == "total":
            superset, inexact = n, extra or 0
        elif kind == "stored":
            prefetched[candidate_id] = (candidate_id, key, n, words)
            if visible_jobs is not None and key is not None:  # names read from this stored document
                named[candidate_id] = (added_by, title)
        elif key:  # the sample's stored facet values, one JSON list per candidate, joined by ","
            for name_value, count in Counter(chain.from_iterable(json.loads(f"[{key}]"))).items():
                name, value = name_value.split(FACET_SEPARATOR, 1)
                facets.setdefault(name, {})[value] = count
    check()
    ids = [candidate_id for _, candidate_id in sorted(rows)]
    covered = set(ids[:need])  # the ranks ``stored`` read (a candidate without a text row has none)
    found: list[dict] = []
    position = 0
    while len(found) < need:
        if position >= len(ids):
            if first + len(ids) >= superset or not p.words:
                break
            # More false positives than the slack: the rest of the ranking (ids only).
            ids += db.session.scalars(select(m.c.id).order_by(*order).offset(first + len(ids))).all()
            check()
            continue
        batch = ids[position : position + max(PAGE_SIZE, need - len(found))]
        position += len(batch)
        found += _verified(p, batch, exact, prefetched, covered)
        check()
    total = superset - (position - len(found))
    # Only rows a LIKE found (or a PDF resume let through) may not match: without them the SQL
    # count and facets are exact.
    approximate = bool(p.words) and inexact > 0 and first + position < superset
    more = capped and superset > cap  # the search stopped counting: "more than <cap>"
    if more:
        total, approximate = cap, False
    sampled = None
    if p.words and first + position >= superset:
        facets = document_facets(found)  # every match verified: count from the documents, exactly
    elif superset > sample:
        sampled = sample  # counted over the first ``sample`` matches only: the page says so
    hits = found[offset - first :][:PAGE_SIZE]
    if all(hit["candidate_id"] in named for hit in hits):
        for hit in hits:
            name_columns(hit, *named[hit["candidate_id"]])
    return SearchResult(
        hits=hits,
        total=total,
        page=p.criteria.page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        facets={name: facets.get(name, {}) for name in FACETS},
        degraded=True,
        approximate=approximate,
        facets_sample=sampled,
        total_is_lower_bound=more,
    )


def _name_columns(searchable, visible_jobs) -> list:
    """Who added the candidate (the user's name) and the title of the job of the latest application
    in the stored document when the principal may see that job (``visible_jobs``: SELECT id, title)."""
    # PostgreSQL's JSON operators want the json type; SQLite's CAST AS JSON would make it a number.
    as_json = cast if db.session.get_bind().dialect.name == "postgresql" else type_coerce
    latest_job = as_json(searchable.document, JSON)[("latest", "job_id")].as_integer()
    visible = visible_jobs.subquery()
    return [
        select(User.name)
        .join(Candidate, Candidate.added_by_id == User.id)
        .where(Candidate.id == searchable.candidate_id)
        .scalar_subquery(),
        select(visible.c.title).where(visible.c.id == latest_job).scalar_subquery(),
    ]


def _ranked(m, skip: int, count: int, facet_values: bool = False):
    """The matches at ranks skip+1 … skip+count (a bounded sort), with their stored facet values
    when ``m`` carries them and they are asked for."""
    return (
        select(m.c.id, m.c.sort_key, m.c.exact, *([m.c.facet_values] if facet_values else []))
        .order_by(m.c.sort_key.desc(), m.c.id)
        .offset(skip)
        .limit(count)
        .subquery()
    )


def document_facets(documents: list[dict]) -> dict[str, dict[str, int]]:
    """Facet counts from built documents (as Meilisearch counts them)."""
    from .search import FACETS

    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for doc in documents:
        for name in FACETS:
            values = doc[name] if isinstance(doc[name], list) else [doc[name]] if doc[name] is not None else []
            for value in values:
                facets[name][str(value)] = facets[name].get(str(value), 0) + 1
    return facets


def _verified(
    p,
    ids: list[int],
    exact: set[int] | frozenset[int] = frozenset(),
    prefetched: dict[int, tuple] | None = None,
    covered: set[int] | frozenset[int] = frozenset(),
) -> list[dict]:
    """The documents of ``ids`` (in that order) that match by the healthy path's rules, words included.

    Read from their stored form (``candidate_search_text``: the document without its resume text,
    checked against the row's searchable text); built as before when there is none to trust (the
    newest resume has no stored text: the document reads the PDF). ``exact``: ids whose words the
    word index matched exactly (``matching``'s ``exact``): their text is not checked again.
    ``prefetched``: (id, document, bytes, text) rows already read for the ids in ``covered``."""
    from search_sync.documents import build

    from .search import matches, text_has_words

    limit = int(current_app.config.get("SEARCH_MAX_DOCUMENT_BYTES", MAX_DOCUMENT_BYTES))
    searchable = CandidateSearchText
    found: dict[int, dict] = {}
    to_build: list[int] = []
    prefetched = prefetched or {}
    rows: list = [prefetched[cid] for cid in ids if cid in prefetched]
    unread = [cid for cid in ids if cid not in covered]
    if unread:
        rows += db.session.execute(
            select(
                searchable.candidate_id,
                searchable.document,
                searchable.document_bytes,
                searchable.text if p.words else literal(""),
            ).where(searchable.candidate_id.in_(unread))
        ).all()
    for candidate_id, document, size, words in rows:
        if document is None or size is None:
            to_build.append(candidate_id)
        elif size <= limit and (candidate_id in exact or text_has_words(words, p.words)):  # over it: never indexed
            doc = json.loads(document)
            if matches(doc, p, check_text=False):
                found[candidate_id] = doc
    if to_build:
        built = build({(p.agency_id, cid) for cid in to_build}).documents
        found.update((doc["candidate_id"], doc) for doc in built if matches(doc, p))
    return [found[cid] for cid in ids if cid in found]


def _public(job_id, agency_id: int) -> ColumnElement:
    """The application's job is not confidential (the agency's confidential jobs, a handful, are
    read by the statement itself: no round trip of their own)."""
    return job_id.not_in(select(Job.id).where(Job.agency_id == agency_id, Job.confidential.is_(True)))


def _midnight(ts: int) -> ColumnElement:
    return literal(datetime.fromtimestamp(ts, UTC), UTCDateTime())


def _like(word: str, dialect: str):
    """A LIKE that finds ``word`` inside a column: a superset of "is one of its words".

    Wildcards in the word are escaped; each non-ASCII character becomes ``_`` (any one character),
    because SQLite folds only ASCII case and PostgreSQL's folding depends on the locale.
    """
    escaped = "".join("_" if ord(ch) > 127 else "\\" + ch if ch in "\\%_" else ch for ch in word)
    pattern = f"%{escaped}%"
    if dialect == "postgresql":
        return lambda column: column.ilike(pattern, escape="\\")
    return lambda column: column.like(pattern, escape="\\")  # SQLite's LIKE ignores ASCII case


def matching(p, facet_values: bool = False):
    """SELECT id, sort_key, exact (and ``facet_values``, asked for) of the candidates that match
    plan ``p`` (words: a superset, but for the rows marked ``exact``).

    The per-candidate aggregates (listed, visibility, active, last in process, furthest stage,
    positive ratio, strong no) come from ``candidate_search_facts``, kept in the transaction of
    every change (``search_sync.facts``); the rest are EXISTS over the candidate's rows.
    """
    c = p.criteria
    dialect = db.session.get_bind().dialect.name
    f = CandidateSearchFacts
    app = _APPLICATION
    in_scope = or_(_public(app.job_id, p.agency_id), f.has_public.is_(False))

    def application_exists(*conditions, scoped: bool) -> ColumnElement:
        return exists(
            select(literal_column("1"))
            .select_from(app)
            .where(app.candidate_id == f.candidate_id, *conditions, *([in_scope] if scoped else []))
        )

    def reached(stage_ids) -> ColumnElement:
        """The application reached one of these stages (a subquery: now or in its history)."""
        return or_(
            app.stage_id.in_(stage_ids),
            exists().where(StageHistory.application_id == app.id, StageHistory.to_stage_id.in_(stage_ids)),
        )

    where: list[ColumnElement] = [f.agency_id == p.agency_id, f.listed.is_(True)]
    if p.visibility is not None:
        confidential = [int(t.split(":", 1)[1]) for t in p.visibility if t.startswith("job:")]
        seen: list[ColumnElement] = [f.public.is_(True)] if "public" in p.visibility else []
        if confidential:
            seen.append(exists().where(app.candidate_id == f.candidate_id, app.job_id.in_(confidential)))
        where.append(or_(*seen) if seen else false())
    if not c.include_active:
        where.append(f.has_active.is_(False))
    if p.job_ids is not None:
        if not p.job_ids:
            where.append(false())
        elif p.stage_position is not None:  # job_stage_keys: every application, confidential ones too
            at_or_after = select(Stage.id).where(Stage.agency_id == p.agency_id, Stage.position >= p.stage_position)
            where.append(application_exists(app.job_id.in_(p.job_ids), reached(at_or_after), scoped=False))
        else:
            where.append(application_exists(app.job_id.in_(p.job_ids), scoped=False))
    elif p.stage_position is not None:  # max_stage: over the scope
        where.append(f.max_stage >= p.stage_position)
    for tag in c.tags:
        where.append(exists().where(CandidateTag.candidate_id == f.candidate_id, CandidateTag.tag == tag))
    if c.reasons:
        where.append(
            application_exists(app.outcome.is_not(None), app.reason_id.in_([int(r) for r in c.reasons]), scoped=True)
        )
    if c.min_positive is not None:
        where.append(f.positive_ratio >= int(c.min_positive))
    if c.exclude_strong_no:
        where.append(f.has_strong_no.is_(False))
    if p.before_ts is not None:  # last_in_process_at < the day: sort_key is that, in seconds (-1: none)
        where.append(and_(f.sort_key >= 0, f.sort_key < p.before_ts))
    if p.after_ts is not None:
        where.append(f.sort_key >= p.after_ts)
    # Rows whose words SQLite's FTS5 matched exactly (see ``_indexed_words``); PostgreSQL's index
    # splits words at "_": never exact there.
    exact: ColumnElement = true()
    if p.words:
        exact = and_(f.plain_words.is_(True), f.pdf_only.is_(False)) if dialect == "sqlite" else false()
    query = select(
        # type_coerce: the CTEs and subqueries over these columns then proxy plain columns, not
        # copies of the table's (each copy of a mapped column costs ≈ 50 µs to build, a search
        # made a dozen).
        type_coerce(f.candidate_id, Integer).label("id"),
        type_coerce(f.sort_key, BigInteger).label("sort_key"),
        exact.label("exact"),
        *([type_coerce(f.facet_values, Text).label("facet_values")] if facet_values else []),
    ).select_from(f)
    if c.location:
        where.append(exists().where(Candidate.id == f.candidate_id, Candidate.location == c.location))
    if c.source:
        where.append(
            or_(
                exists().where(Candidate.id == f.candidate_id, Candidate.source == c.source),
                application_exists(app.source == c.source, scoped=True),
            )
        )
    if p.words:
        searchable = CandidateSearchText
        likes = [_like(word, dialect)(searchable.text) for word in p.words]
        # Where every word character is ASCII (``plain_words``) a word index finds the words
        # (``_indexed_words``); elsewhere case folding and word characters may differ: the LIKE
        # superset. No stored resume text: the
        # document reads the PDF, the page's check decides.
        where.append(
            or_(
                and_(f.plain_words.is_(True), _indexed_words(p, dialect, f.candidate_id)),
                and_(f.plain_words.is_not(True), exists().where(searchable.candidate_id == f.candidate_id, *likes)),
                f.pdf_only.is_(True),
            )
        )
    return query.where(*where)


def _indexed_words(p, dialect: str, candidate_id) -> ColumnElement:
    """``candidate_id`` is among the plain texts (``plain_words``) that have every word, the last
    as a prefix (``_text_matches``). SQLite: FTS5 (``candidate_search_fts``), exactly Python's words
    on such text. PostgreSQL: the GIN index over the generated tsvector ``words``, where "_"
    separates words: a word with "_" asks for its parts (a superset; the page's check decides).
    Query words are ``\\w+`` runs: nothing to escape once they are known to be ASCII."""
    if not all(word.isascii() for word in p.words):
        return false()  # a plain text has no word with another character
    *whole, last = p.words
    if dialect == "sqlite":
        expression = " ".join([*(f'"{word}"' for word in whole), f'"{last}"*'])
        with_words = (
            text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :words")
            .bindparams(words=expression)
            .columns(column("rowid", Integer))
            .cte("with_words")
            .prefix_with("MATERIALIZED")  # once per statement
        )
        return candidate_id.in_(select(with_words.c.rowid))
    lexemes = [part for word in whole for part in word.split("_") if part]
    lexemes += [f"{part}:*" for part in last.split("_") if part]
    if not lexemes:
        return true()
    # The narrow copy of the vectors (``WORDS_TABLE``): a common word reads every row of it.
    words = table(WORDS_TABLE, column("candidate_id"), column("agency_id"), column(WORDS_COLUMN))
    query = func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(lexemes))
    return candidate_id.in_(
        select(words.c.candidate_id).where(words.c.agency_id == p.agency_id, words.c[WORDS_COLUMN].op("@@")(query))
    )


def _facet_selects(m, dialect: str) -> list:
    """One ("facets", <the stored facet values of the matches ``m`` (id), ","-joined>, …) row: the
    JSON lists of "<facet>\\x1f<value>" (``search_sync.documents.Stored``), counted in Python as
    documents count (measured at 1,000 matches on SQLite: 1.5 ms, against 4.3 ms for ``json_each``
    and GROUP BY in SQL)."""
    f = CandidateSearchFacts
    # Read with the matches, or a lookup per sampled match (PostgreSQL's planner otherwise hashes
    # the agency's every facts row).
    values = (
        m.c.facet_values
        if "facet_values" in m.c
        else select(f.facet_values).where(f.candidate_id == m.c.id).scalar_subquery()
    )
    joined = func.string_agg(values, ",") if dialect == "postgresql" else func.group_concat(values, ",")
    return [
        select(
            literal("facets"),
            cast(joined, String()),
            literal(None),
            literal(None),
            literal(None),
            literal(None),
            literal(None),
            literal(None),
        ).select_from(m)
    ]

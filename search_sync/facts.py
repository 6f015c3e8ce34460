"""Per-candidate search facts (``candidate_search_facts``), kept in the same transaction as the change.

The degraded search (``portal.services.search_database``) filters and sorts by facts that a
document derives from all of a candidate's applications: listed (neither private nor hired), the
"public" visibility token, has an active application, last in process, furthest stage, positive
ratio, a strong no. Aggregating them per request costs time proportional to the agency; here they
are one row per candidate, recomputed by ``refresh`` whenever the search outbox is written
(``search_sync.outbox``: after each flush and around each ``update()`` / ``delete()``, the same
keys that enqueue documents), on the same connection, in set-based SQL: a delete and an insert
per batch of candidates. A job key (confidential flag, stage positions) refreshes the candidates
of its applications.

The same refresh writes the searchable text (``candidate_search_text``, which SQLite's FTS5 and
PostgreSQL's tsvector index read) and, from Python on the same connection, the stored form of the
document (``search_sync.documents.stored``: the document without its resume text, its size, its
facet values and ``plain_words``), so the degraded search reads its page instead of building it.

The rules are the document's (``search_sync.documents.candidate_document``); ``fresh_rows`` and
``fresh_texts`` recompute them from scratch for the tests and ``flask search check``-style
comparisons.

Concurrency: on PostgreSQL the candidates' rows are locked (``FOR NO KEY UPDATE``, id order)
before the facts are read, so two transactions changing different applications of one person
cannot both write facts computed without the other's change; the second recomputes after the
first commits (READ COMMITTED: a new statement sees it). SQLite's writers are serialised already.
"""

from collections.abc import Iterable
from typing import cast as typed

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from portal.models import (
    Application,
    Candidate,
    CandidateEmail,
    CandidateSearchFacts,
    CandidateSearchText,
    CandidateTag,
    Job,
    Resume,
    Scorecard,
    StageDefinition,
    StageHistory,
)
from search_sync import documents
from search_sync.documents import RESUME_CHARS

BATCH = 500
POSITIVE = ("strong_yes", "yes")


def _seconds(value, dialect: str):
    """Unix seconds of a timestamp (truncated), as documents store it."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", value)), postgresql.BIGINT)
    return cast(func.strftime("%s", value), sqlite.INTEGER)


def facts_query(dialect: str, candidates):
    """SELECT of the facts columns for the candidates that ``candidates`` (a criterion on
    ``Candidate.id``) selects."""
    history = aliased(StageDefinition)
    furthest_in_history = (
        select(func.max(history.position))
        .select_from(StageHistory)
        .join(history, history.id == StageHistory.to_stage_id)
        .where(StageHistory.application_id == Application.id)
        .scalar_subquery()
    )
    reached = case(
        (func.coalesce(furthest_in_history, -1) > StageDefinition.position, furthest_in_history),
        else_=StageDefinition.position,
    )
    chosen = select(Candidate.id).where(candidates)
    their_applications = select(Application.id).where(Application.candidate_id.in_(chosen))
    cards = (
        select(
            Scorecard.application_id.label("application_id"),
            func.count().label("cards"),
            func.sum(case((Scorecard.verdict.in_(POSITIVE), 1), else_=0)).label("positives"),
            func.max(case((Scorecard.verdict == "strong_no", 1), else_=0)).label("strong_no"),
        )
        .where(Scorecard.application_id.in_(their_applications))
        .group_by(Scorecard.application_id)
        .subquery("cards")
    )
    per_app = (
        select(
            Application.candidate_id.label("candidate_id"),
            case((Job.confidential.is_(True), 0), else_=1).label("public"),
            case((Application.outcome.is_(None), 1), else_=0).label("active"),
            case((Application.outcome == "hired", 1), else_=0).label("hired"),
            Application.last_activity_at.label("last"),
            reached.label("reached"),
            func.coalesce(cards.c.cards, 0).label("cards"),
            func.coalesce(cards.c.positives, 0).label("positives"),
            func.coalesce(cards.c.strong_no, 0).label("strong_no"),
        )
        .join(Job, Job.id == Application.job_id)
        .join(StageDefinition, StageDefinition.id == Application.stage_id)
        .outerjoin(cards, cards.c.application_id == Application.id)
        .where(Application.candidate_id.in_(chosen))
        .subquery("per_app")
    )
    a = per_app.c

    def over_public(value):
        return case((a.public == 1, value))

    agg = (
        select(
            a.candidate_id.label("candidate_id"),
            func.max(a.public).label("has_public"),
            func.max(a.active).label("has_active"),
            func.max(a.hired).label("hired"),
            func.max(over_public(a.last)).label("last_public"),
            func.max(a.last).label("last_all"),
            func.max(over_public(a.reached)).label("reached_public"),
            func.max(a.reached).label("reached_all"),
            func.sum(over_public(a.cards)).label("cards_public"),
            func.sum(a.cards).label("cards_all"),
            func.sum(over_public(a.positives)).label("positives_public"),
            func.sum(a.positives).label("positives_all"),
            func.max(over_public(a.strong_no)).label("strong_no_public"),
            func.max(a.strong_no).label("strong_no_all"),
        )
        .group_by(a.candidate_id)
        .subquery("agg")
    )
    g = agg.c
    scoped_public = func.coalesce(g.has_public, 0) == 1

    def scoped(public_value, all_value):
        return case((scoped_public, public_value), else_=all_value)

    cards_n = scoped(g.cards_public, g.cards_all)
    positives = scoped(g.positives_public, g.positives_all)
    # 100.0 as written: numeric on PostgreSQL (round(numeric, 2)), real on SQLite; never integer division.
    ratio = func.round(literal_column("100.0") * positives / func.nullif(cards_n, 0), 2)
    last = scoped(g.last_public, g.last_all)
    return (
        select(
            Candidate.id.label("candidate_id"),
            Candidate.agency_id.label("agency_id"),
            and_(Candidate.private.is_(False), func.coalesce(g.hired, 0) == 0).label("listed"),
            or_(g.candidate_id.is_(None), scoped_public).label("public"),
            scoped_public.label("has_public"),
            (func.coalesce(g.has_active, 0) == 1).label("has_active"),
            func.coalesce(_seconds(last, dialect), -1).label("sort_key"),
            scoped(g.reached_public, g.reached_all).label("max_stage"),
            ratio.label("positive_ratio"),
            (func.coalesce(scoped(g.strong_no_public, g.strong_no_all), 0) == 1).label("has_strong_no"),
            pdf_only().label("pdf_only"),
        )
        .select_from(Candidate)
        .outerjoin(agg, g.candidate_id == Candidate.id)
        .where(candidates)
    )


def searchable_text(dialect: str) -> ColumnElement:
    """The document's searchable text in one string for the ``Candidate`` row of the enclosing
    query (fields separated by a newline, so a word found in it lies inside one field)."""

    def joined(column, where):
        """The values one per line: sorted on PostgreSQL (a recomputation gives the same string); SQLite
        (no ORDER BY inside group_concat before 3.44) concatenates in its index's deterministic order."""
        if dialect == "postgresql":
            concat = func.string_agg(column, postgresql.aggregate_order_by(literal_column("E'\\n'"), column))
        else:
            concat = func.group_concat(column, "\n")
        return func.coalesce(select(concat).where(where).scalar_subquery(), "")

    fields = [
        func.coalesce(column, "")
        for column in (
            Candidate.first_name,
            Candidate.last_name,
            Candidate.headline,
            Candidate.current_title,
            Candidate.current_company,
            Candidate.skills,
        )
    ]
    fields += [
        joined(CandidateTag.tag, CandidateTag.candidate_id == Candidate.id),
        joined(CandidateEmail.email, CandidateEmail.candidate_id == Candidate.id),
        func.coalesce(
            func.substr(_newest_resume().with_only_columns(Resume.text).scalar_subquery(), 1, RESUME_CHARS), ""
        ),
    ]
    text: ColumnElement = fields[0]
    for field in fields[1:]:
        text = text.concat("\n").concat(field)
    return text


def _newest_resume():
    return select(Resume.id).where(Resume.candidate_id == Candidate.id).order_by(Resume.id.desc()).limit(1)


def pdf_only() -> ColumnElement:
    """The newest resume has no stored text (its document reads the PDF)."""
    newest = _newest_resume()
    return and_(
        newest.scalar_subquery().is_not(None),
        func.coalesce(newest.with_only_columns(Resume.text).scalar_subquery(), "") == "",
    )


def text_query(dialect: str, candidates):
    """SELECT candidate_id, agency_id, text: the document's searchable text (``searchable_text``)."""
    return select(
        Candidate.id.label("candidate_id"),
        Candidate.agency_id.label("agency_id"),
        searchable_text(dialect).label("text"),
    ).where(candidates)


FACTS = typed(Table, CandidateSearchFacts.__table__)
TEXT = typed(Table, CandidateSearchText.__table__)
# Written from Python (``_store_documents``), the rest by INSERT … SELECT.
FACTS_STORED = ("facet_values", "plain_words")
TEXT_STORED = ("document", "document_bytes")
COLUMNS = [c.name for c in FACTS.columns if c.name not in FACTS_STORED]
TEXT_COLUMNS = [c.name for c in TEXT.columns if c.name not in TEXT_STORED]


def _store(table: Table, names: tuple[str, ...]):
    return (
        update(table)
        .where(table.c.candidate_id == bindparam("stored_id"))
        .values({name: bindparam(f"stored_{name}") for name in names})
    )


_STORE = [(_store(FACTS, FACTS_STORED), FACTS_STORED), (_store(TEXT, TEXT_STORED), TEXT_STORED)]


def _inserts(dialect: str, candidates) -> list:
    """INSERT … SELECT of both tables' rows for the candidates ``candidates`` selects."""
    return [
        insert(TEXT).from_select(TEXT_COLUMNS, text_query(dialect, candidates)),
        insert(FACTS).from_select(COLUMNS, facts_query(dialect, candidates)),
    ]


_BY_IDS: dict[str, list] = {}  # dialect -> the inserts for ``Candidate.id IN :ids``, built once


def _replace_ids(connection: Connection, ids: list[int]) -> None:
    """Delete and insert these candidates' rows (a deleted candidate gets none). The statements are
    built once per dialect with an expanding parameter: building and compiling them costs more than
    running them for a few candidates, and a flush runs them for every change (SQLAlchemy's compiled
    cache then serves them). Delete-then-insert rather than an upsert: SQLAlchemy cannot cache an
    ``ON CONFLICT`` statement, and the candidates' rows are locked first (see the module docstring),
    so no other transaction inserts the same rows meanwhile."""
    dialect = connection.dialect.name
    statements = _BY_IDS.get(dialect)
    if statements is None:
        chosen: BindParameter[list[int]] = bindparam("ids", expanding=True)
        statements = _BY_IDS.setdefault(
            dialect,
            [
                delete(FACTS).where(FACTS.c.candidate_id.in_(chosen)),
                delete(TEXT).where(TEXT.c.candidate_id.in_(chosen)),
                *_inserts(dialect, Candidate.id.in_(chosen)),
            ],
        )
    for statement in statements:
        connection.execute(statement, {"ids": ids})
    _store_documents(connection, ids)


def _store_documents(connection: Connection, ids: list[int]) -> None:
    """Write the stored form of these candidates' documents into their text rows (just inserted).

    Built in Python by the same code as the index's documents (``search_sync.documents.stored``),
    on the writing connection: a handful of selects per batch, no PDF read."""
    found = documents.stored(connection.execute, ids)
    if found:
        for statement, names in _STORE:
            connection.execute(
                statement,
                [
                    {"stored_id": candidate_id, **{f"stored_{name}": getattr(row, name) for name in names}}
                    for candidate_id, row in found.items()
                ],
            )


def refresh(connection: Connection, candidate_ids: Iterable[int]) -> None:
    """Recompute the facts of these candidates (a deleted one loses its row), on ``connection``."""
    ids = sorted(set(candidate_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        if connection.dialect.name == "postgresql":
            connection.execute(
                select(Candidate.id)
                .where(Candidate.id.in_(chunk))
                .order_by(Candidate.id)
                .with_for_update(key_share=True)
            )
        _replace_ids(connection, chunk)


def job_candidates(connection: Connection, job_ids: Iterable[int]) -> set[int]:
    """The candidates with an application to one of these jobs."""
    ids = sorted(set(job_ids))
    found: set[int] = set()
    for start in range(0, len(ids), BATCH):
        query = select(Application.candidate_id).where(Application.job_id.in_(ids[start : start + BATCH])).distinct()
        found |= set(connection.execute(query).scalars())
    return found


def refresh_all(connection: Connection, agency_id: int | None = None) -> None:
    """Recompute every candidate's facts (the migration's backfill, the benchmark's bulk seed)."""
    criterion = Candidate.agency_id == agency_id if agency_id is not None else Candidate.id.is_not(None)
    for table in (FACTS, TEXT):
        connection.execute(delete(table).where(table.c.candidate_id.in_(select(Candidate.id).where(criterion))))
        if agency_id is None:
            connection.execute(delete(table).where(table.c.candidate_id.not_in(select(Candidate.id))))
    for statement in _inserts(connection.dialect.name, criterion):
        connection.execute(statement)
    ids = sorted(connection.execute(select(Candidate.id).where(criterion)).scalars())
    for start in range(0, len(ids), BATCH):
        _store_documents(connection, ids[start : start + BATCH])


def fresh_rows(connection: Connection, agency_id: int) -> dict[int, tuple]:
    """The facts of every candidate of the agency, computed now from the real tables."""
    rows = connection.execute(facts_query(connection.dialect.name, Candidate.agency_id == agency_id)).all()
    built = documents.stored(connection.execute, [row.candidate_id for row in rows])
    return {
        row.candidate_id: (*_normal(row), *_stored_values(built.get(row.candidate_id), FACTS_STORED)) for row in rows
    }


def stored_rows(connection: Connection, agency_id: int) -> dict[int, tuple]:
    """The stored facts of the agency's candidates."""
    table = FACTS
    rows = connection.execute(select(table).where(table.c.agency_id == agency_id))
    return {row.candidate_id: (*_normal(row), *(getattr(row, name) for name in FACTS_STORED)) for row in rows}


def fresh_texts(connection: Connection, agency_id: int) -> dict[int, tuple]:
    """The searchable text and stored document of every candidate of the agency, computed now."""
    rows = connection.execute(text_query(connection.dialect.name, Candidate.agency_id == agency_id)).all()
    built = documents.stored(connection.execute, [row.candidate_id for row in rows])
    return {row.candidate_id: (row.text, *_stored_values(built.get(row.candidate_id), TEXT_STORED)) for row in rows}


def stored_texts(connection: Connection, agency_id: int) -> dict[int, tuple]:
    """The stored searchable text and document of the agency's candidates."""
    table = TEXT
    rows = connection.execute(select(table).where(table.c.agency_id == agency_id))
    return {row.candidate_id: (row.text, *(getattr(row, name) for name in TEXT_STORED)) for row in rows}


def _stored_values(found: "documents.Stored | None", names: tuple[str, ...]) -> tuple:
    """The stored form's columns; None for a candidate that is not listed (no document)."""
    return tuple(None if found is None else getattr(found, name) for name in names)


def _normal(row) -> tuple:
    values = row._mapping
    return tuple(
        (None if values[name] is None else round(float(values[name]), 2))
        if name == "positive_ratio"
        else bool(values[name])
        if name in ("listed", "public", "has_public", "has_active", "has_strong_no", "pdf_only")
        else values[name]
        for name in COLUMNS
    )


FTS_TABLE = "candidate_search_fts"  # SQLite: FTS5 over candidate_search_text.text (migration 7d2e4b9c1a53)
WORDS_INDEX = "ix_candidate_search_text_words"  # PostgreSQL: GIN over the column below (same migration)
# PostgreSQL: candidate_search_text.words, a stored generated tsvector of the text: every run of
# ASCII letters and digits (anything else separates: exact where ``plain_words``, but for "_",
# which Python counts as a word character), lower-cased by 'simple', every word kept; without
# positions (strip: half the size, read by every word search; prefixes need none).
WORDS_COLUMN = "words"
# PostgreSQL: the vectors again, narrow (candidate, agency, words), copied by a trigger (migration
# f2a6c9e4b1d8): the degraded search reads these, a fifteenth of the text table's size.
WORDS_TABLE = "candidate_search_words"
WORDS_VECTOR = "strip(to_tsvector('simple'::regconfig, regexp_replace(text, '[^a-zA-Z0-9]+', ' ', 'g')))"


def schema_compared(name: str | None, type_: str, parent_names) -> bool:
    """Alembic's ``include_name``: the word indexes above are not mapped (a virtual table with its
    shadow tables; a PostgreSQL-only generated column and its index), so autogenerate and the schema
    test leave them alone."""
    if type_ == "table" and name is not None:
        return not (name in (FTS_TABLE, WORDS_TABLE) or name.startswith(FTS_TABLE + "_"))
    if type_ == "index":
        return name != WORDS_INDEX
    if type_ == "column":
        return not (name == WORDS_COLUMN and parent_names.get("table_name") == TEXT.name)
    return True

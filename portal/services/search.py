"""Candidate rediscovery (S2–S5): query building, visibility, the degraded database path.

Filters are built only from validated values (ids checked against the database, enums, dates,
strings that exist among the agency's values); nothing from the browser is pasted into a filter.
Visibility is added by the server on every query. The Meilisearch path and the database path
share one definition of a match (``matches``) evaluated on the same documents, so degraded mode
gives the same answers (typo tolerance aside), and the page Meilisearch returns is re-checked
against freshly built documents before it is rendered.
"""

import logging
import math
import re
import threading
import time as monotonic_time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask import current_app
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchError,
    MeilisearchTimeoutError,
)
from sqlalchemy import Select, exists, literal, select, union_all

from search_sync import documents

from ..extensions import db
from ..models import (
    Application,
    Candidate,
    CandidateTag,
    ClientCompany,
    Job,
    Reason,
    StageDefinition,
    User,
)
from ..scoping import candidates_query, jobs_query
from . import ServiceError
from .pipeline import add_application

log = logging.getLogger(__name__)

PAGE_SIZE = 20
MAX_QUERY_WORDS = 10  # Meilisearch ignores words after the tenth; so does the database path
FACETS = documents.FACETS  # ("tags", "reason_ids", "location", "sources")
RETRIEVE = ["id", "candidate_id", "name", "headline", "location", "added_via", "latest", "last_in_process_at"]
TEXT_FIELDS = ("name", "headline", "current_title", "current_company", "skills", "tags", "emails", "resume_text")


@dataclass
class Criteria:
    """Validated search input (the S5 query string after the form has checked it)."""

    q: str = ""
    jobs: list[int] = field(default_factory=list)
    job_title: str = ""
    tags: list[str] = field(default_factory=list)
    reasons: list[int] = field(default_factory=list)
    stage: int | None = None  # a stage id of the agency
    min_positive: int | None = None
    exclude_strong_no: bool = False
    last_before: date | None = None
    last_after: date | None = None
    location: str | None = None
    source: str | None = None
    include_active: bool = False
    sort: str = "relevance"
    page: int = 1


@dataclass
class Plan:
    """Criteria resolved for one principal: ids, positions and timestamps ready to compare."""

    criteria: Criteria
    agency_id: int
    visibility: list[str] | None  # None: sees every document of the agency (admins)
    job_ids: list[int] | None  # None: no job filter; []: a job filter nothing matches
    stage_position: int | None
    before_ts: int | None
    after_ts: int | None
    words: list[str]


@dataclass
class SearchResult:
    """One page of results with facet counts; ``degraded`` when served from the database."""

    hits: list[dict]
    total: int
    page: int
    pages: int
    facets: dict[str, dict[str, int]]
    degraded: bool = False
    notice: str | None = None  # degraded search refused (busy, over its time budget): shown in place of results
    approximate: bool = False  # degraded text search: total and facets may count a few rows the page check drops
    facets_sample: int | None = None  # degraded search: facet counts cover only the first this many matches
    total_is_lower_bound: bool = False  # degraded search: more than ``total`` match (it stopped counting)


def job_label(title: str, client: str) -> str:
    """How a job reads in a picker: two "Data Analyst" jobs for different clients must differ."""
    return f"{title} \u2014 {client}"


def job_choices(who) -> list[tuple[int, str]]:
    """Jobs the principal may pick (confidential ones only for their team and admins), each
    labelled with its client's name beside the title."""
    rows = db.session.execute(
        jobs_query(who)
        .join(ClientCompany, ClientCompany.id == Job.company_id)
        .with_only_columns(Job.id, Job.title, ClientCompany.name)
        .order_by(Job.title, ClientCompany.name, Job.id)
    )
    return [(job_id, job_label(title, client)) for job_id, title, client in rows]


def reason_choices(who) -> list[tuple[int, str]]:
    """The agency's rejection and loss reasons."""
    return [
        (r.id, r.label)
        for r in db.session.scalars(
            select(Reason).where(Reason.agency_id == who.agency_id).order_by(Reason.kind.desc(), Reason.position)
        )
    ]


def stage_choices(who) -> list[tuple[int, str]]:
    """The agency's stages in pipeline order."""
    return [
        (s.id, s.name)
        for s in db.session.scalars(
            select(StageDefinition).where(StageDefinition.agency_id == who.agency_id).order_by(StageDefinition.position)
        )
    ]


def value_exists(who, kind: str, value: str) -> bool:
    """Whether a tag, location or source value exists in the agency (an EXISTS, not a list of all:
    the options shown come from the facet counts of the current results)."""
    query: Select[tuple[str]] | Select[tuple[int]]
    if kind == "tag":
        query = (
            select(CandidateTag.tag)
            .join(Candidate, Candidate.id == CandidateTag.candidate_id)
            .where(Candidate.agency_id == who.agency_id, CandidateTag.tag == value)
        )
    elif kind == "location":
        query = select(Candidate.id).where(Candidate.agency_id == who.agency_id, Candidate.location == value)
    elif kind == "source":
        found = db.session.scalar(
            select(Application.id).where(Application.agency_id == who.agency_id, Application.source == value).limit(1)
        )
        query = select(Candidate.id).where(Candidate.agency_id == who.agency_id, Candidate.source == value)
        if found is not None:
            return True
    else:
        raise ValueError(kind)
    return db.session.scalar(query.limit(1)) is not None


def facet_options(
    result: "SearchResult | None", name: str, selected: list[str], limit: int = 40
) -> list[tuple[str, int]]:
    """(value, count) to offer for a facet: the most frequent in the results, plus what is selected."""
    counts = result.facets.get(name, {}) if result else {}
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    shown = {value for value, _ in top}
    return sorted(top + [(value, counts.get(value, 0)) for value in selected if value and value not in shown])


def visibility_tokens(who) -> list[str] | None:
    """``["public", "job:<id>" …]`` for the confidential jobs the user may see; None for admins."""
    if who.is_admin:
        return None
    confidential = db.session.scalars(jobs_query(who).where(Job.confidential.is_(True)).with_only_columns(Job.id))
    return ["public", *(f"job:{job_id}" for job_id in sorted(confidential))]


def plan(who, criteria: Criteria) -> Plan:
    """Resolve the criteria for ``who``: job title to visible job ids, stage id to its position."""
    visible_jobs = jobs_query(who).with_only_columns(Job.id)
    job_ids = None
    if criteria.jobs or criteria.job_title:
        chosen = set(db.session.scalars(visible_jobs.where(Job.id.in_(criteria.jobs)))) if criteria.jobs else set()
        if len(chosen) != len(set(criteria.jobs)):
            raise ServiceError("Choose jobs from the list.", field="job")
        if criteria.job_title:
            pattern = "%" + criteria.job_title.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            chosen |= set(db.session.scalars(visible_jobs.where(Job.title.ilike(pattern, escape="\\"))))
        job_ids = sorted(chosen)
    position = None
    if criteria.stage is not None:
        position = db.session.scalar(
            select(StageDefinition.position).where(
                StageDefinition.id == criteria.stage, StageDefinition.agency_id == who.agency_id
            )
        )
        if position is None:
            raise ServiceError("Choose a stage from the list.", field="stage")
    return Plan(
        criteria=criteria,
        agency_id=who.agency_id,
        visibility=visibility_tokens(who),
        job_ids=job_ids,
        stage_position=position,
        before_ts=_midnight(criteria.last_before),
        after_ts=_midnight(criteria.last_after),
        words=query_words(criteria.q),
    )


def query_words(q: str) -> list[str]:
    """The words that count: lower-cased, at most ten, as Meilisearch does."""
    return re.findall(r"\w+", (q or "").lower())[:MAX_QUERY_WORDS]


def _midnight(day: date | None) -> int | None:
    """Dates mean UTC days: "before D" is before D's first second, "after D" from it on."""
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp()) if day else None


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def meili_filter(p: Plan) -> list[str]:
    """The Meilisearch filter (clauses joined by AND). Every value here has been validated."""
    c = p.criteria
    clauses = [f"agency_id = {int(p.agency_id)}"]
    if p.visibility is not None:
        clauses.append("visibility IN [" + ", ".join(_quote(t) for t in p.visibility) + "]")
    if not c.include_active:
        clauses.append("has_active = false")
    if p.job_ids is not None:
        if not p.job_ids:
            clauses.append("job_ids IN [-1]")  # a job filter nothing matches
        elif p.stage_position is not None:
            clauses.append(
                "job_stage_keys IN [" + ", ".join(_quote(f"{int(j)}:{int(p.stage_position)}") for j in p.job_ids) + "]"
            )
        else:
            clauses.append("job_ids IN [" + ", ".join(str(int(j)) for j in p.job_ids) + "]")
    elif p.stage_position is not None:
        clauses.append(f"max_stage >= {int(p.stage_position)}")
    for tag in c.tags:
        clauses.append(f"tags = {_quote(tag)}")
    if c.reasons:
        clauses.append("reason_ids IN [" + ", ".join(str(int(r)) for r in c.reasons) + "]")
    if c.min_positive is not None:
        clauses.append(f"positive_ratio >= {int(c.min_positive)}")
    if c.exclude_strong_no:
        clauses.append("has_strong_no = false")
    if p.before_ts is not None:
        clauses.append(f"last_in_process_at < {p.before_ts}")
    if p.after_ts is not None:
        clauses.append(f"last_in_process_at >= {p.after_ts}")
    if c.location:
        clauses.append(f"location = {_quote(c.location)}")
    if c.source:
        clauses.append(f"sources = {_quote(c.source)}")
    return clauses


def matches(doc: dict, p: Plan, check_text: bool = True) -> bool:
    """The same rules as ``meili_filter`` (and exact word matching) on one document."""
    c = p.criteria
    if doc["agency_id"] != p.agency_id:
        return False
    if p.visibility is not None and not set(doc["visibility"]) & set(p.visibility):
        return False
    if not c.include_active and doc["has_active"]:
        return False
    if p.job_ids is not None:
        if p.stage_position is not None:
            if not {f"{j}:{p.stage_position}" for j in p.job_ids} & set(doc["job_stage_keys"]):
                return False
        elif not set(p.job_ids) & set(doc["job_ids"]):
            return False
    elif p.stage_position is not None and (doc["max_stage"] is None or doc["max_stage"] < p.stage_position):
        return False
    if not set(c.tags) <= set(doc["tags"]):
        return False
    if c.reasons and not set(c.reasons) & set(doc["reason_ids"]):
        return False
    if c.min_positive is not None and (doc["positive_ratio"] is None or doc["positive_ratio"] < c.min_positive):
        return False
    if c.exclude_strong_no and doc["has_strong_no"]:
        return False
    last = doc["last_in_process_at"]
    if p.before_ts is not None and (last is None or last >= p.before_ts):
        return False
    if p.after_ts is not None and (last is None or last < p.after_ts):
        return False
    if c.location and doc["location"] != c.location:
        return False
    if c.source and c.source not in doc["sources"]:
        return False
    return not check_text or _text_matches(doc, p.words)


def _text_matches(doc: dict, words: list[str]) -> bool:
    """Every word appears as a word of the searchable text; the last may be a prefix (as typed)."""
    if not words:
        return True
    texts = []
    for name in TEXT_FIELDS:
        value = doc.get(name)
        texts.append(" ".join(value) if isinstance(value, list) else (value or ""))
    return text_has_words("\n".join(texts), words)


def text_has_words(text: str, words: list[str]) -> bool:
    """``_text_matches`` over one string (the searchable fields joined by a non-word character).
    A whole word is an occurrence with no word character on either side, a prefix one with none
    before it: the same answer as splitting the text into its ``\\w+`` words, found by a scan
    instead of building the set of every word of a long resume (the degraded search checks a page
    of them)."""
    if not words:
        return True
    lowered = text.lower()
    *whole, last = words
    return all(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered) for word in whole) and (
        re.search(rf"(?<!\w){re.escape(last)}", lowered) is not None
    )


# Per Meilisearch address (an app, or two apps in one process as in the benchmark): until when
# (time.monotonic) searches skip it after it could not be reached.
_unreachable_until: dict[str, float] = {}
_unreachable_lock = threading.Lock()


def search_candidates(who, criteria: Criteria) -> SearchResult:
    """One page of candidates for ``who``: Meilisearch, or the database when it is unreachable.
    Once Meilisearch could not be reached, the next ``MEILI_RETRY_AFTER_MS`` of searches go
    straight to the database (the first one after that tries Meilisearch again)."""
    p = plan(who, criteria)
    address = current_app.config["MEILI_URL"]
    if monotonic_time.monotonic() >= _unreachable_until.get(address, 0.0):
        try:
            return _search_meili(p)
        except MeilisearchError as exc:  # unreachable, timed out, or no index yet: degrade, never break the page
            if isinstance(exc, MeilisearchApiError) and exc.code != "index_not_found":
                log.exception("search failed; serving the database results")
            else:
                log.warning("search degraded: %s", exc)
            if isinstance(exc, MeilisearchCommunicationError | MeilisearchTimeoutError):
                pause = current_app.config["MEILI_RETRY_AFTER_MS"] / 1000
                with _unreachable_lock:
                    _unreachable_until[address] = monotonic_time.monotonic() + pause
    # The column names are read inside the degraded search's time budget: a blocked read of them
    # must end in the "took too long" message like any other statement of the search.
    return search_database(
        p,
        decorate=lambda result: _decorate(who, result),
        visible_jobs=jobs_query(who).with_only_columns(Job.id, Job.title),
    )


def _search_meili(p: Plan) -> SearchResult:
    from search_sync.client import meili_client
    from search_sync.settings import index_name

    c = p.criteria
    params = {
        "filter": meili_filter(p),
        "facets": list(FACETS),
        "page": c.page,
        "hitsPerPage": PAGE_SIZE,
        "matchingStrategy": "all",
        "attributesToRetrieve": RETRIEVE,
    }
    if c.sort == "last_in_process":
        params["sort"] = ["last_in_process_at:desc"]
    response = meili_client().index(index_name()).search(" ".join(p.words), params)
    hits = recheck(p, response["hits"])
    total = response.get("totalHits", 0)
    return SearchResult(
        hits=hits,
        total=total,
        page=c.page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        facets={k: dict(v) for k, v in response.get("facetDistribution", {}).items()},
    )


def recheck(p: Plan, hits: list[dict]) -> list[dict]:
    """Keep the hits that the database still allows this principal to see, in order.

    An update takes a moment to become searchable: a candidate hired, made private, deleted or
    moved onto a confidential job a second ago must not be shown. Two queries, from the same
    rules as the document builder (agency, private, hired, visibility, active).
    """
    ids = [hit["candidate_id"] for hit in hits]
    if not ids:
        return []
    added_by = dict(
        db.session.execute(
            select(Candidate.id, User.name)
            .outerjoin(User, User.id == Candidate.added_by_id)
            .where(Candidate.id.in_(ids), Candidate.agency_id == p.agency_id, Candidate.private.is_(False))
        )
        .tuples()
        .all()
    )
    applications: dict[int, list] = {}
    for candidate_id, job_id, outcome, confidential, title in db.session.execute(
        select(Application.candidate_id, Application.job_id, Application.outcome, Job.confidential, Job.title)
        .join(Job, Job.id == Application.job_id)
        .where(Application.candidate_id.in_(list(added_by)))
    ):
        applications.setdefault(candidate_id, []).append((job_id, outcome, confidential, title))
    kept = []
    for hit in hits:
        rows = applications.get(hit["candidate_id"], [])
        if hit["candidate_id"] not in added_by or any(outcome == "hired" for _, outcome, _, _ in rows):
            continue
        if not p.criteria.include_active and any(outcome is None for _, outcome, _, _ in rows):
            continue
        visible = {f"job:{job_id}" for job_id, _, confidential, _ in rows if confidential}
        if not rows or any(not confidential for _, _, confidential, _ in rows):
            visible.add("public")
        if p.visibility is not None and not visible & set(p.visibility):
            continue
        # The columns' names, shown only for jobs this principal may see.
        latest_job = (hit.get("latest") or {}).get("job_id")
        hit["latest_job"] = next(
            (
                title
                for job_id, _, confidential, title in rows
                if job_id == latest_job
                and (not confidential or p.visibility is None or f"job:{job_id}" in p.visibility)
            ),
            None,
        )
        hit["added_by"] = "ATS import" if hit.get("added_via") == "import" else added_by[hit["candidate_id"]] or "User"
        kept.append(hit)
    return kept


def search_database(p: Plan, decorate=None, visible_jobs=None) -> SearchResult:
    """The degraded path: exact (no typo tolerance) results from the database, same rules
    (``search_database.py``: filtered, sorted and paged in SQL, bounded in concurrency and time);
    ``decorate(result)`` runs within the same bounds (the column names, when the ranking statement
    did not read them with ``visible_jobs``)."""
    from .search_database import search_database as from_database

    return from_database(p, decorate, visible_jobs)


def name_columns(hit: dict, added_by: str | None, latest_job: str | None) -> None:
    """The hit's column names: who added the person ("ATS import" for an import, "User" when the
    user is gone) and the latest application's job title (None when there is none to show)."""
    hit["added_by"] = "ATS import" if hit.get("added_via") == "import" else "User" if added_by is None else added_by
    hit["latest_job"] = latest_job if hit.get("latest") else None


def _decorate(who, result: SearchResult) -> None:
    """Names for the columns: who added each person and the latest application's job title."""
    if not result.hits:
        return  # nothing to name (and a busy or over-budget degraded search must not query more)
    added = [hit["candidate_id"] for hit in result.hits if hit.get("added_via") != "import"]
    job_ids = {hit["latest"]["job_id"] for hit in result.hits if hit.get("latest")}
    # One statement for both (each round trip counts in the degraded search's time).
    parts = []
    if added:
        parts.append(
            select(literal("added_by"), Candidate.id, User.name)
            .join(User, User.id == Candidate.added_by_id)
            .where(Candidate.id.in_(added))
        )
    if job_ids:
        parts.append(jobs_query(who).where(Job.id.in_(job_ids)).with_only_columns(literal("job"), Job.id, Job.title))
    added_by: dict[int, str] = {}
    titles: dict[int, str] = {}
    for kind, key, name in db.session.execute(union_all(*parts)) if parts else ():
        (added_by if kind == "added_by" else titles)[key] = name
    for hit in result.hits:
        latest = hit.get("latest")
        name_columns(hit, added_by.get(hit["candidate_id"]), titles.get(latest["job_id"]) if latest else None)


def add_to_shortlist(who, job_id: int | None, candidate_ids: list[int]) -> int:
    """Put candidates on a job (``pipeline.add_application``, at its first stage); ones already on
    the job are left alone. Returns how many applications were created."""
    job = db.session.scalar(jobs_query(who).where(Job.id == job_id)) if job_id else None
    if job is None:
        raise ServiceError("Choose a job.", field="job_id")
    if not candidate_ids:
        raise ServiceError("Select at least one candidate.", field="candidate")
    # The same people search may show: visible to this user (confidential jobs), not private, not hired.
    hired = exists().where(Application.candidate_id == Candidate.id, Application.outcome == "hired")
    candidates = list(
        db.session.scalars(
            candidates_query(who)
            .where(Candidate.id.in_(candidate_ids), Candidate.private.is_(False), ~hired)
            .order_by(Candidate.id)
        )
    )
    if len(candidates) != len(set(candidate_ids)):
        raise ServiceError("Some selected candidates no longer exist.", field="candidate")
    on_the_job = set(
        db.session.scalars(
            select(Application.candidate_id).where(
                Application.job_id == job.id, Application.candidate_id.in_([c.id for c in candidates])
            )
        )
    )
    created = 0
    for candidate in candidates:
        if candidate.id not in on_the_job:
            add_application(job, candidate, who, source="Rediscovery")
            created += 1
    return created

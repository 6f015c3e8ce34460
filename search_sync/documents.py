"""Turn a person and all their applications into one search document (S1, S4).

Facts tied to one job use composite keys (``job_stage_keys: ["143:0", "143:1"]``) because
Meilisearch flattens arrays of objects: ``applications.job_id = 5 AND applications.stage >= 4``
would match job 5 at stage 1 plus job 7 at stage 4. Person-level aggregates come from the
person's non-confidential applications whenever they have one, so a recruiter who sees the
person through a public application learns nothing (filters, facets, columns) about the
confidential ones.
"""

import hashlib
import io
import json
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import undefer

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
    StageDefinition,
    StageHistory,
    as_utc,
)
from search_sync.settings import SEARCHABLE

log = logging.getLogger(__name__)

Execute = Callable[..., Any]  # ``db.session.execute`` or a ``Connection.execute``: runs a select

RESUME_CHARS = 10_000  # well under Meilisearch's 65,535 positions per attribute; the full text stays in the DB
POSITIVE = ("strong_yes", "yes")
MAX_DOCUMENT_BYTES = 256 * 1024


def document_id(agency_id: int, candidate_id: int) -> str:
    """The primary key: one shared index, so the agency is part of it."""
    return f"a{agency_id}-c{candidate_id}"


def unix(moment: datetime | None) -> int | None:
    """Dates are stored as unix seconds and compared at query time (never a derived flag)."""
    return int(as_utc(moment).timestamp()) if moment else None


def pdf_text(content: bytes) -> str:
    """Text of a PDF resume (pypdf); an unreadable file yields no text rather than an error."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, OSError) as exc:
        log.warning("resume PDF unreadable: %s", exc)
        return ""


@dataclass
class Built:
    """The outcome of building a batch: documents to upsert, ids to delete, ids refused."""

    documents: list[dict] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # document id -> reason


def build(keys: set[tuple[int, int]]) -> Built:
    """Documents for (agency_id, candidate_id) pairs from current database state.

    A candidate that no longer exists, is private or was hired becomes a deletion: rebuilding
    from the database makes replays and reordering of outbox rows harmless.
    """
    built = Built()
    if not keys:
        return built
    ids = sorted({candidate_id for _, candidate_id in keys})
    candidates = _people(ids, db.session.execute)
    facts = _application_facts(list(candidates), db.session.execute)
    resumes, _ = _resume_texts(list(candidates), db.session.execute)
    for agency_id, candidate_id in sorted(keys):
        candidate = candidates.get(candidate_id)
        doc_id = document_id(agency_id, candidate_id)
        if candidate is None or candidate.agency_id != agency_id:
            built.deletions.append(doc_id)
            continue
        applications = facts.get(candidate_id, [])
        if candidate.private or any(a["outcome"] == "hired" for a in applications):
            built.deletions.append(doc_id)
            continue
        document = with_hash(candidate_document(candidate, applications, resumes.get(candidate_id, "")))
        problem = validate(document)
        if problem:
            built.invalid[doc_id] = problem
        else:
            built.documents.append(document)
    return built


FACETS = ("tags", "reason_ids", "location", "sources")  # the facet counts a search page shows
FACET_SEPARATOR = "\x1f"  # between a facet's name and a value in ``facet_values``
UNSTORED = ("content_hash", "resume_text")  # left out of the stored form


@dataclass
class Stored:
    """What ``candidate_search_text`` keeps of a listed candidate's document, for the degraded search.

    ``document``: the document's JSON without ``resume_text`` (the row's ``text`` holds the
    searchable part of it already) and without its hash. ``document_bytes``: the full document's
    size as ``validate`` measures it, so the reader applies the size limit in force; None when the
    newest resume has no stored text (the full document reads the PDF: too slow for a write, so the
    reader builds that document as before). ``facet_values``: a JSON list of ``"<facet>\x1f<value>"``,
    one per value ``document_facets`` would count, so SQL can count them (``json_each``).
    """

    document: str
    document_bytes: int | None
    facet_values: str
    plain_words: bool


def plain_words(text: str) -> bool:
    """Every word character of ``text`` is ASCII; any other character is punctuation, a space, a
    symbol or a control (not private use). Python's ``\\w``, SQLite FTS5's unicode61 tokenizer and
    PostgreSQL's ``[^a-zA-Z0-9]`` all split such text into the same words (but for "_", which only
    Python joins words with), folding only ASCII case: a word index is exact there."""
    for ch in set(text):
        if ch.isascii():
            continue
        category = unicodedata.category(ch)
        if category[0] not in "PZSC" or category == "Co" or re.match(r"\w", ch):
            return False
    return True


def facet_values(document: dict) -> list[str]:
    """Every (facet, value) the document counts in, as Meilisearch counts facets."""
    found = []
    for name in FACETS:
        value = document[name]
        for item in value if isinstance(value, list) else [value] if value is not None else []:
            found.append(f"{name}{FACET_SEPARATOR}{item}")
    return found


def stored(execute: Execute, candidate_ids: list[int]) -> dict[int, Stored]:
    """The stored form of these candidates' documents (listed ones only: private, hired and deleted
    people have no document), read with ``execute`` (the writing transaction's connection)."""
    people = _people(candidate_ids, execute)
    facts = _application_facts(list(people), execute)
    resumes, pdf_only = _resume_texts(list(people), execute, read_pdf=False)
    found: dict[int, Stored] = {}
    for candidate_id, person in people.items():
        applications = facts.get(candidate_id, [])
        if person.private or any(a["outcome"] == "hired" for a in applications):
            continue
        document = with_hash(candidate_document(person, applications, resumes.get(candidate_id, "")))
        size = None if candidate_id in pdf_only else len(json.dumps(document))
        kept = {key: value for key, value in document.items() if key not in UNSTORED}
        searchable = [document[name] for name in SEARCHABLE]
        found[candidate_id] = Stored(
            document=json.dumps(kept, ensure_ascii=False, separators=(",", ":")),
            document_bytes=size,
            facet_values=json.dumps(facet_values(kept), ensure_ascii=False, separators=(",", ":")),
            plain_words=plain_words("\n".join(v if isinstance(v, str) else "\n".join(v) for v in searchable)),
        )
    return found


@dataclass
class Person:
    """The candidate columns a document needs (plain rows: ORM objects cost half the build time)."""

    id: int
    agency_id: int
    first_name: str
    last_name: str
    headline: str | None
    current_title: str | None
    current_company: str | None
    skills: str | None
    location: str | None
    source: str | None
    added_via: str
    private: bool
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name or ''}".strip()


def _people(ids: list[int], execute: Execute) -> dict[int, Person]:
    people: dict[int, Person] = {}
    columns = [getattr(Candidate, name) for name in Person.__dataclass_fields__ if name not in ("emails", "tags")]
    for chunk in _chunks(ids, 500):
        for row in execute(select(*columns).where(Candidate.id.in_(chunk))):
            people[row.id] = Person(*row)
        for candidate_id, email in execute(
            select(CandidateEmail.candidate_id, CandidateEmail.email)
            .where(CandidateEmail.candidate_id.in_(chunk))
            .order_by(CandidateEmail.id)
        ):
            people[candidate_id].emails.append(email)
        for candidate_id, tag in execute(
            select(CandidateTag.candidate_id, CandidateTag.tag).where(CandidateTag.candidate_id.in_(chunk))
        ):
            people[candidate_id].tags.append(tag)
    return people


HASH_FIELD = "content_hash"


def content_hash(document: dict) -> str:
    """sha256 of the document's canonical JSON (sorted keys, no spaces), its own hash left out:
    ``flask search check`` compares it with the hash stored in the index."""
    body = {key: value for key, value in document.items() if key != HASH_FIELD}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def with_hash(document: dict) -> dict:
    """The document with its ``content_hash`` field set."""
    document[HASH_FIELD] = content_hash(document)
    return document


def validate(document: dict) -> str | None:
    """Why Meilisearch would refuse (or choke on) this document, checked before sending."""
    size = len(json.dumps(document))
    limit = _max_document_bytes()
    if size > limit:
        return f"document is {size} bytes, over the {limit}-byte limit"
    return None


def _max_document_bytes() -> int:
    from flask import current_app

    return int(current_app.config.get("SEARCH_MAX_DOCUMENT_BYTES", MAX_DOCUMENT_BYTES))


def candidate_document(candidate: Person, applications: list[dict], resume_text: str) -> dict:
    """One person's document from their row and their applications' facts."""
    public = [a for a in applications if not a["confidential"]]
    # The aggregates' source: public applications when there are any (see the module docstring).
    scope = public or applications
    visibility = (["public"] if public or not applications else []) + sorted(
        {f"job:{a['job_id']}" for a in applications if a["confidential"]}
    )
    scorecards = [verdict for a in scope for verdict in a["verdicts"]]
    latest = max(scope, key=lambda a: (a["last_activity_at"] or 0, a["id"])) if scope else None
    sources = {a["source"] for a in scope if a["source"]}
    if candidate.source:
        sources.add(candidate.source)
    return {
        "id": document_id(candidate.agency_id, candidate.id),
        "agency_id": candidate.agency_id,
        "candidate_id": candidate.id,
        "name": candidate.name,
        "headline": candidate.headline or "",
        "current_title": candidate.current_title or "",
        "current_company": candidate.current_company or "",
        "skills": candidate.skills or "",
        "tags": sorted(candidate.tags),
        "emails": list(candidate.emails),
        "location": candidate.location or None,
        "added_via": candidate.added_via,
        "resume_text": resume_text[:RESUME_CHARS],
        "visibility": visibility,
        # Any open application, confidential or not: excluding is the safe direction.
        "has_active": any(a["outcome"] is None for a in applications),
        "job_ids": sorted({a["job_id"] for a in applications}),
        "job_stage_keys": sorted({f"{a['job_id']}:{p}" for a in applications for p in range(a["reached"] + 1)}),
        "reason_ids": sorted({a["reason_id"] for a in scope if a["outcome"] and a["reason_id"]}),
        "max_stage": max((a["reached"] for a in scope), default=None),
        "positive_ratio": (
            round(100 * sum(v in POSITIVE for v in scorecards) / len(scorecards), 2) if scorecards else None
        ),
        "has_strong_no": "strong_no" in scorecards,
        "sources": sorted(sources),
        "last_in_process_at": latest["last_activity_at"] if latest else None,
        "latest": {
            "job_id": latest["job_id"],
            "source": latest["source"],
            "stage": latest["stage_name"],
            "reason": latest["reason_label"],
            "outcome": latest["outcome"],
            "scorecards": {
                v: latest["verdicts"].count(v)
                for v in ("strong_yes", "yes", "no", "strong_no")
                if v in latest["verdicts"]
            },
        }
        if latest
        else None,
    }


def _application_facts(candidate_ids: list[int], execute: Execute) -> dict[int, list[dict]]:
    """Per candidate: each application's job, outcome, furthest stage, reason, verdicts, dates."""
    facts: dict[int, list[dict]] = defaultdict(list)
    if not candidate_ids:
        return facts
    for chunk in _chunks(candidate_ids, 500):
        rows = execute(
            select(
                Application.id,
                Application.candidate_id,
                Application.job_id,
                Application.outcome,
                Application.reason_id,
                Application.source,
                Application.last_activity_at,
                Job.confidential,
                StageDefinition.position,
                StageDefinition.name,
                Reason.label,
            )
            .join(Job, Job.id == Application.job_id)
            .join(StageDefinition, StageDefinition.id == Application.stage_id)
            .outerjoin(Reason, Reason.id == Application.reason_id)
            .where(Application.candidate_id.in_(chunk))
        ).all()
        if not rows:
            continue
        app_ids = [r.id for r in rows]
        history = _furthest_from_history(app_ids, execute)
        verdicts = defaultdict(list)
        for app_id, verdict in execute(
            select(Scorecard.application_id, Scorecard.verdict)
            .where(Scorecard.application_id.in_(app_ids))
            .order_by(Scorecard.id)
        ):
            verdicts[app_id].append(verdict)
        for r in rows:
            reached, reached_name = max((r.position, r.name), history.get(r.id, (-1, "")))
            facts[r.candidate_id].append(
                {
                    "id": r.id,
                    "job_id": r.job_id,
                    "outcome": r.outcome,
                    "reason_id": r.reason_id,
                    "reason_label": r.label,
                    "source": r.source,
                    "last_activity_at": unix(r.last_activity_at),
                    "confidential": bool(r.confidential),
                    "reached": reached,
                    "stage_name": reached_name,
                    "verdicts": verdicts.get(r.id, []),
                }
            )
    return facts


def _furthest_from_history(application_ids: list[int], execute: Execute) -> dict[int, tuple[int, str]]:
    """The furthest stage each application ever reached, so a later move back keeps "reached X"."""
    furthest: dict[int, tuple[int, str]] = {}
    for app_id, position, name in execute(
        select(StageHistory.application_id, StageDefinition.position, StageDefinition.name)
        .join(StageDefinition, StageDefinition.id == StageHistory.to_stage_id)
        .where(StageHistory.application_id.in_(application_ids))
    ):
        furthest[app_id] = max(furthest.get(app_id, (-1, "")), (position, name))
    return furthest


def _resume_texts(candidate_ids: list[int], execute: Execute, read_pdf: bool = True) -> tuple[dict[int, str], set[int]]:
    """The newest resume's text per candidate, extracted from the PDF when no text was stored; and
    the candidates whose newest resume has no stored text (their PDF is read only if ``read_pdf``)."""
    texts: dict[int, str] = {}
    missing: list[int] = []
    pdf_only: set[int] = set()
    for chunk in _chunks(candidate_ids, 500):
        for resume_id, candidate_id, text in execute(
            select(Resume.id, Resume.candidate_id, Resume.text)
            .where(Resume.candidate_id.in_(chunk))
            .order_by(Resume.id)
        ):
            if text:
                texts[candidate_id] = text
                pdf_only.discard(candidate_id)
            else:
                texts.pop(candidate_id, None)
                missing.append(resume_id)
                pdf_only.add(candidate_id)
    if not read_pdf or not missing:
        return texts, pdf_only
    for resume in db.session.scalars(select(Resume).where(Resume.id.in_(missing)).options(undefer(Resume.content))):
        if resume.candidate_id not in texts and resume.content:
            texts[resume.candidate_id] = pdf_text(resume.content)
    return texts, pdf_only


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]

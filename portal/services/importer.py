"""Import past applicants from CSV or an ATS-style JSON export (S6).

Idempotent: candidates, jobs and applications are keyed by ``external_id``, so importing the
same file twice changes nothing. People are merged by e-mail (case-insensitive) with anyone the
agency already has, so every candidate row needs a valid address; a merge never renames someone
the agency typed in (the name is kept and the row says so), and every change an import makes to
a person already there is reported by row. A bad row is reported with its position and reason and skipped (a savepoint
undoes its half-written rows); the good rows are kept, for the caller's unit of work to commit:
a batch of rows at a time when the caller hands over its unit of work (``batch=``), so that a
long file does not hold SQLite's one write lock from start to end.

An import by a recruiter (``by_user``, not an admin) reaches only what they may see: a row naming
a job outside their jobs, or merging into a person they cannot see, is refused without naming
either; on their jobs the file cannot change who may see it (``confidential``, ``hiring_team``:
kept, and the report says so); a job the file creates is theirs, as the job form makes it.
"""

import csv
import io
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, overload

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import (
    Agency,
    Application,
    Candidate,
    CandidateEmail,
    CandidateTag,
    ClientCompany,
    Job,
    Reason,
    Resume,
    Scorecard,
    StageDefinition,
    StageHistory,
    User,
)
from ..models.applications import VERDICTS
from ..scoping import candidates_query, jobs_query
from . import ServiceError, application_status, suppression
from .audit import record_audit
from .pipeline import add_application
from .validation import email_problem

STATUSES = {"active": None, "rejected": "rejected_by_agency", "hired": "hired", "withdrawn": "withdrawn"}
MAX_ROWS = 200_000
PROGRESS_EVERY = 50

# One row of the file: where it is ("candidates[3]", "line 5"), what imports it, the row itself.
Row = tuple[str, Callable[[dict], object], object]


class RowError(Exception):
    """Why one row cannot be imported."""


@dataclass
class ImportReport:
    """What an import did: counts of created/updated rows and the rows refused."""

    candidates_created: int = 0
    candidates_updated: int = 0
    jobs_created: int = 0
    applications_created: int = 0
    applications_updated: int = 0
    problems: list[str] = field(default_factory=list)
    # What the import changed on people the agency already had, one line per row ("line 3: …").
    changes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI and the upload page."""
        return (
            f"{self.candidates_created} candidate(s) created, {self.candidates_updated} updated; "
            f"{self.jobs_created} job(s) created; {self.applications_created} application(s) created, "
            f"{self.applications_updated} updated; {len(self.problems)} row(s) refused."
        )


def import_file(
    agency: Agency,
    filename: str,
    content: bytes,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    batch: Callable[[], AbstractContextManager[object]] = nullcontext,
    batch_size: int = 200,
    by_user: User | None = None,
    override_suppression: bool = False,
) -> ImportReport:
    """Import a ``.csv`` or ``.json`` file's bytes into ``agency``.

    ``batch`` is the caller's unit of work, entered once for every ``batch_size`` rows: it
    commits them, so other writers get the database between batches, and if it fails (the
    database refuses the commit, or stays locked) only that batch is undone and reported. The
    default (no transaction of its own) leaves every good row for the caller to commit.

    A refused file (not UTF-8, not CSV or JSON, malformed) raises ``ServiceError`` before any
    row is written; a refused row is undone on its own and reported in ``ImportReport.problems``.

    ``by_user`` is who imports: None (the CLI) or an admin import across the agency; anyone else
    within what they may see (see the module's notes).

    A row bringing back an address of someone who was erased (``portal.services.suppression``)
    is refused and reported by position, unless ``override_suppression``: then it is imported and
    the override is in the audit log, one entry per such row.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError("The file is not UTF-8 text.", field="file") from exc
    importer = _Importer(agency, on_progress, by_user, override_suppression)
    if filename.lower().endswith(".json"):
        rows = importer.json_rows(text)
    elif filename.lower().endswith(".csv"):
        rows = importer.csv_rows(text)
    else:
        raise ServiceError("Upload a .csv or .json file.", field="file")
    for start in range(0, len(rows), batch_size):
        importer.run_batch(rows[start : start + batch_size], start, len(rows), batch)
    _audit(agency, by_user, len(rows), importer.report, batch)
    return importer.report


def _audit(
    agency: Agency,
    by_user: User | None,
    rows: int,
    report: ImportReport,
    batch: Callable[[], AbstractContextManager[object]],
) -> None:
    """The audit log's entry for the import (counts only, issue 16), in a unit of work of its own
    after the rows': the rows are saved by then, so a database that refuses the entry is
    reported with the rows, not raised as if nothing had been saved."""
    try:
        with batch():
            record_audit(
                "import_run",
                agency_id=agency.id,
                actor=by_user,
                rows=rows,
                created=report.candidates_created + report.jobs_created + report.applications_created,
                updated=report.candidates_updated + report.applications_updated,
                errors=len(report.problems),
            )
    except SQLAlchemyError as exc:
        report.problems.append(f"The audit log's entry for this import was not saved ({_reason(exc)}).")


@dataclass(frozen=True)
class _Checkpoint:
    """What the importer knew before a row or a batch, to forget what a rollback undid. The
    reference registers only grow (a second row with a known external_id is refused), so their
    lengths say which entries came later."""

    counts: dict
    changes: int
    jobs: int
    candidates: int
    applications: int


class _Importer:
    def __init__(self, agency: Agency, on_progress, by_user: User | None = None, override_suppression: bool = False):
        self.agency = agency
        self.by_user = by_user
        self.override_suppression = override_suppression
        # Most agencies have erased nobody: then no row needs the suppression look-up.
        self.suppressions = suppression.any_suppressed(agency.id)
        # A recruiter's import: scoped to what they may see (None: the CLI or an admin, the agency).
        self.limited_to = by_user if by_user is not None and not by_user.is_admin else None
        self.on_progress = on_progress or (lambda done, total: None)
        self.report = ImportReport()
        self.stages = {
            s.name.lower(): s
            for s in db.session.scalars(
                select(StageDefinition).where(StageDefinition.agency_id == agency.id).order_by(StageDefinition.position)
            )
        }
        self.ordered_stages = sorted(self.stages.values(), key=lambda s: s.position)
        self.fallback_owner = db.session.scalar(
            select(User).where(User.agency_id == agency.id).order_by(User.role, User.id).limit(1)
        )
        # External ids imported so far, across batches: a second row with one is refused, and an
        # application finds the candidate and job rows it names. (Only ever added to, in file
        # order; application_refs is a dict for that order.)
        self.jobs_by_ref: dict[str, Job] = {}
        self.candidates_by_ref: dict[str, Candidate] = {}
        self.application_refs: dict[str, None] = {}
        self.where = ""  # the row being imported, for the changes it reports

    def json_rows(self, text: str) -> list[Row]:
        """The export's rows in file order: jobs, then the candidates, then the applications that
        refer to them (so a later batch finds what an earlier one imported)."""
        try:
            export = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ServiceError(f"The JSON is not valid: {exc.msg} at line {exc.lineno}.", field="file") from exc
        except RecursionError as exc:  # nesting deeper than the parser's stack: no export looks like this
            raise ServiceError("The JSON is nested too deeply to be an export.", field="file") from exc
        if not isinstance(export, dict):
            raise ServiceError('The JSON must be an object with "jobs", "candidates" and "applications".', field="file")
        sections = [(name, export.get(name) or []) for name in ("jobs", "candidates", "applications")]
        for name, rows in sections:
            if not isinstance(rows, list):
                raise ServiceError(f'"{name}" must be a list.', field="file")
        if sum(len(rows) for _, rows in sections) > MAX_ROWS:
            raise ServiceError(f"At most {MAX_ROWS} rows per file.", field="file")
        handlers = {"jobs": self._json_job, "candidates": self._json_candidate, "applications": self._json_application}
        return [
            (f"{name}[{position}]", handlers[name], row) for name, rows in sections for position, row in enumerate(rows)
        ]

    def csv_rows(self, text: str) -> list[Row]:
        """The CSV's rows, each named by its line (line 1 is the header)."""
        reader = csv.DictReader(io.StringIO(text))
        try:
            missing = {"first_name", "emails"} - set(reader.fieldnames or [])
            if missing:
                raise ServiceError(f"The CSV needs the column(s): {', '.join(sorted(missing))}.", field="file")
            rows = list(reader)
        except csv.Error as exc:  # a field over csv's size limit (128 KiB), a stray quote in strict dialects
            line = reader.line_num + 1  # the line being read when it failed
            raise ServiceError(f"The CSV could not be read at line {line}: {exc}.", field="file") from exc
        if len(rows) > MAX_ROWS:
            raise ServiceError(f"At most {MAX_ROWS} rows per file.", field="file")
        return [(f"line {number}", self._csv_row, row) for number, row in enumerate(rows, start=2)]

    def run_batch(
        self, rows: list[Row], done: int, total: int, batch: Callable[[], AbstractContextManager[object]]
    ) -> None:
        """Import ``rows`` (the file's rows from position ``done`` on) in one of the caller's units
        of work. If the unit of work fails as a whole, its rows are reported and forgotten (their
        counts, their external_ids), and the import goes on with the next batch."""
        before = self._checkpoint()
        try:
            with batch():
                for where, handler, row in rows:
                    self._guarded(where, handler, row)
                    done += 1
                    if done % PROGRESS_EVERY == 0 or done == total:
                        self.on_progress(done, total)
        except SQLAlchemyError as exc:
            self._restore(before)
            self.report.problems.append(
                f"{rows[0][0]} to {rows[-1][0]}: not saved, the database refused the batch ({_reason(exc)}); "
                "import the file again to add these rows"
            )

    def _guarded(self, where: str, handler, row) -> None:
        """Import one row inside a savepoint: a refused row leaves nothing behind."""
        before = self._checkpoint()
        try:
            with db.session.begin_nested():
                if not isinstance(row, dict):
                    raise RowError("expected an object")
                self.where = where
                handler(row)
        except (RowError, ServiceError, ValueError, TypeError, SQLAlchemyError) as exc:
            # The row's counts go with its rows; the references it registered too.
            self._restore(before)
            if isinstance(exc, SQLAlchemyError):
                # Whatever the checks above missed, the database refused: this row only.
                self.report.problems.append(f"{where}: the database refused it ({_reason(exc)})")
            else:
                self.report.problems.append(f"{where}: {exc}")

    def _checkpoint(self) -> _Checkpoint:
        counts = {name: value for name, value in vars(self.report).items() if isinstance(value, int)}
        return _Checkpoint(
            counts,
            len(self.report.changes),
            len(self.jobs_by_ref),
            len(self.candidates_by_ref),
            len(self.application_refs),
        )

    def _restore(self, before: _Checkpoint) -> None:
        """Forget what was registered since ``before``: a rollback undid those rows."""
        vars(self.report).update(before.counts)
        del self.report.changes[before.changes :]
        for refs, kept in (
            (self.jobs_by_ref, before.jobs),
            (self.candidates_by_ref, before.candidates),
            (self.application_refs, before.applications),
        ):
            for ref in list(refs)[kept:]:
                del refs[ref]

    def _csv_row(self, row: dict) -> None:
        row = {k: (v or "").strip() for k, v in row.items() if k}
        candidate = self._json_candidate(
            {
                "external_id": row.get("external_id") or None,
                "first_name": row.get("first_name"),
                "last_name": row.get("last_name"),
                "emails": _split(row.get("emails")),
                "phone": row.get("phone"),
                "headline": row.get("headline"),
                "current_title": row.get("current_title"),
                "current_company": row.get("current_company"),
                "location": row.get("location"),
                "tags": _split(row.get("tags")),
                "private": row.get("private", ""),
                "source": row.get("source"),
                "resume_text": row.get("resume_text"),
            }
        )
        if not (row.get("job_external_id") or row.get("job_title")):
            return
        job_ref = row.get("job_external_id") or f"title:{row.get('job_title')}"
        if job_ref not in self.jobs_by_ref:
            self._json_job(
                {
                    "external_id": job_ref,
                    "title": row.get("job_title") or job_ref,
                    "client": row.get("client") or "Imported",
                    "status": "closed",
                }
            )
        self._json_application(
            {
                "external_id": row.get("application_external_id")
                or f"{candidate.external_id or candidate.id}@{job_ref}",
                "candidate": candidate,
                "job": job_ref,
                "status": row.get("status") or "rejected",
                "furthest_stage": row.get("furthest_stage"),
                "rejection_reason": row.get("rejection_reason"),
                "source": row.get("application_source") or row.get("source"),
                "applied_at": row.get("applied_at"),
                "last_activity_at": row.get("last_activity_at"),
                "scorecards": [{"verdict": v} for v in _split(row.get("scorecards"))],
            }
        )

    def _json_job(self, row: dict) -> Job:
        ref = _text(row, "external_id", required=True, limit=_length(Job, "external_id"))
        if ref in self.jobs_by_ref:
            raise RowError(f"external_id {ref!r} appears earlier in the file")
        title = _text(row, "title", required=True, limit=_length(Job, "title"))
        status = (row.get("status") or "open").lower()
        if status not in ("open", "closed"):
            raise RowError(f"status must be open or closed, not {status!r}")
        job = db.session.scalar(select(Job).where(Job.agency_id == self.agency.id, Job.external_id == ref))
        if job is not None:
            self._may_see_job(job, ref)
        team = []
        for email in _list(row, "hiring_team"):
            user = db.session.scalar(
                select(User).where(User.agency_id == self.agency.id, User.email == str(email).strip().lower())
            )
            if user is None:
                raise RowError(f"hiring team member {email} is not a user of the agency")
            team.append(user)
        if self.limited_to is not None:
            return self._recruiters_job(job, row, ref, title, status, team)
        if job is None:
            owner = team[0] if team else self.fallback_owner
            if owner is None:
                raise RowError("the agency has no users to own the job")
            job = Job(
                agency_id=self.agency.id,
                company_id=self._company(_text(row, "client") or "Imported").id,
                owner_id=owner.id,
                external_id=ref,
            )
            db.session.add(job)
            self.report.jobs_created += 1
        job.title, job.status = title, status
        job.confidential = _flag(row, "confidential")
        if team:
            job.hiring_team = team
        elif not job.hiring_team:
            job.hiring_team = [db.session.get_one(User, job.owner_id)]
        self.jobs_by_ref[ref] = job
        return job

    def _recruiters_job(self, job: Job | None, row: dict, ref: str, title: str, status: str, team: list) -> Job:
        """A recruiter's job row: a new job is theirs (owner and team, as the job form makes it);
        on one of theirs, who may see it (``confidential``, ``hiring_team``) stays as it is."""
        me = self.limited_to
        assert me is not None
        kept = []
        if job is None:
            job = Job(
                agency_id=self.agency.id,
                company_id=self._company(_text(row, "client") or "Imported").id,
                owner_id=me.id,
                external_id=ref,
            )
            db.session.add(job)
            job.confidential = _flag(row, "confidential")
            job.hiring_team = [me]
            self.report.jobs_created += 1
            if team and team != [me]:
                kept.append("hiring team")
        else:
            if "confidential" in row and _flag(row, "confidential") != job.confidential:
                kept.append("confidential")
            if "hiring_team" in row and {u.id for u in team} != {u.id for u in job.hiring_team}:
                kept.append("hiring team")
            # Only its owner and team edit a job (as the job form); others just apply people to it.
            if (title, status) != (job.title, job.status) and not (job.owner_id == me.id or me in job.hiring_team):
                kept.append("title and status")
                title, status = job.title, job.status
        job.title, job.status = title, status
        if kept:
            self.report.changes.append(
                f"{self.where}: job {ref!r}: {' and '.join(kept)} not taken from the file "
                "(only an admin may change them)"
            )
        self.jobs_by_ref[ref] = job
        return job

    def _may_see_job(self, job: Job, ref: str) -> None:
        """Refuse a recruiter's row naming a job they may not see (without saying what it is)."""
        if self.limited_to is None:
            return
        if db.session.scalar(jobs_query(self.limited_to).with_only_columns(Job.id).where(Job.id == job.id)) is None:
            raise RowError(f"job {ref!r} is not one of your jobs")

    def _may_see_candidate(self, candidate: Candidate) -> None:
        """Refuse a recruiter's row reaching a person they may not see (without naming them)."""
        if self.limited_to is None or candidate.id is None:
            return
        visible = candidates_query(self.limited_to).with_only_columns(Candidate.id).where(Candidate.id == candidate.id)
        if db.session.scalar(visible) is None:
            raise RowError("its e-mail or external_id belongs to a person you cannot see; ask an admin to import it")

    def _json_candidate(self, row: dict) -> Candidate:
        ref = _text(row, "external_id", limit=_length(Candidate, "external_id"))
        if ref and ref in self.candidates_by_ref:
            raise RowError(f"external_id {ref!r} appears earlier in the file")
        first_name = _text(row, "first_name", required=True, limit=_length(Candidate, "first_name"))
        emails = list(dict.fromkeys(e.lower() for e in _list(row, "emails")))
        if not emails:
            raise RowError("no e-mail address (people are merged by e-mail, so every candidate needs one)")
        for email in emails:
            problem = email_problem(email)
            if problem:
                raise RowError(f"{email!r} is not a valid e-mail address ({problem})")
        candidate = None
        if ref:
            candidate = db.session.scalar(
                select(Candidate).where(Candidate.agency_id == self.agency.id, Candidate.external_id == ref)
            )
        owners = {}
        if emails:
            owners = dict(
                db.session.execute(
                    select(CandidateEmail.email, CandidateEmail.candidate_id).where(
                        CandidateEmail.agency_id == self.agency.id, CandidateEmail.email.in_(emails)
                    )
                )
                .tuples()
                .all()
            )
        arriving = [email for email in emails if email not in owners] if self.suppressions else []
        if not self.override_suppression and suppression.suppressed(self.agency.id, arriving):
            raise RowError(
                "an e-mail of this row belongs to a person who asked to be erased; "
                "import with the override to add them anyway"
            )
        by_email = set(owners.values())
        merged_by = None
        if candidate is None and by_email:
            if len(by_email) > 1:
                raise RowError("its e-mails belong to different people already")
            candidate = db.session.get(Candidate, by_email.pop())  # merged by e-mail
            merged_by = next(email for email in emails if email in owners)
        elif candidate is not None and by_email - {candidate.id}:
            raise RowError("an e-mail belongs to another person already")
        if candidate is not None:
            self._may_see_candidate(candidate)
        new = candidate is None
        if candidate is None:
            candidate = Candidate(agency_id=self.agency.id, first_name=first_name, added_via="import")
            db.session.add(candidate)
            self.report.candidates_created += 1
        elif ref not in self.candidates_by_ref:
            self.report.candidates_updated += 1
        before = _person_facts(candidate)
        if ref and candidate.external_id in (None, ref):
            candidate.external_id = ref
        last_name = _text(row, "last_name", limit=_length(Candidate, "last_name"))
        file_name = f"{first_name} {last_name or candidate.last_name}".strip()
        # A name the agency typed is the agency's; one an earlier import brought follows the file.
        name_kept = not new and candidate.added_via != "import" and file_name != candidate.name
        if not name_kept:
            candidate.first_name = first_name
            candidate.last_name = last_name or candidate.last_name or ""
        for name in ("phone", "headline", "current_title", "current_company", "location", "source"):
            value = _text(row, name, limit=_length(Candidate, name))
            if value:
                setattr(candidate, name, value)
        if "private" in row:
            candidate.private = _flag(row, "private")
        known = {e.email for e in candidate.emails}
        if arriving:
            db.session.flush()  # the candidate's id, for the audit entry of an override
            suppression.admit(self.agency.id, arriving, override=True, by_user=self.by_user, candidate_id=candidate.id)
        for email in emails:
            if email not in known:
                candidate.emails.append(CandidateEmail(agency_id=self.agency.id, email=email))
                known.add(email)
        have_tags = {t.tag for t in candidate.tags}
        for tag in _list(row, "tags"):
            tag = tag[:80]
            if tag and tag not in have_tags:
                candidate.tags.append(CandidateTag(tag=tag))
                have_tags.add(tag)
        if not new:
            changed = _changes(before, _person_facts(candidate))
            if name_kept:
                changed.insert(0, f'name kept as "{candidate.name}" (the file says "{file_name}")')
            if changed:
                how = f"merged by e-mail {merged_by}" if merged_by else f"already here as {ref or 'this person'}"
                self.report.changes.append(f"{self.where}: {before['name']} ({how}): {'; '.join(changed)}")
        resume_text = _text(row, "resume_text", limit=200_000)
        if resume_text:
            self._resume(candidate, resume_text)
        db.session.flush()
        if ref:
            self.candidates_by_ref[ref] = candidate
        return candidate

    def _resume(self, candidate: Candidate, text: str) -> None:
        existing = (
            db.session.scalar(
                select(Resume).where(Resume.candidate_id == candidate.id, Resume.filename == "imported-resume.txt")
            )
            if candidate.id
            else None
        )
        if existing is None:
            db.session.flush()
            db.session.add(
                Resume(
                    agency_id=self.agency.id,
                    candidate_id=candidate.id,
                    filename="imported-resume.txt",
                    content_type="text/plain",
                    content=text.encode(),
                    text=text,
                )
            )
        elif existing.text != text:
            existing.text, existing.content = text, text.encode()

    def _json_application(self, row: dict) -> None:
        ref = _text(row, "external_id", required=True, limit=_length(Application, "external_id"))
        if ref in self.application_refs:
            raise RowError(f"external_id {ref!r} appears earlier in the file")
        candidate = row.get("candidate")
        if not isinstance(candidate, Candidate):
            candidate = self._lookup_candidate(_text(row, "candidate", required=True))
        job = self._lookup_job(_text(row, "job", required=True))
        status = (row.get("status") or "").lower()
        if status not in STATUSES:
            raise RowError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        stage_name = _text(row, "furthest_stage")
        stage = self.stages.get(stage_name.lower()) if stage_name else self.ordered_stages[0]
        if stage is None:
            raise RowError(f"furthest_stage {stage_name!r} is not one of the agency's stages")
        applied_at = _when(row.get("applied_at"), "applied_at") or datetime.now(UTC)
        last_activity_at = _when(row.get("last_activity_at"), "last_activity_at") or applied_at
        application = db.session.scalar(
            select(Application).where(Application.agency_id == self.agency.id, Application.external_id == ref)
        )
        if application is None:
            application = db.session.scalar(
                select(Application).where(Application.job_id == job.id, Application.candidate_id == candidate.id)
            )
        if application is None:
            application = add_application(
                job,
                candidate,
                None,
                stage_id=self.ordered_stages[0].id,
                source=_text(row, "source"),
                applied_at=applied_at,
            )
            self.report.applications_created += 1
        elif application.candidate_id != candidate.id or application.job_id != job.id:
            raise RowError("its external_id belongs to another candidate or job")
        else:
            self.report.applications_updated += 1
        application.external_id = ref
        application.stage_id = stage.id
        application.outcome = STATUSES[status]
        application_status.from_history(application)
        application.closed_at = last_activity_at if application.outcome else None
        application.source = _text(row, "source", limit=_length(Application, "source")) or application.source
        application.applied_at, application.last_activity_at = applied_at, last_activity_at
        reason_label = _text(row, "rejection_reason")
        application.reason_id = self._reason(reason_label, status).id if reason_label else None
        db.session.flush()
        self._history(application, stage, applied_at)
        self._scorecards(application, row.get("scorecards") or [])
        db.session.flush()  # inside the row's savepoint: what the database refuses is this row's
        self.application_refs[ref] = None

    def _history(self, application: Application, furthest: StageDefinition, when: datetime) -> None:
        """Stage history up to the furthest stage, so "reached stage X" holds (added once; the
        application entered at the first stage)."""
        have = set(
            db.session.scalars(select(StageHistory.to_stage_id).where(StageHistory.application_id == application.id))
        )
        previous = None
        for stage in self.ordered_stages:
            if stage.position > furthest.position:
                break
            if stage.id not in have:
                db.session.add(
                    StageHistory(
                        agency_id=self.agency.id,
                        application_id=application.id,
                        from_stage_id=previous,
                        to_stage_id=stage.id,
                        moved_at=when,
                    )
                )
            previous = stage.id

    def _scorecards(self, application: Application, scorecards: list) -> None:
        """Imported scorecards replace the ones an earlier import of this application brought."""
        wanted = []
        for card in scorecards:
            verdict = str((card or {}).get("verdict", "")).lower() if isinstance(card, dict) else ""
            if verdict not in VERDICTS:
                raise RowError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
            wanted.append((verdict, _when(card.get("submitted_at"), "submitted_at")))
        imported = list(
            db.session.scalars(
                select(Scorecard)
                .where(Scorecard.application_id == application.id, Scorecard.author_user_id.is_(None))
                .order_by(Scorecard.id)
            )
        )
        if [(c.verdict) for c in imported] == [v for v, _ in wanted]:
            return
        for card in imported:
            db.session.delete(card)
        for verdict, submitted_at in wanted:
            db.session.add(
                Scorecard(
                    agency_id=self.agency.id,
                    application_id=application.id,
                    verdict=verdict,
                    submitted_at=submitted_at or application.last_activity_at,
                )
            )

    def _lookup_candidate(self, ref: str) -> Candidate:
        candidate = self.candidates_by_ref.get(ref) or db.session.scalar(
            select(Candidate).where(Candidate.agency_id == self.agency.id, Candidate.external_id == ref)
        )
        if candidate is None:
            raise RowError(f"candidate {ref!r} is not in the file or the agency")
        if ref not in self.candidates_by_ref:
            self._may_see_candidate(candidate)
        return candidate

    def _lookup_job(self, ref: str) -> Job:
        job = self.jobs_by_ref.get(ref) or db.session.scalar(
            select(Job).where(Job.agency_id == self.agency.id, Job.external_id == ref)
        )
        if job is None:
            raise RowError(f"job {ref!r} is not in the file or the agency")
        if ref not in self.jobs_by_ref:
            self._may_see_job(job, ref)
        return job

    def _company(self, name: str) -> ClientCompany:
        company = db.session.scalar(
            select(ClientCompany).where(
                ClientCompany.agency_id == self.agency.id, func.lower(ClientCompany.name) == name.lower()
            )
        )
        if company is None:
            company = ClientCompany(agency_id=self.agency.id, name=name[:200])
            db.session.add(company)
            db.session.flush()
        return company

    def _reason(self, label: str, status: str) -> Reason:
        reason = db.session.scalar(
            select(Reason).where(Reason.agency_id == self.agency.id, func.lower(Reason.label) == label.lower())
        )
        if reason is None:
            reason = Reason(
                agency_id=self.agency.id,
                kind="loss" if status == "withdrawn" else "rejection",
                label=label[:200],
                position=100,
            )
            db.session.add(reason)
            db.session.flush()
        return reason


def _person_facts(candidate: Candidate) -> dict:
    """What a row can change on a person, to say what it did change."""
    facts = {
        name: getattr(candidate, name)
        for name in ("name", "phone", "headline", "current_title", "current_company", "location", "source", "private")
    }
    facts["e-mails"] = sorted(e.email for e in candidate.emails)
    facts["tags"] = sorted(t.tag for t in candidate.tags)
    return facts


def _changes(before: dict, after: dict) -> list[str]:
    """``headline "A" → "B"``, ``e-mails added: x``, one phrase per changed fact."""
    found = []
    for name, old in before.items():
        new = after[name]
        if old == new:
            continue
        if isinstance(old, list):
            found.append(f"{name} added: {', '.join(v for v in new if v not in old)}")
        elif isinstance(old, bool) or old is None:
            found.append(f"{name.replace('_', ' ')} {'set to' if old is None else 'changed to'} {_shown(new)}")
        else:
            found.append(f"{name.replace('_', ' ')} {_shown(old)} → {_shown(new)}")
    return found


def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f'"{value}"'


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own words, first line only."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]


@overload
def _text(row: dict, name: str, required: Literal[True], limit: int = 300) -> str: ...
@overload
def _text(row: dict, name: str, required: bool = False, limit: int = 300) -> str | None: ...


def _text(row: dict, name: str, required: bool = False, limit: int = 300) -> str | None:
    value = row.get(name)
    if isinstance(value, dict | list):
        raise RowError(f"{name} must be text, not a {type(value).__name__}")
    value = str(value).strip() if value is not None else ""
    if required and not value:
        raise RowError(f"{name} is required")
    if "\x00" in value:
        raise RowError(f"{name} contains a NUL byte")
    if len(value) > limit:
        raise RowError(f"{name} is longer than {limit} characters")
    return value or None


def _length(model: type, column: str) -> int:
    """The length of a text column, so an over-long value is a reported error on every database
    (PostgreSQL refuses it, SQLite would store it)."""
    return int(model.__table__.c[column].type.length)  # type: ignore[attr-defined]


def _list(row: dict, name: str) -> list[str]:
    """A list of texts (missing: empty); a number or an object where the list belongs is an error."""
    value = row.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or any(isinstance(item, dict | list) for item in value):
        raise RowError(f"{name} must be a list of texts")
    items = [str(item).strip() for item in value if str(item).strip()]
    if any("\x00" in item for item in items):
        raise RowError(f"{name} contains a NUL byte")
    return items


FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}


def _flag(row: dict, name: str) -> bool:
    """true/false as JSON, or "true"/"false", "1"/"0", "yes"/"no" (any case); anything else is an
    error rather than a guess ("false" must never read as true)."""
    value = row.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in FLAGS:
        return FLAGS[value.strip().lower()]
    raise RowError(f"{name} must be true or false, not {value!r}")


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _when(value, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise RowError(f"{name} {value!r} is not an ISO 8601 date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

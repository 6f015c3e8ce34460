"""The scoreboard (issue 15 item 4): how the agency's clients and its own desk are doing.

Every figure is one aggregate SQL statement over the history tables (stage moves, timeline,
shares, interviews, survey answers, profile views), the same on SQLite and PostgreSQL: medians
and 90th percentiles are taken with window functions (``row_number``/``count`` over a partition)
and linear interpolation between the two nearest ranks, as PostgreSQL's ``percentile_cont`` does.
Python only formats the handful of aggregate rows that come back.

Scope: a recruiter counts the jobs they own or are on the hiring team of; an admin counts all of
the agency's jobs. The filters narrow that: a period (each figure's own event date inside it), a
client company, a recruiter (jobs they own or are on the team of).
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import BigInteger, Float, Integer, case, cast, exists, func, literal, or_, select, union_all
from sqlalchemy.sql.expression import ColumnElement

from ..extensions import db
from ..models import (
    Activity,
    Application,
    ClientCompany,
    Interview,
    Job,
    ProfileView,
    SharedProfile,
    StageDefinition,
    StageHistory,
    SurveyAnswer,
    User,
    job_team,
)
from ..models.base import UTCDateTime, as_utc, utcnow
from . import ServiceError, no_ghosting
from .scoreboard_facts import seconds_between
from .timezones import zone_or_utc


@dataclass(frozen=True)
class Filters:
    """What the scoreboard counts: instants in UTC (``end`` exclusive), ids of the agency's rows."""

    start: datetime | None = None
    end: datetime | None = None
    company_id: int | None = None
    recruiter_id: int | None = None


def period(day_from: date | None, day_to: date | None, zone_name: str | None) -> tuple[datetime | None, ...]:
    """The UTC instants that bound whole days ``day_from``..``day_to`` read in the viewer's zone."""
    if day_from and day_to and day_from > day_to:
        raise ServiceError("The start of the period must not be after its end.", field="from")
    zone = zone_or_utc(zone_name)
    start = as_utc(datetime.combine(day_from, time(), zone)) if day_from else None
    end = as_utc(datetime.combine(day_to + timedelta(days=1), time(), zone)) if day_to else None
    return start, end


DEFAULT_DAYS = 90


def default_from(who: User, *, now: datetime | None = None) -> date:
    """The first day of the period shown when no filter is given: 90 days before today in the
    viewer's zone (an empty ``from`` asks for all time)."""
    today = as_utc(now or utcnow()).astimezone(zone_or_utc(who.timezone)).date()
    return today - timedelta(days=DEFAULT_DAYS)


def make_filters(who: User, day_from=None, day_to=None, company_id=None, recruiter_id=None) -> Filters:
    """Check the filters against the viewer's agency (a refusal names the field) and build them."""
    start, end = period(day_from, day_to, who.timezone)
    if company_id is not None and company_id not in dict(company_choices(who)):
        raise ServiceError("Choose one of the agency's clients.", field="client")
    if recruiter_id is not None and recruiter_id not in dict(recruiter_choices(who)):
        raise ServiceError("Choose one of the agency's recruiters.", field="recruiter")
    return Filters(start, end, company_id, recruiter_id)


def company_choices(who: User) -> list[tuple[int, str]]:
    """The agency's client companies, by name."""
    query = select(ClientCompany.id, ClientCompany.name).where(ClientCompany.agency_id == who.agency_id)
    return [(row.id, row.name) for row in db.session.execute(query.order_by(ClientCompany.name, ClientCompany.id))]


def recruiter_choices(who: User) -> list[tuple[int, str]]:
    """The agency's users (former ones too: their jobs still count), by name."""
    query = select(User.id, User.name).where(User.agency_id == who.agency_id)
    return [(row.id, row.name) for row in db.session.execute(query.order_by(User.name, User.id))]


def _on_jobs_of(user_id) -> ColumnElement[bool]:
    on_team = exists().where(job_team.c.job_id == Job.id, job_team.c.user_id == user_id)
    return or_(Job.owner_id == user_id, on_team)


def _job_scope(who: User, filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions on ``Job`` (in its FROM) selecting the viewer's jobs under the filters."""
    conditions: list[ColumnElement[bool]] = [Job.agency_id == who.agency_id]
    if not who.is_admin:
        conditions.append(_on_jobs_of(who.id))
    if filters.company_id is not None:
        conditions.append(Job.company_id == filters.company_id)
    if filters.recruiter_id is not None:
        conditions.append(_on_jobs_of(filters.recruiter_id))
    return conditions


def _in_period(column, filters: Filters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return conditions


def _scoped_job_ids(who: User, filters: Filters):
    """``SELECT job.id`` of the viewer's jobs under the filters, for ``IN``."""
    return select(Job.id).where(*_job_scope(who, filters))


def _of_job(column):
    """A column of the application's job, as a scalar subquery: the figures are driven by their
    own dated table (shares, answers, views) read through an index by agency and date, and a
    join to ``job`` invites SQLite's planner to walk every job's applications instead (at
    20,000 applications and a 90-day period: 370 ms against 3 ms)."""
    return select(column).where(Job.id == Application.job_id).scalar_subquery()


def _whole_agency(who: User, filters: Filters) -> bool:
    """Whether the viewer's scope is every job of the agency (an admin, no client or recruiter)."""
    return who.is_admin and filters.company_id is None and filters.recruiter_id is None


def _job_in_scope(who: User, filters: Filters) -> ColumnElement[bool]:
    """The application's job is one of the viewer's jobs under the filters. For the whole agency
    as ``job_id + 0``: not through the index by job, so SQLite drives the query from the dated
    table's index by agency and date instead of from every application of every job. Narrowed to
    a client or a recruiter, through that index: the few jobs' applications are fewer rows than
    the agency's period (one client of 50, all time, at 100,000 applications: 590 ms against 67 ms)."""
    if _whole_agency(who, filters):
        return (Application.job_id + 0).in_(_scoped_job_ids(who, filters))
    return Application.job_id.in_(_scoped_job_ids(who, filters))


def _of_applications(model, dated, who: User, filters: Filters, *, whole_agency_reads_no_application=False):
    """``SELECT … FROM <model> JOIN application`` for the viewer's rows dated in the period; with
    ``whole_agency_reads_no_application``, a figure that reads nothing of the application leaves it
    out when the scope is the whole agency (the row's agency is its application's)."""
    if whole_agency_reads_no_application and _whole_agency(who, filters):
        return select().select_from(model).where(model.agency_id == who.agency_id, *_in_period(dated, filters))
    return (
        select()
        .select_from(model)
        .join(Application, Application.id == model.application_id)
        .where(
            # The application's agency is its job's: the agency's jobs below keep the scope.
            model.agency_id == who.agency_id,
            *_in_period(dated, filters),
            _job_in_scope(who, filters),
        )
    )


def _shares(who: User, filters: Filters):
    """``SELECT … FROM shared_profile JOIN application`` for shares made in the period."""
    return _of_applications(SharedProfile, SharedProfile.shared_at, who, filters)


def _percentiles(source, groups: list[str], value: str, percents=(50, 90)):
    """A subquery with ``groups``, ``n`` and ``p<k>`` per percent: ``value``'s percentiles per
    group, interpolated linearly between ranks (``percentile_cont``) with integer rank arithmetic
    that SQLite and PostgreSQL evaluate alike."""
    keys = [source.c[name] for name in groups]
    ranked = select(
        *keys,
        source.c[value].label("v"),
        func.row_number().over(partition_by=keys, order_by=source.c[value]).label("rn"),
        func.count().over(partition_by=keys).label("n"),
    ).subquery()
    n = ranked.c.n
    columns = []
    for percent in percents:
        low = (percent * (n - 1)) // 100  # 0-based rank below the percentile
        rest = percent * (n - 1) - 100 * low  # how far towards the next rank, in hundredths
        v_low = func.max(case((ranked.c.rn == low + 1, ranked.c.v)))
        v_high = func.coalesce(func.max(case((ranked.c.rn == low + 2, ranked.c.v))), v_low)
        columns.append(cast(v_low + (v_high - v_low) * rest / literal(100.0), Float).label(f"p{percent}"))
    grouped = select(*[ranked.c[name] for name in groups], n, *columns).group_by(
        *[ranked.c[name] for name in groups], n
    )
    return grouped.subquery()


@dataclass
class Figure:
    """One figure: its table (headers and formatted rows), chart bars and a note on what it counts."""

    key: str
    title: str
    note: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    bars: list[tuple[str, float, str]] = field(default_factory=list)  # label, value, value as shown
    unit: str = ""
    scale: float | None = None  # the value of a full bar in the chart (the largest value when None)


def _hours(seconds) -> str:
    return "" if seconds is None else f"{seconds / 3600:.1f}"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


def feedback_times(who: User, filters: Filters) -> list[dict]:
    """Per client company: shares answered, and the median and p90 seconds from a share to the
    client's first action on it (rating, comment, interview request, hire request, rejection):
    ``SharedProfile.first_feedback_at``, kept by portal/services/scoreboard_facts.py."""
    answered = (
        _shares(who, filters)
        .add_columns(
            _of_job(Job.company_id).label("company_id"),
            seconds_between(SharedProfile.first_feedback_at, SharedProfile.shared_at).label("seconds"),
        )
        .where(SharedProfile.first_feedback_at.is_not(None))
        .subquery()
    )
    stats = _percentiles(answered, ["company_id"], "seconds")
    query = (
        select(ClientCompany.id, ClientCompany.name, stats.c.n, stats.c.p50, stats.c.p90)
        .join(stats, stats.c.company_id == ClientCompany.id)
        .order_by(ClientCompany.name, ClientCompany.id)
    )
    return [row._asdict() for row in db.session.execute(query)]


def conversion(who: User, filters: Filters) -> list[dict]:
    """Per client company and for all (``id`` None): shares made, shares that led to an interview
    (one not cancelled), and interviewed shares that led to an offer (a hire request or a hire)."""
    interviewed = exists().where(Interview.application_id == Application.id, Interview.status == "scheduled")
    offered = or_(
        Application.outcome == "hired",
        exists().where(Activity.application_id == Application.id, Activity.verb == "client.hire_requested"),
    )
    # The hire request is looked for only on interviewed shares (the offers counted).
    per_share = (
        _shares(who, filters)
        .add_columns(
            Application.job_id,
            case((interviewed, 1), else_=0).label("interviewed"),
            case((interviewed, case((offered, 1), else_=0)), else_=0).label("offered"),
        )
        .subquery()
    )
    counts = [
        func.count().label("shares"),
        func.sum(per_share.c.interviewed).label("interviewed"),
        func.sum(per_share.c.offered).label("offered"),
    ]
    return _per_company_and_all(per_share, counts)


def stage_times(who: User, filters: Filters) -> list[dict]:
    """Per stage: stays entered in the period that ended by a move, median and p90 seconds
    (``StageHistory.seconds_in_stage``, kept by portal/services/scoreboard_facts.py). A stay
    still running is not counted: its length is not known yet."""
    stays = (
        _of_applications(StageHistory, StageHistory.moved_at, who, filters, whole_agency_reads_no_application=True)
        .add_columns(StageHistory.to_stage_id.label("stage_id"), StageHistory.seconds_in_stage.label("seconds"))
        .where(StageHistory.seconds_in_stage.is_not(None))
        .subquery()
    )
    stats = _percentiles(stays, ["stage_id"], "seconds")
    query = (
        select(StageDefinition.id, StageDefinition.name, stats.c.n, stats.c.p50, stats.c.p90)
        .join(stats, stats.c.stage_id == StageDefinition.id)
        .order_by(StageDefinition.position, StageDefinition.id)
    )
    return [row._asdict() for row in db.session.execute(query)]


def _overdue_by(per_row, key, model, name, now: datetime) -> list[dict]:
    """Rows of ``per_row`` (``job_id``, ``due_at``) counted per ``model`` row (a company or a
    user: ``key``, a column of the job) with the longest overdue in seconds. Counted per job
    first, so each row's job is not looked up."""
    per_job = (
        select(per_row.c.job_id, func.count().label("overdue"), func.min(per_row.c.due_at).label("due_at"))
        .group_by(per_row.c.job_id)
        .subquery()
    )
    since = seconds_between(literal(now, UTCDateTime()), func.min(per_job.c.due_at))
    query = (
        select(model.id, name, cast(func.sum(per_job.c.overdue), BigInteger).label("overdue"), since.label("longest"))
        .select_from(per_job)
        .join(Job, Job.id == per_job.c.job_id)
        .join(model, model.id == key)
        .group_by(model.id, name)
        .order_by(name, model.id)
    )
    return [row._asdict() for row in db.session.execute(query)]


def overdue_shares(who: User, filters: Filters, now: datetime) -> list[dict]:
    """Per client company: shares still awaiting the client's review past their "decide by" date
    (not unshared, application still open), and the longest overdue in seconds."""
    per_share = (
        _shares(who, filters)
        .add_columns(Application.job_id, SharedProfile.feedback_due_at.label("due_at"))
        .where(
            SharedProfile.feedback_due_at < now,
            SharedProfile.unshared_at.is_(None),
            Application.client_status == "awaiting_review",
            Application.outcome.is_(None),
        )
        .subquery()
    )
    return _overdue_by(per_share, Job.company_id, ClientCompany, ClientCompany.name, now)


def uninformed_candidates(who: User, filters: Filters, now: datetime) -> list[dict]:
    """Per job owner: applications that reached the client whose "candidate informed by" date has
    passed with the candidate not informed, and the longest overdue in seconds."""
    per_share = (
        _shares(who, filters)
        .add_columns(Application.job_id, Application.inform_by_at.label("due_at"))
        .where(no_ghosting.at_risk(), Application.inform_by_at < now)  # the one definition of overdue
        .subquery()
    )
    return _overdue_by(per_share, Job.owner_id, User, User.name, now)


def _per_company_and_all(rows, columns, derived=None) -> list[dict]:
    """``columns`` (counts and sums over ``rows``, a subquery with ``job_id``) per client company
    and for all (``id`` None, their sums), with ``derived(rows)`` columns beside them. Summed per
    job first (so each row's job is not looked up), then per company; the per-company rows are a
    CTE read twice, so the rows behind them are aggregated once."""
    per_job = select(rows.c.job_id, *columns).group_by(rows.c.job_id).subquery()
    per_company = (
        # Cast: PostgreSQL sums integers as numeric (Decimal); counts stay integers.
        select(
            Job.company_id,
            *[cast(func.sum(per_job.c[column.name]), BigInteger).label(column.name) for column in columns],
        )
        .join(per_job, per_job.c.job_id == Job.id)
        .group_by(Job.company_id)
        .cte("per_company")
    )
    names = [per_company.c[column.name] for column in columns]
    everyone = select(
        literal(None, Integer).label("company_id"),
        *[cast(func.coalesce(func.sum(name), 0), BigInteger).label(name.name) for name in names],
    )
    totals = union_all(select(per_company.c.company_id, *names), everyone).subquery()
    query = (
        select(
            totals.c.company_id.label("id"),
            ClientCompany.name,
            *[totals.c[column.name] for column in columns],
            *(derived(totals) if derived else ()),
        )
        .outerjoin(ClientCompany, ClientCompany.id == totals.c.company_id)
        .where(totals.c[columns[0].name] > 0)
        .order_by(totals.c.company_id.is_(None), ClientCompany.name, ClientCompany.id)
    )
    return [row._asdict() for row in db.session.execute(query)]


def survey_scores(who: User, filters: Filters) -> list[dict]:
    """Per client company and for all: survey answers received in the period and their average."""
    rows = (
        _of_applications(SurveyAnswer, SurveyAnswer.answered_at, who, filters)
        .add_columns(Application.job_id, SurveyAnswer.score)
        .subquery()
    )
    columns = [func.count().label("answers"), func.sum(rows.c.score).label("score_total")]
    return _per_company_and_all(
        rows, columns, lambda rows: [cast(rows.c.score_total * 1.0 / rows.c.answers, Float).label("average")]
    )


def profile_views(who: User, filters: Filters) -> list[dict]:
    """Per client company and for all: client views of profiles, resume views and downloads."""
    rows = (
        _of_applications(ProfileView, ProfileView.viewed_at, who, filters)
        .add_columns(Application.job_id, ProfileView.kind)
        .subquery()
    )

    def kind(name: str):
        return func.sum(case((rows.c.kind == name, 1), else_=0))

    columns = [
        func.count().label("views"),
        kind("profile").label("profiles"),
        kind("resume_view").label("resume_views"),
        kind("resume_download").label("resume_downloads"),
    ]
    return _per_company_and_all(rows, columns)


def _name(row: dict, everyone: str = "All clients") -> str:
    return everyone if row["id"] is None else row["name"]


def scoreboard(who: User, filters: Filters, *, now: datetime | None = None) -> list[Figure]:
    """Every figure of the scoreboard for the viewer under the filters, as tables and chart bars."""
    now = as_utc(now or utcnow())
    figures = []

    feedback = Figure(
        "feedback",
        "Client time to first feedback",
        "From a share to the client's first rating, comment, interview request, hire request or rejection; "
        "shares made in the period that were answered.",
        ["Client", "Shares answered", "Median hours", "90th percentile hours"],
        unit="h",
    )
    for row in feedback_times(who, filters):
        feedback.rows.append([row["name"], row["n"], _hours(row["p50"]), _hours(row["p90"])])
        feedback.bars.append((row["name"], row["p50"] / 3600, f"{_hours(row['p50'])} h median"))
    figures.append(feedback)

    ratios = Figure(
        "conversion",
        "Share to interview, interview to offer",
        "Shares made in the period; an interview counts unless cancelled; an offer is a client's hire "
        "request or a hire.",
        ["Client", "Shares", "Interviewed", "Share to interview", "Offers", "Interview to offer"],
        unit="%",
        scale=100,
    )
    for row in conversion(who, filters):
        shares, interviewed, offered = row["shares"], row["interviewed"], row["offered"]
        to_interview, to_offer = _percent(interviewed, shares), _percent(offered, interviewed)
        ratios.rows.append([_name(row), shares, interviewed, to_interview, offered, to_offer])
        ratios.bars.append((_name(row), 100 * interviewed / shares, f"{to_interview} interviewed"))
    figures.append(ratios)

    stages = Figure(
        "stages",
        "Time in stage",
        "Stays entered in the period that ended with a move to another stage.",
        ["Stage", "Stays", "Median hours", "90th percentile hours"],
        unit="h",
    )
    for row in stage_times(who, filters):
        stages.rows.append([row["name"], row["n"], _hours(row["p50"]), _hours(row["p90"])])
        stages.bars.append((row["name"], row["p50"] / 3600, f"{_hours(row['p50'])} h median"))
    figures.append(stages)

    late_shares = Figure(
        "overdue_shares",
        "Open shares past their deadline",
        'Shares made in the period, still awaiting the client\'s review after their "decide by" date.',
        ["Client", "Past deadline", "Longest overdue, days"],
    )
    for row in overdue_shares(who, filters, now):
        days = f"{row['longest'] / 86400:.1f}"
        late_shares.rows.append([row["name"], row["overdue"], days])
        late_shares.bars.append((row["name"], row["overdue"], str(row["overdue"])))
    figures.append(late_shares)

    uninformed = Figure(
        "uninformed",
        'Candidates past their "informed by" date',
        "Applications shared in the period whose candidate has not been told where they stand in time, by job owner.",
        ["Job owner", "Past the date", "Longest overdue, days"],
    )
    for row in uninformed_candidates(who, filters, now):
        days = f"{row['longest'] / 86400:.1f}"
        uninformed.rows.append([row["name"], row["overdue"], days])
        uninformed.bars.append((row["name"], row["overdue"], str(row["overdue"])))
    figures.append(uninformed)

    survey = Figure(
        "survey",
        "Candidate survey score",
        '"How were you treated?" (1–5), answers received in the period.',
        ["Client", "Answers", "Average score"],
        scale=5,
    )
    for row in survey_scores(who, filters):
        survey.rows.append([_name(row), row["answers"], f"{row['average']:.2f}"])
        survey.bars.append((_name(row), float(row["average"]), f"{row['average']:.2f} of 5"))
    figures.append(survey)

    views = Figure(
        "views",
        "Profile views by clients",
        "Client views of candidate profiles and resumes in the period.",
        ["Client", "All views", "Profiles", "Resume views", "Resume downloads"],
    )
    for row in profile_views(who, filters):
        views.rows.append([_name(row), row["views"], row["profiles"], row["resume_views"], row["resume_downloads"]])
        views.bars.append((_name(row), row["views"], str(row["views"])))
    figures.append(views)
    return figures


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value for a spreadsheet cell: text that a spreadsheet would run as a formula (starting
    with = + - @, a tab or a carriage return) is prefixed with ``'`` so it stays text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def figures_csv(figures: list[Figure]) -> str:
    """The figures as one CSV table: figure, row (client, stage or owner), measure, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Figure", "Row", "Measure", "Value"])
    for figure in figures:
        for row in figure.rows:
            for header, value in zip(figure.headers[1:], row[1:], strict=True):
                writer.writerow([csv_cell(figure.title), csv_cell(row[0]), csv_cell(header), csv_cell(value)])
    return out.getvalue()

"""The scoreboard (issue 15 item 4): figures match a fixture computed by hand, for the right
people, under filters that validate, with a CSV that a spreadsheet cannot run."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import (
    Activity,
    Application,
    ClientCompany,
    Job,
    ProfileView,
    SharedProfile,
    StageHistory,
    SurveyAnswer,
    User,
    utcnow,
)
from portal.services import ServiceError
from portal.services import scoreboard as sb
from tests.conftest import login_as
from tests.factories import (
    make_agency,
    make_application,
    make_company,
    make_contact,
    make_interview,
    make_job,
    make_user,
)

H = 3600
ZONE = "America/New_York"


@dataclass
class Board:
    """Agency A: recruiter Rhea's jobs at Acme (J1) and Birch (J2), outsider Otto's job at Acme
    (J3); agency B with answers of its own that must never count."""

    now: datetime
    t0: datetime  # noon in New York, 20 days ago: every share on J1 and J2 but s5 is made then
    admin: User
    recruiter: User
    outsider: User
    acme: ClientCompany
    birch: ClientCompany
    j1: Job
    j3: Job
    contact_id: int
    other_admin: User
    other_company: ClientCompany


def _share(job: Job, at: datetime, **kw) -> Application:
    application = make_application(job, shared=False, **{k: v for k, v in kw.items() if k in ("outcome",)})
    db.session.add(
        SharedProfile(
            agency_id=job.agency_id,
            application_id=application.id,
            shared_at=at,
            **{k: v for k, v in kw.items() if k in ("feedback_due_at", "unshared_at")},
        )
    )
    application.inform_by_at = kw.get("inform_by_at")
    application.candidate_informed_at = kw.get("candidate_informed_at")
    db.session.flush()
    return application


def _act(application: Application, verb: str, at: datetime, contact_id: int | None) -> None:
    db.session.add(
        Activity(
            agency_id=application.agency_id,
            verb=verb,
            summary=verb,
            job_id=application.job_id,
            candidate_id=application.candidate_id,
            application_id=application.id,
            actor_contact_id=contact_id,
            created_at=at,
        )
    )


def _moves(application: Application, stages, start: datetime, hours: list[int]) -> None:
    """Stage history: enters ``stages[i]`` at ``start + hours[i]``."""
    for i, offset in enumerate(hours):
        db.session.add(
            StageHistory(
                agency_id=application.agency_id,
                application_id=application.id,
                from_stage_id=stages[i - 1].id if i else None,
                to_stage_id=stages[i].id,
                moved_at=start + timedelta(hours=offset),
            )
        )


@pytest.fixture
def board(ctx) -> Board:
    now = utcnow().replace(microsecond=0)
    local = (now - timedelta(days=20)).astimezone(ZoneInfo(ZONE))
    t0 = local.replace(hour=12, minute=0, second=0).astimezone(ZoneInfo("UTC"))
    agency = make_agency("scores", name="Scores Recruiting")
    admin = make_user(agency, "admin", name="Ada Admin", timezone=ZONE)
    recruiter = make_user(agency, name="Rhea Recruiter", timezone=ZONE)
    outsider = make_user(agency, name="Otto Outsider", timezone=ZONE)
    acme, birch = make_company(agency, name="Acme"), make_company(agency, name="Birch")
    contact = make_contact(acme)
    j1, j2, j3 = make_job(acme, recruiter), make_job(birch, recruiter), make_job(acme, outsider)
    stages = agency.stages
    cid = contact.id

    # Acme on J1: first feedback after 2, 4, 10 and 20 hours (s5 never answered).
    s1 = _share(j1, t0, inform_by_at=now - timedelta(days=2))
    s2 = _share(j1, t0, inform_by_at=now - timedelta(days=1), candidate_informed_at=now - timedelta(days=3))
    s3 = _share(j1, t0, inform_by_at=now + timedelta(days=1))
    s4 = _share(j1, t0, outcome="hired", feedback_due_at=t0 + timedelta(days=1))
    _share(j1, t0 + timedelta(days=3), feedback_due_at=t0 + timedelta(days=5))
    _share(j1, t0, feedback_due_at=t0 + timedelta(days=1), unshared_at=t0 + timedelta(hours=1))  # unshared
    _act(s1, "client.rated", t0 + timedelta(hours=2), cid)
    _act(s1, "client.hire_requested", t0 + timedelta(hours=30), cid)  # later: not the first, but the offer
    _act(s2, "client.reject_undone", t0 + timedelta(hours=1), cid)  # not feedback
    _act(s2, "client.commented", t0 - timedelta(hours=5), cid)  # before the share: not about it
    _act(s2, "client.commented", t0 + timedelta(hours=4), cid)
    _act(s3, "client.interview_requested", t0 + timedelta(hours=10), None)  # on behalf: still the client's
    _act(s4, "client.rejected", t0 + timedelta(hours=20), cid)
    make_interview(s1, recruiter, t0 + timedelta(days=2))
    make_interview(s2, recruiter, t0 + timedelta(days=2, hours=2))
    make_interview(s3, recruiter, t0 + timedelta(days=2, hours=4), status="cancelled")
    never_shared = make_application(j1, shared=False, inform_by_at=now - timedelta(days=9))
    make_interview(never_shared, recruiter, t0 + timedelta(days=3))
    _moves(s1, stages, t0 - timedelta(days=10), [0, 24, 72])  # stage 0: 24 h, stage 1: 48 h
    _moves(s2, stages, t0 - timedelta(days=10), [0, 48, 60])  # stage 0: 48 h, stage 1: 12 h
    db.session.add_all(
        [
            SurveyAnswer(agency_id=agency.id, application_id=s1.id, score=5, answered_at=t0 + timedelta(days=4)),
            SurveyAnswer(agency_id=agency.id, application_id=s2.id, score=2, answered_at=t0 + timedelta(days=4)),
        ]
    )
    for application, kind in ((s1, "profile"), (s1, "profile"), (s1, "resume_view"), (s2, "resume_download")):
        db.session.add(
            ProfileView(agency_id=agency.id, application_id=application.id, contact_id=cid, kind=kind, viewed_at=t0)
        )

    # Birch on J2: answered after 1 hour; survey 4; due in the future.
    b1 = _share(j2, t0, feedback_due_at=now + timedelta(days=1))
    _act(b1, "client.rated", t0 + timedelta(hours=1), None)
    db.session.add(SurveyAnswer(agency_id=agency.id, application_id=b1.id, score=4, answered_at=t0))

    # Otto's J3 at Acme: answered after 100 hours (admins count it, Rhea does not).
    o1 = _share(j3, t0)
    _act(o1, "client.rated", t0 + timedelta(hours=100), cid)

    # Agency B: the same kinds of rows, never counted for A.
    other = make_agency("otherscores")
    other_admin = make_user(other, "admin", timezone=ZONE)
    other_company = make_company(other, name="Elsewhere")
    x1 = _share(make_job(other_company, other_admin), t0, inform_by_at=now - timedelta(days=1))
    _act(x1, "client.rated", t0 + timedelta(minutes=5), None)
    make_interview(x1, other_admin, t0 + timedelta(days=1))
    db.session.add(SurveyAnswer(agency_id=other.id, application_id=x1.id, score=1, answered_at=t0))
    db.session.commit()
    return Board(now, t0, admin, recruiter, outsider, acme, birch, j1, j3, cid, other_admin, other_company)


def _figures(board: Board, who: User, **filters) -> dict[str, sb.Figure]:
    return {figure.key: figure for figure in sb.scoreboard(who, sb.Filters(**filters), now=board.now)}


def test_feedback_times_match_the_hand_computed_fixture(board):
    # Rhea: Acme [2, 4, 10, 20] h → median 4 + (10 − 4)·0.5 = 7 h; p90 10 + (20 − 10)·0.7 = 17 h.
    # Birch [1] h → 1 h and 1 h.
    rows = sb.feedback_times(board.recruiter, sb.Filters())
    assert [(r["name"], r["n"], r["p50"], r["p90"]) for r in rows] == [
        ("Acme", 4, 7 * H, 17 * H),
        ("Birch", 1, 1 * H, 1 * H),
    ]
    # Admin: Acme [2, 4, 10, 20, 100] h → median 10 h; p90 20 + (100 − 20)·0.6 = 68 h.
    rows = sb.feedback_times(board.admin, sb.Filters())
    assert [(r["name"], r["n"], r["p50"], r["p90"]) for r in rows] == [
        ("Acme", 5, 10 * H, 68 * H),
        ("Birch", 1, 1 * H, 1 * H),
    ]


def test_every_figure_matches_the_hand_computed_fixture(board):
    figures = _figures(board, board.recruiter)
    assert figures["feedback"].rows == [["Acme", 4, "7.0", "17.0"], ["Birch", 1, "1.0", "1.0"]]
    # Shares on Rhea's jobs: Acme s1–s5 and the unshared one (6), Birch 1. Interviews not
    # cancelled: s1, s2. Offers among them: s1 (hire request); s4 was hired without an interview.
    assert figures["conversion"].rows == [
        ["Acme", 6, 2, "33 %", 1, "50 %"],
        ["Birch", 1, 0, "0 %", 0, "–"],
        ["All clients", 7, 2, "29 %", 1, "50 %"],
    ]
    # Stage 0 stays [24, 48] h → 36 h, p90 24 + 24·0.9 = 45.6 h; stage 1 [12, 48] h → 30 h, 44.4 h.
    first, second = board.admin.agency.stages[:2]
    assert figures["stages"].rows == [[first.name, 2, "36.0", "45.6"], [second.name, 2, "30.0", "44.4"]]
    stage_rows = sb.stage_times(board.recruiter, sb.Filters())
    assert [(r["n"], r["p50"], r["p90"]) for r in stage_rows] == [(2, 36 * H, 164160), (2, 30 * H, 159840)]
    # Past deadline and still awaiting review: s5 only (s4 is hired, the other one unshared), due
    # 5 days after noon (New York) 20 days ago.
    overdue_days = (board.now - board.t0 - timedelta(days=5)).total_seconds() / 86400
    assert figures["overdue_shares"].rows == [["Acme", 1, f"{overdue_days:.1f}"]]
    # Past "informed by": s1 (2 days); s2 was informed, s3 is not due, the unshared one never reached the client.
    assert figures["uninformed"].rows == [["Rhea Recruiter", 1, "2.0"]]
    assert figures["survey"].rows == [["Acme", 2, "3.50"], ["Birch", 1, "4.00"], ["All clients", 3, "3.67"]]
    assert figures["views"].rows == [["Acme", 4, 2, 1, 1], ["All clients", 4, 2, 1, 1]]
    # Counts are integers on both databases (PostgreSQL sums integers as numeric unless cast).
    counts = [value for key in ("conversion", "overdue_shares", "views") for row in figures[key].rows for value in row]
    assert {type(value) for value in counts} - {str} == {int}


def test_a_recruiter_counts_only_their_jobs_and_another_agency_never_counts(board):
    outsider = _figures(board, board.outsider)
    assert outsider["feedback"].rows == [["Acme", 1, "100.0", "100.0"]]
    assert outsider["conversion"].rows == [["Acme", 1, 0, "0 %", 0, "–"], ["All clients", 1, 0, "0 %", 0, "–"]]
    assert outsider["survey"].rows == [] and outsider["uninformed"].rows == []
    admin = _figures(board, board.admin)
    assert admin["conversion"].rows[-1] == ["All clients", 8, 2, "25 %", 1, "50 %"]
    assert admin["survey"].rows[-1] == ["All clients", 3, "3.67"]
    other = _figures(board, board.other_admin)
    assert other["feedback"].rows == [["Elsewhere", 1, "0.1", "0.1"]]
    assert other["survey"].rows == [["Elsewhere", 1, "1.00"], ["All clients", 1, "1.00"]]


def test_filters_narrow_by_period_client_and_recruiter(board):
    day = board.t0.astimezone(ZoneInfo(ZONE)).date()
    start, end = sb.period(day, day, ZONE)
    midnight = datetime.combine(day, time(), ZoneInfo(ZONE))  # days are the viewer's, DST included
    assert start == midnight and end == datetime.combine(day + timedelta(days=1), time(), ZoneInfo(ZONE))
    only_t0 = _figures(board, board.recruiter, start=start, end=end)
    assert only_t0["conversion"].rows[0] == ["Acme", 5, 2, "40 %", 1, "50 %"]  # s5 was shared 3 days later
    assert only_t0["overdue_shares"].rows == []
    acme = _figures(board, board.admin, company_id=board.acme.id)
    assert [row[0] for row in acme["feedback"].rows] == ["Acme"]
    otto = _figures(board, board.admin, recruiter_id=board.outsider.id)
    assert otto["feedback"].rows == [["Acme", 1, "100.0", "100.0"]]
    with pytest.raises(ServiceError) as refused:
        sb.make_filters(board.admin, company_id=board.other_company.id)
    assert refused.value.field == "client"
    with pytest.raises(ServiceError) as refused:
        sb.make_filters(board.admin, day, day - timedelta(days=1))
    assert refused.value.field == "from"


def test_the_page_shows_charts_and_tables(board, client):
    login_as(client, board.recruiter)
    response = client.get("/agency/scoreboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg") == 7 and "style=" not in html.split("<main", 1)[1] and "<script>" not in html
    assert "Client time to first feedback" in html and "Acme" in html and "Elsewhere" not in html
    assert 'href="/agency/scoreboard"' in html  # in the navigation


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("from=2026-13-01", "from", "Enter the from day as YYYY-MM-DD."),
        ("to=yesterday", "to", "Enter the to day as YYYY-MM-DD."),
        ("from=2026-05-02&to=2026-05-01", "from", "The start of the period must not be after its end."),
        ("client=abc", "client", "Choose one of the agency&#39;s clients."),
        ("recruiter=999999", "recruiter", "Choose one of the agency&#39;s recruiters."),
    ],
)
def test_filters_are_validated_in_place(board, client, query, field, message):
    login_as(client, board.admin)
    response = client.get(f"/agency/scoreboard?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in html


def test_another_agencys_client_is_refused_and_contacts_get_404(board, client):
    login_as(client, board.admin)
    assert client.get(f"/agency/scoreboard?client={board.other_company.id}").status_code == 422
    login_as(client, db.session.get(User, board.recruiter.id))
    assert client.get(f"/agency/scoreboard?client={board.acme.id}&recruiter={board.recruiter.id}").status_code == 200
    from portal.models import ClientContact

    login_as(client, db.session.get(ClientContact, board.contact_id))
    assert client.get("/agency/scoreboard").status_code == 404


def test_csv_download_and_formula_neutralisation(board, client):
    db.session.get(ClientCompany, board.birch.id).name = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    login_as(client, board.recruiter)
    response = client.get("/agency/scoreboard?format=csv&figure=survey")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="scoreboard-survey.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Figure", "Row", "Measure", "Value"]
    assert ["Candidate survey score", "Acme", "Average score", "3.50"] in rows
    assert ["Candidate survey score", '\'=HYPERLINK("http://evil.example","x")', "Answers", "1"] in rows
    everything = client.get("/agency/scoreboard?format=csv").get_data(as_text=True)
    assert {row[0] for row in list(csv.reader(io.StringIO(everything)))[1:]} == {
        figure.title for figure in sb.scoreboard(board.recruiter, sb.Filters(), now=board.now) if figure.rows
    }


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_text(text):
    assert sb.csv_cell(text) == "'" + text
    assert sb.csv_cell("Acme = best") == "Acme = best" and sb.csv_cell(3.5) == "3.5"


def test_the_page_costs_the_same_queries_for_more_rows(board, app, client):
    login_as(client, board.admin)

    def queries() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/agency/scoreboard").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    small = queries()
    job = db.session.get(Job, board.j1.id)
    for hours in range(1, 31):
        extra = _share(job, board.t0, feedback_due_at=board.t0, inform_by_at=board.t0)
        _act(extra, "client.rated", board.t0 + timedelta(hours=hours), board.contact_id)
        make_interview(extra, db.session.get(User, board.recruiter.id), board.t0 + timedelta(days=5, hours=hours))
        db.session.add(SurveyAnswer(agency_id=extra.agency_id, application_id=extra.id, score=3))
    db.session.commit()
    assert queries() == small


def test_without_filters_the_page_shows_the_last_90_days_and_an_empty_from_all_time(board, client):
    old = _share(db.session.get(Job, board.j1.id), board.now - timedelta(days=200))
    _act(old, "client.rated", board.now - timedelta(days=199), board.contact_id)
    db.session.commit()
    login_as(client, board.recruiter)
    default_from = sb.default_from(board.recruiter).isoformat()
    html = client.get("/agency/scoreboard").get_data(as_text=True)
    assert f'name="from" type="date" value="{default_from}"' in html
    assert f"from={default_from}" in html  # the CSV links carry the period shown
    assert '<th scope="row">Acme</th><td>4</td>' in html  # the share of 200 days ago is not counted
    everything = client.get("/agency/scoreboard?from=&to=&client=&recruiter=").get_data(as_text=True)
    assert '<th scope="row">Acme</th><td>5</td>' in everything

"""The scoreboard's facts (portal/services/scoreboard_facts.py) are what recomputing them from the
history gives, whatever order the history is written in: each stay's length and each share's
first client answer."""

import random
import threading
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Activity, Application, SharedProfile, StageHistory, User, utcnow
from portal.services import pipeline, scoreboard_facts, sharing
from portal.unit_of_work import unit_of_work
from tests.factories import make_agency, make_application, make_company, make_job, make_user


def _stays(application_ids) -> dict[int, int | None]:
    db.session.expire_all()
    query = select(StageHistory.id, StageHistory.seconds_in_stage).where(
        StageHistory.application_id.in_(application_ids)
    )
    return dict(db.session.execute(query).tuples().all())


def _first_answers(agency_id: int) -> dict[int, object]:
    query = select(SharedProfile.id, SharedProfile.first_feedback_at).where(SharedProfile.agency_id == agency_id)
    return dict(db.session.execute(query).tuples().all())


def _answer(application, verb: str, at) -> None:
    db.session.add(
        Activity(
            agency_id=application.agency_id,
            verb=verb,
            summary=verb,
            job_id=application.job_id,
            candidate_id=application.candidate_id,
            application_id=application.id,
            created_at=at,
        )
    )
    db.session.flush()


def test_a_stay_gets_its_length_when_the_next_move_is_made(ctx):
    now = utcnow().replace(microsecond=0)
    agency = make_agency("facts")
    recruiter = make_user(agency)
    job = make_job(make_company(agency), recruiter)
    application = make_application(job, shared=False, stage_id=agency.stages[0].id)
    stages = agency.stages
    pipeline.move_stage(application, stages[1].id, recruiter, now=now - timedelta(hours=50))
    db.session.flush()
    first = db.session.scalar(select(StageHistory).where(StageHistory.application_id == application.id))
    assert first.seconds_in_stage is None  # still there
    pipeline.move_stage(application, stages[2].id, recruiter, now=now - timedelta(hours=20))
    pipeline.move_stage(application, stages[3].id, recruiter, now=now - timedelta(hours=20, seconds=-1))
    db.session.flush()
    moves = db.session.execute(
        select(StageHistory.to_stage_id, StageHistory.seconds_in_stage)
        .where(StageHistory.application_id == application.id)
        .order_by(StageHistory.moved_at, StageHistory.id)
    ).all()
    assert [tuple(move) for move in moves] == [
        (stages[1].id, 30 * 3600),
        (stages[2].id, 1),
        (stages[3].id, None),
    ]


def test_history_written_out_of_order_gives_what_ordering_every_move_gives(ctx):
    """An import writes past moves in any order, several in one flush, some at the same instant:
    the lengths kept as they are written equal ``fill``'s, which orders every move (as the
    migration did)."""
    rng = random.Random(7)
    now = utcnow()  # microseconds kept: SQLite's julianday rounds them, and both ways must agree
    agency = make_agency("facts")
    job = make_job(make_company(agency), make_user(agency))
    applications = [make_application(job, shared=False) for _ in range(6)]
    for round_ in range(4):
        for application in applications:
            for _ in range(rng.randint(0, 3)):
                minutes = rng.choice([rng.randint(0, 5000), 60])  # ties at the same minute
                micro = rng.randint(0, 999_999)
                db.session.add(
                    StageHistory(
                        agency_id=agency.id,
                        application_id=application.id,
                        to_stage_id=rng.choice(agency.stages).id,
                        moved_at=now - timedelta(days=10, minutes=-minutes, microseconds=micro),
                    )
                )
            if round_ % 2:
                db.session.flush()
        db.session.flush()
    ids = [application.id for application in applications]
    kept = _stays(ids)
    assert sum(seconds is not None for seconds in kept.values()) > 10
    scoreboard_facts.fill(agency.id)
    assert _stays(ids) == kept


def test_a_share_keeps_the_clients_first_answer_from_the_share_on(ctx):
    now = utcnow().replace(microsecond=0)
    agency = make_agency("facts")
    recruiter = make_user(agency, "admin")
    job = make_job(make_company(agency), recruiter)
    application = make_application(job, shared=False)
    shared_at = now - timedelta(days=3)
    profile = sharing.share_candidate(application, recruiter, consent_override_reason="Agreed by phone", now=shared_at)
    db.session.flush()
    _answer(application, "client.rated", shared_at - timedelta(hours=1))  # before the share: not an answer
    _answer(application, "candidate.shared", shared_at + timedelta(hours=1))  # not the client's answer
    assert _first_answers(agency.id) == {profile.id: None}
    _answer(application, "client.commented", shared_at + timedelta(hours=5))
    _answer(application, "client.rejected", shared_at + timedelta(hours=9))
    assert _first_answers(agency.id) == {profile.id: shared_at + timedelta(hours=5)}
    _answer(application, "client.rated", shared_at + timedelta(hours=2))  # written late, happened first
    assert _first_answers(agency.id) == {profile.id: shared_at + timedelta(hours=2)}
    kept = _first_answers(agency.id)
    scoreboard_facts.fill(agency.id)
    assert _first_answers(agency.id) == kept

    # Shared again (edited) in the same session, whose profile object never saw the answer's time:
    # the clock starts again, and earlier answers are not answers to it.
    sharing.share_candidate(application, recruiter, consent_override_reason="Agreed by phone", now=now)
    db.session.flush()
    assert _first_answers(agency.id) == {profile.id: None}
    _answer(application, "client.interview_requested", now + timedelta(minutes=30))
    assert _first_answers(agency.id) == {profile.id: now + timedelta(minutes=30)}
    scoreboard_facts.fill(agency.id)
    assert _first_answers(agency.id) == {profile.id: now + timedelta(minutes=30)}


def test_two_people_moving_one_application_at_once_keep_every_length_true(make_app):
    """Two processes move the same application back and forth at the same moments: each move's
    event sees the other's committed moves (SQLite: one writer at a time; PostgreSQL: the
    application row locked), so the kept lengths equal a recomputation afterwards."""
    apps = [make_app(), make_app()]
    with apps[0].app_context():
        agency = make_agency("facts")
        recruiter = make_user(agency)
        application = make_application(make_job(make_company(agency), recruiter), shared=False)
        ids = {"agency": agency.id, "user": recruiter.id, "application": application.id}
        stage_ids = [stage.id for stage in agency.stages[:3]]
        db.session.commit()
        db.session.remove()
    base = utcnow() - timedelta(days=2)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def mover(app, offset: int) -> None:
        try:
            with app.app_context():
                for step in range(6):
                    start.wait(30)
                    with unit_of_work():
                        moving = db.session.get(Application, ids["application"])
                        target = next(stage for stage in stage_ids if stage != moving.stage_id)
                        user = db.session.get(User, ids["user"])
                        pipeline.move_stage(moving, target, user, now=base + timedelta(minutes=2 * step + offset))
                    db.session.remove()
        except BaseException as exc:
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=mover, args=(app, offset)) for offset, app in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with apps[0].app_context():
        kept = _stays([ids["application"]])
        assert len(kept) == 12 and list(kept.values()).count(None) == 1  # the latest move's stay runs on
        scoreboard_facts.fill(ids["agency"])
        assert _stays([ids["application"]]) == kept
        db.session.rollback()
        db.session.remove()

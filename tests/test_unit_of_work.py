"""The unit of work (portal/unit_of_work.py): one commit, or nothing saved."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agency
from portal.services import ServiceError
from portal.unit_of_work import attempt, unit_of_work


def agencies() -> int:
    db.session.rollback()  # read what is committed, not what this session holds
    return db.session.scalar(select(func.count()).select_from(Agency))


def add_agency(slug: str) -> None:
    db.session.add(Agency(slug=slug, name=slug.title()))
    db.session.flush()


def test_a_unit_of_work_commits_once_at_the_end(ctx):
    with unit_of_work():
        add_agency("first")
        add_agency("second")
    assert agencies() == 2


def test_an_exception_rolls_back_everything_and_continues(ctx):
    with pytest.raises(RuntimeError), unit_of_work():
        add_agency("first")
        raise RuntimeError("boom")
    assert agencies() == 0


def test_a_failing_commit_rolls_back_and_leaves_the_session_usable(ctx):
    with unit_of_work():
        add_agency("taken")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), unit_of_work():
        db.session.add(Agency(slug="fresh", name="Fresh"))
        db.session.add(Agency(slug="taken", name="Again"))
    assert agencies() == 1
    with unit_of_work():
        add_agency("after")
    assert agencies() == 2


def test_an_attempt_turns_a_refusal_into_an_outcome_and_saves_nothing(ctx):
    with attempt() as outcome:
        add_agency("half")
        raise ServiceError("Choose a colour.", field="primary_color")
    assert outcome.refusal is not None and outcome.refusal.field == "primary_color"
    assert agencies() == 0
    with attempt() as outcome:
        add_agency("whole")
    assert outcome.refusal is None and agencies() == 1


def test_an_attempt_lets_anything_but_a_refusal_through(ctx):
    with pytest.raises(KeyError), attempt():
        add_agency("half")
        raise KeyError("bug")
    assert agencies() == 0

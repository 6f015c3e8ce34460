"""The unit of work (portal/unit_of_work.py): one commit, or nothing saved; a write kept waiting
for the lock is a 503 "busy, try again"."""

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import Activity, Agency, Application, Rating
from portal.services import ServiceError
from portal.unit_of_work import attempt, unit_of_work
from tests.conftest import TEST_DATABASE, csrf_token, login_as
from tests.factories import make_tenant
from tests.locks import impatient_settings, write_lock_held
from tests.servers import free_port


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


# Busy: another writer holds the lock past the busy timeout (issue 11)


@pytest.fixture
def impatient(make_app):
    """The app on the same database, giving up on a lock after 100 ms rather than seconds."""
    return make_app(**impatient_settings(100))


def rated() -> tuple[int, int]:
    db.session.rollback()
    return (
        db.session.scalar(select(func.count()).select_from(Rating)),
        db.session.scalar(select(func.count()).select_from(Activity).where(Activity.verb == "client.rated")),
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_a_write_kept_waiting_for_the_lock_is_a_503_busy_and_saves_nothing(impatient, database_url, htmx):
    with impatient.app_context():
        tenant = make_tenant("busyco")
        path = f"/{tenant.agency.slug}/portal/candidates/{tenant.application.id}/rating"
        client = impatient.test_client()
        login_as(client, tenant.contact)
        last_activity = tenant.application.last_activity_at
    assert client.get(f"/{tenant.agency.slug}/portal/").status_code == 200  # the visit is recorded now
    headers = {"X-CSRFToken": csrf_token(client), **({"HX-Request": "true"} if htmx else {})}

    with write_lock_held(database_url, table="rating"):
        response = client.post(path, data={"stars": "4"}, headers=headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    body = response.get_data(as_text=True)
    assert "The portal is busy, try again in a moment." in body
    if htmx:
        assert "<html" not in body and 'role="alert"' in body
        toast = json.loads(response.headers["HX-Trigger"])["toast"]
        assert toast == {"message": "The portal is busy, try again in a moment. Nothing was saved.", "level": "error"}
    else:
        assert "<html" in body and "Error 503" in body and "HX-Trigger" not in response.headers
    with impatient.app_context():
        assert rated() == (0, 0)
        assert db.session.get(Application, tenant.application.id).last_activity_at == last_activity

    # The lock is free again: the same request goes through.
    assert client.post(path, data={"stars": "4"}, headers=headers).status_code == (200 if htmx else 303)
    with impatient.app_context():
        assert rated() == (1, 1)


def test_other_database_failures_are_not_busy(make_app):
    """Only a lock timeout is "busy, try again"; any other database failure goes on to the 500
    handler (which the testing app replaces by raising it, as here)."""
    unreachable = (
        "sqlite:////nonexistent-directory/portal.db"
        if TEST_DATABASE == "sqlite"
        else f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    )
    client = make_app(SQLALCHEMY_DATABASE_URI=unreachable).test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "c:1:1"  # so the request loads its principal from the database
    with pytest.raises(OperationalError, match=r"unable to open database file|Connection refused"):
        client.get("/someagency/portal/")

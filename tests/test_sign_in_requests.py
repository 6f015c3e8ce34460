"""Client sign-in (C1) does the same work for every address: the request is queued as typed and the
worker decides whether a link goes out, so the answer (status, headers, cookies, body) cannot differ
between a known, an unknown and a deactivated address. Compared byte for byte, never timed."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import LoginToken, MailOutbox, SignInRequest
from portal.worker import answer_sign_in_requests, deliver_mail, run_once
from tests.conftest import csrf_token
from tests.factories import make_agency, make_company, make_contact

T0 = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
# One length, so that the echoed address leaves Content-Length alike.
KNOWN, INACTIVE, UNKNOWN, ELSEWHERE = (
    "known@client.example",
    "inact@client.example",
    "nobod@client.example",
    "other@client.example",
)


@pytest.fixture
def contacts(app):
    with app.app_context():
        agency = make_agency("uniform", name="Uniform Talent")
        company = make_company(agency)
        make_contact(company, email=KNOWN)
        make_contact(company, email=INACTIVE, active=False)
        elsewhere = make_agency("elsewhere")
        make_contact(make_company(elsewhere), email=ELSEWHERE)
        db.session.commit()


def answer(response, email: str) -> tuple:
    """Status, every header (cookies included) and the body with the echoed address blanked."""
    body = response.get_data().replace(email.encode(), b"<address>")
    return response.status_code, sorted(response.headers.items()), body


@pytest.mark.time_machine(T0, tick=False)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_answer_is_byte_identical_for_every_address(app, contacts, htmx):
    client = app.test_client()
    token = csrf_token(client)
    headers = {"HX-Request": "true"} if htmx else {}
    answers = {}
    for n, email in enumerate([KNOWN, UNKNOWN, INACTIVE, ELSEWHERE]):
        response = client.post(
            "/uniform/login",
            data={"csrf_token": token, "email": email},
            headers=headers,
            environ_base={"REMOTE_ADDR": f"10.8.0.{n + 1}"},  # a bucket each: the limit headers alike
        )
        answers[email] = answer(response, email)

    status, _, body = answers[KNOWN]
    assert status == 200 and b"Check your email" in body
    assert answers[UNKNOWN] == answers[KNOWN]
    assert answers[INACTIVE] == answers[KNOWN]
    assert answers[ELSEWHERE] == answers[KNOWN]
    with app.app_context():
        queued = db.session.scalars(select(SignInRequest.email).order_by(SignInRequest.id)).all()
        assert queued == [KNOWN, UNKNOWN, INACTIVE, ELSEWHERE], "every request does the same work: one row"
        assert db.session.scalars(select(MailOutbox)).all() == []
        assert db.session.scalars(select(LoginToken)).all() == []


def test_the_worker_sends_a_link_only_to_the_known_active_contact(app, contacts, smtp):
    client = app.test_client()
    for n, email in enumerate([UNKNOWN, KNOWN.upper(), INACTIVE, ELSEWHERE]):
        response = client.post(
            "/uniform/login",
            data={"csrf_token": csrf_token(client), "email": email},
            environ_base={"REMOTE_ADDR": f"10.8.1.{n + 1}"},
        )
        assert response.status_code == 200

    with app.app_context():
        result = run_once()  # one pass answers the requests and sends what they queued
        assert result["mail_sent"] == 1
        assert db.session.scalars(select(SignInRequest)).all() == []
        (token,) = db.session.scalars(select(LoginToken)).all()
        assert token.kind == "sign_in"
    (received,) = smtp.inbox.wait_for(1)
    assert received["to"] == [KNOWN]
    assert "/uniform/link/" in received["message"].get_body(preferencelist=("plain",)).get_content()
    with app.app_context():
        assert answer_sign_in_requests() == 0 and deliver_mail() == 0


def test_the_worker_decides_with_the_contact_as_it_is_then(app, contacts, smtp):
    """A contact deactivated between the request and the worker's pass gets nothing."""
    client = app.test_client()
    assert client.post("/uniform/login", data={"csrf_token": csrf_token(client), "email": KNOWN}).status_code == 200
    with app.app_context():
        from portal.models import ClientContact
        from portal.services.auth import deactivate

        deactivate(db.session.scalar(select(ClientContact).where(ClientContact.email == KNOWN)))
        db.session.commit()
        assert answer_sign_in_requests() == 1
        assert db.session.scalars(select(MailOutbox)).all() == []

"""Inviting staff is scoped to the admin's agency: an address that belongs to another agency's
account is answered exactly like a new one (it used to say it "already has an account"), and
nothing is created or sent for it. One of the admin's own users is named: that is no leak."""

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, MailOutbox, User
from tests.conftest import csrf_token
from tests.factories import make_agency, make_user

NEW, FOREIGN = "fresh@people.example", "taken@people.example"  # one length: the echo leaves the rest alike
NOTICE = re.compile(r'<p class="alert alert-success" role="status" id="invite-notice">([^<]*)</p>')


@pytest.fixture
def foreign_user(app, tenant):
    other = make_agency("rivals", name="Rival Recruiting")
    user = make_user(other, name="Tara Taken", email=FOREIGN)
    db.session.commit()
    return user.id


def invite(client, email: str, htmx: bool):
    return client.post(
        "/admin/users",
        data={"csrf_token": csrf_token(client), "name": "Nina New", "email": email, "role": "recruiter"},
        headers={"HX-Request": "true"} if htmx else {},
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_another_agencys_address_is_answered_like_a_new_one(app, admin_client, tenant, foreign_user, htmx):
    answers = {}
    for email in (NEW, FOREIGN):
        response = invite(admin_client, email, htmx)
        if not htmx:
            assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
            response = admin_client.get("/admin/users")
        html = response.get_data(as_text=True)
        answers[email] = (response.status_code, NOTICE.findall(html) or re.findall(r'class="toast">([^<]*)<', html))

    assert answers[NEW] == (200, [f"Invitation sent to {NEW}."])
    assert answers[FOREIGN] == (200, [f"Invitation sent to {FOREIGN}."])
    assert "already has an account" not in html and "Rival" not in html and "Tara Taken" not in html

    db.session.expire_all()
    foreign = db.session.get(User, foreign_user)
    assert (foreign.name, foreign.agency.slug, foreign.role) == ("Tara Taken", "rivals", "recruiter")
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == FOREIGN)) == 1
    invites = db.session.scalars(select(MailOutbox).where(MailOutbox.kind == "invite")).all()
    assert [mail.recipients for mail in invites] == [[NEW]], "nothing is sent to the other agency's user"
    summaries = db.session.scalars(
        select(Activity.summary).where(Activity.agency_id == tenant.agency.id, Activity.verb == "admin.user_invited")
    ).all()
    assert sorted(summaries) == sorted(
        f"{tenant.admin.name} invited Nina New ({e}) as recruiter" for e in (NEW, FOREIGN)
    )


def test_one_of_the_agencys_own_users_is_named(app, admin_client, tenant):
    response = invite(admin_client, tenant.recruiter.email.upper(), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"{tenant.recruiter.email} is already one of your agency&#39;s users." in html
    assert "Invitation sent" not in html

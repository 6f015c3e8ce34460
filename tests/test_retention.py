"""Retention (issue 16, item 1): with the clock moved on, inactive people are e-mailed once, then
exactly the expected ones are anonymised: not those who said "keep", never those with an open
application. The link is scanner-safe; the dry run (page and CLI) names who would be reached."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, AuditEntry, Candidate, MailOutbox, Note, ScheduledMark, utcnow
from portal.services import retention, scheduled
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_application, make_candidate, make_company, make_job, make_user

LONG_AGO = timedelta(days=30 * 31)  # well past 24 months


def _person(agency, name: str, *, created=LONG_AGO, **kw) -> Candidate:
    person = make_candidate(agency, first_name=name, last_name="Retained", **kw)
    person.emails[0].email = f"{name.lower()}@people.example"
    person.created_at = utcnow() - created
    return person


def seed():
    """An agency whose policy is on (24 months, 30 days to answer) and one person of each kind."""
    agency = make_agency(retention_enabled=True, retention_months=24, retention_answer_days=30)
    admin = make_user(agency, "admin")
    job = make_job(make_company(agency), admin)
    people = {name: _person(agency, name) for name in ("Silent", "Keeper", "Deleter", "Busy")}
    people["Fresh"] = _person(agency, "Fresh", created=timedelta(days=20))
    people["Noted"] = _person(agency, "Noted")
    people["Updated"] = _person(agency, "Updated")  # no application, but the agency wrote them lately
    people["Nomail"] = _person(agency, "Nomail")
    people["Nomail"].emails.clear()
    db.session.add(Note(agency_id=agency.id, candidate_id=people["Noted"].id, body="Called.", created_at=utcnow()))
    db.session.add(
        Activity(
            agency_id=agency.id,
            candidate_id=people["Updated"].id,
            verb="candidate.updated",
            summary="Updated their details",
            created_at=utcnow(),
        )
    )
    old = utcnow() - LONG_AGO
    # An open application, however old, spares the person; a closed one long ago does not.
    make_application(job, people["Busy"], shared=False, last_activity_at=old, applied_at=old)
    make_application(job, people["Silent"], shared=False, outcome="rejected_by_agency", last_activity_at=old)
    db.session.commit()
    return agency, admin, {name: p.id for name, p in people.items()}


def _retention_mails() -> list[MailOutbox]:
    return list(db.session.scalars(select(MailOutbox).where(MailOutbox.kind == "candidate.retention_check")))


def _link(mail: MailOutbox) -> str:
    return re.search(r"https?://[^/\s]+(/\S+/retention/[\w.-]+)", mail.text_body).group(1)


def test_asks_once_then_anonymises_exactly_the_expected_people(app, ctx):
    agency, _, ids = seed()
    now = utcnow()
    dry = {c.name.split()[0]: c.action for c in retention.cases(agency, now)}
    assert dry == {"Silent": "ask", "Keeper": "ask", "Deleter": "ask", "Nomail": "ask"}

    assert scheduled.run_pass(now, group="retention") == {"retention": {"asked": 4, "anonymised": 0}}
    assert scheduled.run_pass(now + timedelta(hours=1), group="retention")["retention"] == {
        "asked": 0,
        "anonymised": 0,
    }
    mails = _retention_mails()
    assert sorted(m.recipients[0] for m in mails) == [
        "deleter@people.example",
        "keeper@people.example",
        "silent@people.example",
    ]
    by_person = {m.recipients[0].split("@")[0]: _link(m) for m in mails}
    client = app.test_client()
    # A GET (a mail scanner) shows the question and changes nothing.
    page = client.get(by_person["keeper"])
    assert page.status_code == 200 and "Keep my details" in page.get_data(as_text=True)
    token = csrf_token(client)
    kept = client.post(by_person["keeper"], data={"csrf_token": token, "answer": "keep"})
    assert kept.status_code == 200 and "we keep your details" in kept.get_data(as_text=True)
    gone = client.post(by_person["deleter"], data={"csrf_token": token, "answer": "delete"})
    assert gone.status_code == 200 and "Your details are deleted" in gone.get_data(as_text=True)
    assert client.get(by_person["deleter"]).status_code == 404  # the link names nobody any more
    db.session.expire_all()
    assert db.session.get_one(Candidate, ids["Deleter"]).erased_at is not None

    # Within the answer period nobody else is touched; after it, the silent ones are anonymised.
    assert scheduled.run_pass(now + timedelta(days=29), group="retention")["retention"] == {
        "asked": 0,
        "anonymised": 0,
    }
    later = now + timedelta(days=31)
    assert scheduled.run_pass(later, group="retention")["retention"] == {"asked": 0, "anonymised": 2}
    assert scheduled.run_pass(later, group="retention")["retention"] == {"asked": 0, "anonymised": 0}
    db.session.expire_all()
    erased = {name for name, cid in ids.items() if db.session.get_one(Candidate, cid).erased_at is not None}
    assert erased == {"Silent", "Nomail", "Deleter"}
    assert db.session.get_one(Candidate, ids["Keeper"]).name == "Keeper Retained"
    anonymised = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "candidate_anonymised")).all()
    assert sorted(e.candidate_id for e in anonymised) == sorted([ids["Silent"], ids["Nomail"], ids["Deleter"]])
    assert all(e.actor_user_id is None for e in anonymised)
    # The mails to the erased went with them; no new ones were sent.
    assert [m.recipients for m in _retention_mails()] == [["keeper@people.example"]]


def test_the_keeper_is_asked_again_only_after_another_full_period(ctx):
    agency, _, ids = seed()
    now = utcnow()
    scheduled.run_pass(now, group="retention")
    keeper = db.session.get_one(Candidate, ids["Keeper"])
    retention.answer(keeper, "keep", now=now + timedelta(days=1))
    db.session.commit()
    assert ids["Keeper"] not in {c.candidate_id for c in retention.cases(agency, now + timedelta(days=700))}
    again = [c for c in retention.cases(agency, now + timedelta(days=800)) if c.candidate_id == ids["Keeper"]]
    assert [c.action for c in again] == ["ask"]


def test_a_policy_switched_off_does_nothing(ctx):
    agency, _, _ = seed()
    agency.retention_enabled = False
    db.session.commit()
    assert scheduled.run_pass(utcnow(), group="retention")["retention"] == {"asked": 0, "anonymised": 0}
    assert db.session.scalar(select(func.count(ScheduledMark.id))) == 0


def test_flask_retention_run_dry_run_prints_and_changes_nothing(app, ctx):
    _, _, ids = seed()
    result = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"#{ids['Silent']} Silent Retained: would be asked" in result.output
    assert "Busy" not in result.output and "Fresh" not in result.output
    assert _retention_mails() == []
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "retention: asked: 4, anonymised: 0" in result.output


def test_the_admin_page_saves_the_policy_and_shows_the_dry_run(app, ctx):
    agency, admin, _ = seed()
    client = app.test_client()
    login_as(client, admin)
    page = client.get("/admin/retention")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Silent Retained" in html and "Busy Retained" not in html
    refused = client.post(
        "/admin/retention", data={"csrf_token": csrf_token(client), "months": "0", "answer_days": "30"}
    )
    assert refused.status_code == 422 and "Enter between 1 and 240 months." in refused.get_data(as_text=True)
    saved = client.post(
        "/admin/retention", data={"csrf_token": csrf_token(client), "months": "36", "answer_days": "14"}
    )
    assert saved.status_code in (302, 303)
    db.session.expire_all()
    assert (agency.retention_enabled, agency.retention_months, agency.retention_answer_days) == (False, 36, 14)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "retention_changed"))
    assert entry.actor_user_id == admin.id and entry.detail == {"enabled": False, "months": 36, "answer_days": 14}


def test_months_before_counts_calendar_months():
    from datetime import UTC, datetime

    assert retention.months_before(datetime(2031, 3, 31, 8, tzinfo=UTC), 1) == datetime(2031, 2, 28, 8, tzinfo=UTC)
    assert retention.months_before(datetime(2031, 1, 15, tzinfo=UTC), 24) == datetime(2029, 1, 15, tzinfo=UTC)
    assert retention.months_before(datetime(2032, 5, 31, tzinfo=UTC), 3) == datetime(2032, 2, 29, tzinfo=UTC)

"""Alerts (A4): badge count, mark read, digest; candidate feedback (A8) in the candidate's zone."""

from datetime import UTC, datetime

from sqlalchemy import select

from portal.extensions import db
from portal.models import Alert, EmailTemplate, MailOutbox
from portal.services.alerts import alert_job_owner, mark_read, send_digests, unread_count
from portal.services.candidate_messages import compose_feedback, send_feedback
from portal.worker import deliver_mail

UTC = UTC


def test_badge_count_and_mark_read(desk):
    alert_job_owner(desk.application, "interview_requested", "Nia asked to interview Kavya", "k1")
    alert_job_owner(desk.application, "rejected", "Nia rejected someone", "k2")
    db.session.commit()
    assert unread_count(desk.recruiter) == 2
    first = db.session.scalar(select(Alert).where(Alert.dedupe_key == "k1"))
    assert mark_read(desk.admin, first.id) == 0  # not theirs
    assert mark_read(desk.recruiter, first.id) == 1
    db.session.commit()
    assert unread_count(desk.recruiter) == 1
    mark_read(desk.recruiter)
    db.session.commit()
    assert unread_count(desk.recruiter) == 0


def test_digest_users_get_one_daily_mail(app, desk, smtp):
    desk.recruiter.alert_email = "digest"
    db.session.commit()
    alert_job_owner(desk.application, "interview_requested", "Nia asked to interview Kavya", "d1")
    alert_job_owner(desk.application, "rated", "Nia rated Kavya 5 stars", "d2")
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(MailOutbox)) == 0
    result = app.test_cli_runner().invoke(args=["alerts", "digest"])
    assert result.exit_code == 0, result.output
    assert "1 digest" in result.output
    assert send_digests() == 0  # nothing twice
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert "Nia asked to interview Kavya" in text and "Nia rated Kavya 5 stars" in text


def test_feedback_is_kind_uses_the_reason_and_prints_the_candidates_zone(desk, smtp):
    draft = compose_feedback(desk.application)
    assert draft.subject == "Your application for Widget Engineer" and draft.zone_name == "Asia/Kolkata"
    assert "Thank you" in draft.body and "{" not in draft.body
    send_feedback(
        desk.application, desk.recruiter, draft.subject, draft.body, now=datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    )
    db.session.commit()
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    assert received["to"] == [desk.candidate.primary_email]
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert "Sent Mon 9 Mar 2026, 19:30 (Asia/Kolkata)." in text


def test_feedback_uses_the_agency_template(desk):
    db.session.add(
        EmailTemplate(
            agency_id=desk.job.agency_id,
            key="candidate_feedback",
            subject="About {job}",
            body="Dear {first_name}, thanks from {agency}. {unknown}",
        )
    )
    db.session.commit()
    draft = compose_feedback(desk.application)
    assert draft.subject == "About Widget Engineer"
    assert draft.body == "Dear Kavya, thanks from Desk Recruiting. {unknown}"

"""Alerts for the job owner (A4): stored on screen, and emailed at once when they prefer."""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Alert, Application, MailOutbox, User, utcnow
from .mail import absolute_url, send_mail, withdraw


def alert_job_owner(application: Application, kind: str, message: str, dedupe_key: str,
                    hold_mail: timedelta | None = None) -> Alert:
    """Alert the owner of the application's job, once per ``dedupe_key``; email them if they
    chose immediate alerts (digest users get it from the daily digest). ``hold_mail`` delays
    the email so an Undo within that time can withdraw it unsent."""
    owner = db.session.get(User, application.job.owner_id)
    existing = _by_key(owner.id, dedupe_key)
    if existing is not None:
        return existing
    alert = Alert(agency_id=application.agency_id, user_id=owner.id, kind=kind, message=message[:500],
                  link=f"/agency/jobs/{application.job_id}", application_id=application.id, dedupe_key=dedupe_key)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:
        return _by_key(owner.id, dedupe_key)
    if owner.active and owner.alert_email == "immediate":
        mail = send_mail(owner.agency, f"alert.{kind}", owner.email, message[:200], "alert", user=owner,
                         alert=alert, url=absolute_url("agency.job", job_id=application.job_id),
                         not_before=utcnow() + hold_mail if hold_mail else None)
        db.session.flush()
        alert.mail_id, alert.emailed_at = mail.id, utcnow()
    return alert


def retract_alert(user_id: int, dedupe_key: str) -> Alert | None:
    """Remove an alert whose action was undone, and its email if it has not gone out."""
    alert = _by_key(user_id, dedupe_key)
    if alert is not None:
        if alert.mail_id:
            withdraw(db.session.get(MailOutbox, alert.mail_id))
        db.session.delete(alert)
    return alert


def _by_key(user_id: int, dedupe_key: str) -> Alert | None:
    return db.session.scalar(select(Alert).where(Alert.user_id == user_id, Alert.dedupe_key == dedupe_key))

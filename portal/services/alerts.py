"""Alerts for the job owner (A4): stored on screen, and emailed at once when they prefer."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Alert, Application, MailOutbox, Task, User, utcnow
from .mail import absolute_url, send_mail, withdraw


def alert_job_owner(
    application: Application,
    kind: str,
    message: str,
    dedupe_key: str,
    hold_mail: timedelta | None = None,
    now: datetime | None = None,
    task: Task | None = None,
) -> Alert:
    """Alert the owner of the application's job, once per ``dedupe_key``; email them if they
    chose immediate alerts (digest users get it from the daily digest). ``hold_mail`` delays
    the email so an Undo within that time can withdraw it unsent. When the alert is about a
    ``task`` (what the owner now has to do), the alert and its email link to that task, else to
    the job."""
    owner = db.session.get_one(User, application.job.owner_id)
    return _raise(
        owner,
        kind,
        message,
        dedupe_key,
        link=f"/agency/tasks/{task.id}" if task is not None else f"/agency/jobs/{application.job_id}",
        url=absolute_url("agency.task", task_id=task.id)
        if task is not None
        else absolute_url("agency.job", job_id=application.job_id),
        application_id=application.id,
        task=task,
        not_before=(now or utcnow()) + hold_mail if hold_mail else None,
        now=now,
    )


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


def unread_count(user: User) -> int:
    """How many alerts ``user`` has not read (the badge)."""
    return (
        db.session.scalar(
            select(db.func.count()).select_from(Alert).where(Alert.user_id == user.id, Alert.read_at.is_(None))
        )
        or 0
    )


def recent_alerts(user: User, limit: int = 50) -> list[Alert]:
    """The user's latest alerts, unread first."""
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.user_id == user.id)
            .order_by(Alert.read_at.is_not(None), Alert.created_at.desc())
            .limit(limit)
        )
    )


def mark_read(user: User, alert_id: int | None = None, now=None) -> int:
    """Mark one alert (or all, when ``alert_id`` is None) of ``user`` read; returns how many."""
    query = select(Alert).where(Alert.user_id == user.id, Alert.read_at.is_(None))
    if alert_id is not None:
        query = query.where(Alert.id == alert_id)
    alerts = list(db.session.scalars(query))
    for alert in alerts:
        alert.read_at = now or utcnow()
    return len(alerts)


def send_digests(now=None) -> int:
    """Email each digest user one message listing their alerts not emailed yet.

    Returns how many digests were queued. Run daily (``flask alerts digest``)."""
    now = now or utcnow()
    pending = db.session.scalars(
        select(Alert)
        .join(User, User.id == Alert.user_id)
        .where(User.alert_email == "digest", User.active.is_(True), Alert.emailed_at.is_(None), Alert.created_at <= now)
        .order_by(Alert.user_id, Alert.created_at)
    ).all()
    by_user: dict[int, list[Alert]] = {}
    for alert in pending:
        by_user.setdefault(alert.user_id, []).append(alert)
    for user_id, alerts in by_user.items():
        user = db.session.get_one(User, user_id)
        send_mail(
            user.agency,
            "alert.digest",
            user.email,
            f"Your daily digest: {len(alerts)} alert(s)",
            "alert_digest",
            user=user,
            # Each line links to what it is about: its task when it has one, else its job.
            entries=[(a.message, _absolute(a.link)) for a in alerts],
            url=absolute_url("agency.alerts"),
        )
        for alert in alerts:
            alert.emailed_at = now
    return len(by_user)


def _absolute(link: str | None) -> str:
    """An alert's stored in-app path as an address for an email."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + (link or "/agency/alerts")


def alert_user(
    user: User, kind: str, message: str, *, endpoint: str, dedupe_key: str, now: datetime | None = None, **values
) -> Alert:
    """Alert one staff member about something that is not an application's (a candidate's consent
    answer, say), once per ``dedupe_key``; the page is ``endpoint`` with ``values``. E-mailed at
    once when they chose immediate alerts; digest users get it in the daily digest."""
    return _raise(
        user,
        kind,
        message,
        dedupe_key,
        link=current_app.url_map.bind("localhost", script_name="/").build(endpoint, values),
        url=absolute_url(endpoint, **values),
        now=now,
    )


def _raise(
    user: User,
    kind: str,
    message: str,
    dedupe_key: str,
    *,
    link: str,
    url: str,
    application_id: int | None = None,
    task: Task | None = None,
    not_before: datetime | None = None,
    now: datetime | None,
) -> Alert:
    """The one way an alert is stored (once per ``dedupe_key``, safe against a concurrent twin)
    and, for users who chose immediate alerts, e-mailed (not before ``not_before``)."""
    now = now or utcnow()
    existing = _by_key(user.id, dedupe_key)
    if existing is not None:
        return existing
    alert = Alert(
        agency_id=user.agency_id,
        user_id=user.id,
        kind=kind,
        message=message[:500],
        link=link,
        application_id=application_id,
        dedupe_key=dedupe_key,
    )
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:
        # Another request alerted them between our read and our insert: use theirs.
        theirs = _by_key(user.id, dedupe_key)
        if theirs is None:
            raise  # not the dedupe key: the insert broke another constraint
        return theirs
    if user.active and user.alert_email == "immediate":
        mail = send_mail(
            user.agency,
            f"alert.{kind}",
            user.email,
            message[:200],
            "alert",
            user=user,
            alert=alert,
            task=task,
            url=url,
            not_before=not_before,
        )
        db.session.flush()
        alert.mail_id, alert.emailed_at = mail.id, now
    return alert

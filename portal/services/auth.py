"""Sign-in for both principal kinds: staff passwords and client magic links (C1, C2, C2a).

An emailed link carries an itsdangerous-signed token id; the server-side ``LoginToken`` row
holds the contact, job, expiry and single use, and the contact's ``session_version`` is signed
into the token so deactivating a contact revokes every link at once. A GET of a link never
consumes it: only the POST from the "Continue" page does (link scanners only GET).
"""

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import (
    Agency,
    Application,
    ClientContact,
    EndedSession,
    Job,
    LoginToken,
    SignInRequest,
    User,
    as_utc,
    utcnow,
)
from . import ServiceError
from .agency_templates import render_email
from .mail import absolute_url, normalise_email, send_mail
from .security_log import link_ref, record_security_event

SALT = "portal.login-link"


@dataclass
class LinkCheck:
    """What a link turned out to be; ``state`` is ok, expired, used or revoked."""

    state: str
    token: LoginToken
    contact: ClientContact
    job: Job | None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_link(
    contact: ClientContact,
    kind: str,
    job: Job | None = None,
    *,
    issued_by: User | None = None,
    revealed_to: User | None = None,
) -> str:
    """Create a link token (in the current transaction) and return the absolute URL. ``issued_by``:
    the staff member who had it sent, if any; ``revealed_to``: the one a "Copy link" shows it to."""
    return _url(contact, _new_token(contact, kind, job, issued_by=issued_by, revealed_to=revealed_to))


def _new_token(
    contact: ClientContact, kind: str, job: Job | None, *, issued_by: User | None, revealed_to: User | None
) -> LoginToken:
    if kind == "sign_in":
        lifetime = timedelta(minutes=current_app.config["SIGN_IN_LINK_MINUTES"])
    else:
        lifetime = timedelta(days=contact.agency.landing_link_days or current_app.config["LANDING_LINK_DAYS"])
    row = LoginToken(
        id=secrets.token_urlsafe(32),
        agency_id=contact.agency_id,
        contact_id=contact.id,
        job_id=job.id if job else None,
        kind=kind,
        expires_at=utcnow() + lifetime,
        revealed_by_user_id=revealed_to.id if revealed_to else None,
    )
    db.session.add(row)
    record_security_event(
        "client_link_issued",
        agency_id=contact.agency_id,
        actor=issued_by or revealed_to,
        subject=contact,
        link_kind=kind,
        job_id=job.id if job else None,
        link=link_ref(row),
    )
    return row


def _url(contact: ClientContact, token: LoginToken) -> str:
    signed = _serializer().dumps({"t": token.id, "v": contact.session_version})
    return absolute_url("auth.link", slug=contact.agency.slug, token=signed)


def _landing_token(
    contact: ClientContact, job: Job, *, issued_by: User | None = None, revealed_to: User | None = None
) -> LoginToken:
    """A live landing token for one contact and job, reused so copies stay stable. Links revealed
    to a staff member are kept apart (one per staff member) from those emailed to the contact: a
    session opened with a revealed link is attributed to whom it was revealed."""
    revealed = (
        LoginToken.revealed_by_user_id == revealed_to.id if revealed_to else LoginToken.revealed_by_user_id.is_(None)
    )
    existing = db.session.scalar(
        select(LoginToken)
        .where(
            LoginToken.contact_id == contact.id,
            LoginToken.job_id == job.id,
            LoginToken.kind == "landing",
            revealed,
            LoginToken.expires_at > utcnow() + timedelta(days=1),
        )
        .order_by(LoginToken.expires_at.desc())
        .limit(1)
    )
    return existing or _new_token(contact, "landing", job, issued_by=issued_by, revealed_to=revealed_to)


def landing_link(contact: ClientContact, job: Job, *, issued_by: User | None = None) -> str:
    """A job landing link for one contact (C2) to be emailed to them, reusing a live one."""
    return _url(contact, _landing_token(contact, job, issued_by=issued_by))


def reveal_landing_link(contact: ClientContact, job: Job, by: User) -> str:
    """ "Copy link": show ``by`` a landing link of their own for the contact, and record it. What is
    done in a session it opens is attributed to ``by`` (``LoginToken.revealed_by_user_id``)."""
    token = _landing_token(contact, job, revealed_to=by)
    record_security_event(
        "client_link_revealed",
        agency_id=contact.agency_id,
        actor=by,
        subject=contact,
        job_id=job.id,
        link=link_ref(token),
    )
    return _url(contact, token)


def landing_candidate(check: LinkCheck, application_id: int | None) -> int | None:
    """``application_id`` when a landing link may lead straight to that candidate (a reminder's
    links do): an application on the link's job. The portal then applies the contact's scope."""
    if check.job is None or not application_id:
        return None
    found = select(Application.id).where(Application.id == application_id, Application.job_id == check.job.id)
    return db.session.scalar(found)


def check_link(agency: Agency, signed: str) -> LinkCheck | None:
    """Inspect a link without changing anything. None when it is not ours at all (forged)."""
    try:
        payload = _serializer().loads(signed)
        token = db.session.get(LoginToken, payload["t"])
    except (BadSignature, KeyError, TypeError):
        return None
    if token is None or token.agency_id != agency.id:
        return None
    contact = db.session.get_one(ClientContact, token.contact_id)
    job = db.session.get(Job, token.job_id) if token.job_id else None
    if not contact.active or str(payload.get("v")) != str(contact.session_version):
        state = "revoked"
    elif token.kind == "sign_in" and token.used_at is not None:
        state = "used"
    elif as_utc(token.expires_at) <= utcnow():
        state = "expired"
    else:
        state = "ok"
    return LinkCheck(state, token, contact, job)


def redeem_link(agency: Agency, signed: str) -> LinkCheck | None:
    """Consume a link for sign-in (the Continue POST). Single-use links are claimed atomically."""
    check = check_link(agency, signed)
    if check is None:
        return None
    if check.state != "ok":
        _record_refused(check)
        return check
    if check.token.kind == "sign_in":
        result = db.session.execute(
            update(LoginToken)
            .where(LoginToken.id == check.token.id, LoginToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        # Session.execute is typed with the general Result; an UPDATE's carries the row count.
        assert isinstance(result, CursorResult)
        claimed = result.rowcount
        if claimed != 1:
            check.state = "used"
            _record_refused(check)
            return check
    revealed_to = check.token.revealed_by_user_id
    # The contact object may be the one this request's loader set up for an earlier session.
    check.contact.revealed_by = db.session.get(User, revealed_to) if revealed_to else None
    record_security_event(
        "client_link_redeemed",
        agency_id=agency.id,
        actor=check.contact,
        subject=check.contact,
        link_kind=check.token.kind,
        job_id=check.token.job_id,
        link=link_ref(check.token),
    )
    return check


def _record_refused(check: LinkCheck) -> None:
    record_security_event(
        "client_link_refused",
        agency_id=check.token.agency_id,
        subject=check.contact,
        state=check.state,
        link_kind=check.token.kind,
        link=link_ref(check.token),
    )


def request_sign_in(agency: Agency, email: str) -> None:
    """Queue the request as typed. Whether ``email`` is an active contact is the worker's question
    (:func:`answer_sign_in_request`): the web request does the same work either way (no enumeration)."""
    address = normalise_email(email)
    db.session.add(SignInRequest(agency_id=agency.id, email=address))
    record_security_event("client_sign_in_requested", agency_id=agency.id, email=address)


def next_sign_in_request() -> SignInRequest | None:
    """The oldest queued sign-in request, claimed for this unit of work (``SKIP LOCKED`` on
    PostgreSQL; the unit of work's write lock on SQLite)."""
    return db.session.scalar(
        select(SignInRequest).order_by(SignInRequest.id).limit(1).with_for_update(skip_locked=True)
    )


def answer_sign_in_request(queued: SignInRequest) -> bool:
    """Email a sign-in link when the request names an active contact of its agency; drop it either
    way. True when a link was queued."""
    contact = db.session.scalar(
        select(ClientContact).where(
            ClientContact.agency_id == queued.agency_id,
            ClientContact.email == queued.email,
            ClientContact.active.is_(True),
        )
    )
    db.session.delete(queued)
    if contact is None:
        return False
    _mail_sign_in_link(contact)
    return True


def _mail_sign_in_link(contact: ClientContact) -> None:
    """Queue a fresh single-use sign-in link, worded by the agency's "sign_in" email template."""
    agency = contact.agency
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
    subject, body = render_email(
        agency, "sign_in", {"name": contact.name, "agency": agency.title, "minutes": str(minutes)}
    )
    send_mail(
        agency,
        "sign_in",
        contact.email,
        subject,
        "configured",
        body=body,
        url=issue_link(contact, "sign_in"),
        button_label="Sign in",
    )


def _mail_landing_link(contact: ClientContact, job: Job, url: str) -> None:
    """Queue a job landing link, worded by the agency's "landing" email template."""
    agency = contact.agency
    subject, body = render_email(
        agency,
        "landing",
        {"name": contact.name, "agency": agency.title, "job": job.title, "days": str(agency.landing_link_days)},
    )
    send_mail(
        agency, "landing", contact.email, subject, "configured", body=body, url=url, button_label="Review candidates"
    )


def resend_link(check: LinkCheck) -> None:
    """Email a fresh link of the same kind to the address on file (from an expired or used link)."""
    if not check.contact.active:
        return
    if check.job is not None:
        _mail_landing_link(check.contact, check.job, issue_link(check.contact, "landing", check.job))
    else:
        _mail_sign_in_link(check.contact)


def email_landing_link(contact: ClientContact, job: Job, sent_by: User) -> str:
    """Email one contact the landing link for one job (C2) and record it on the timeline."""
    from .activity import record

    if contact.company_id != job.company_id or contact.agency_id != job.agency_id:
        raise ServiceError("That contact does not belong to this job's client.", field="contact")
    if not contact.active:
        raise ServiceError("That contact is deactivated.", field="contact")
    url = landing_link(contact, job, issued_by=sent_by)
    _mail_landing_link(contact, job, url)
    record(
        job.agency_id,
        "link.emailed",
        f"Emailed the job link to {contact.name}",
        actor=sent_by,
        job_id=job.id,
        contact_id=contact.id,
    )
    return url


def authenticate_staff(email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same cost either way)."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    # One hash check whatever the account: unknown, deactivated and not-yet-set-up accounts are
    # checked against a dummy hash, so the time taken does not say which it was.
    stored = user.password_hash if user is not None and user.password_hash else None
    matches = check_password_hash(stored or _dummy_hash(), password or "")
    if user is None or stored is None or not user.active or not matches:
        return None
    return user


def deactivate(principal: User | ClientContact, by: User | None = None) -> None:
    """Deactivate a user or contact: their sessions and emailed links stop working at once."""
    principal.active = False
    principal.session_version += 1
    kind = "user_deactivated" if isinstance(principal, User) else "contact_deactivated"
    record_security_event(kind, agency_id=principal.agency_id, actor=by, subject=principal)


def end_session(session_id: str, valid_until: datetime, now: datetime | None = None) -> None:
    """Logout: refuse this session id from now on, until ``valid_until`` (when its absolute limit would
    end it anyway), and forget ids past theirs. Signing out twice at once records it once."""
    now = now or utcnow()
    db.session.execute(delete(EndedSession).where(EndedSession.expires_at < now))
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(EndedSession)
        .values(id=session_id, ended_at=now, expires_at=valid_until)
        .on_conflict_do_nothing(index_elements=["id"])
    )


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))

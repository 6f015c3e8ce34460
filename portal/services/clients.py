"""Client companies (with an optional co-branding logo) and their contacts (B2).

Changes go into the caller's unit of work.
"""

from sqlalchemy import select

from ..extensions import db
from ..models import ClientCompany, ClientContact, User
from . import ServiceError
from .activity import record
from .agency_templates import render_email
from .auth import deactivate, issue_link
from .branding import process_logo
from .mail import normalise_email, send_mail
from .validation import clean_line, ensure_unique


def _company_name(agency_id: int, name: str, company: ClientCompany | None = None) -> str:
    name = clean_line(
        name,
        field="name",
        max_length=200,
        empty="Enter the company name.",
        too_long="A company name can be at most 200 characters.",
    )
    ensure_unique(
        ClientCompany.name,
        name,
        ClientCompany.agency_id == agency_id,
        current_id=company.id if company else None,
        field="name",
        message=f"There is already a client called “{name}”.",
    )
    return name


def save_company(
    actor: User,
    name: str,
    logo: bytes | None = None,
    logo_filename: str | None = None,
    remove_logo: bool = False,
    company: ClientCompany | None = None,
) -> ClientCompany:
    """Create or update a client company; an uploaded logo goes through the same checks as the agency's."""
    name = _company_name(actor.agency_id, name, company)
    new_logo = process_logo(logo, logo_filename) if logo is not None else None
    verb = "updated" if company else "added"
    if company is None:
        company = ClientCompany(agency_id=actor.agency_id)
        db.session.add(company)
    company.name = name
    if new_logo is not None:
        company.logo_png = new_logo
    elif remove_logo:
        company.logo_png = None
    db.session.flush()
    record(
        actor.agency_id,
        f"admin.company_{verb}",
        f"{actor.name} {verb} the client {name}" + (" with a new logo" if new_logo else ""),
        actor=actor,
        company_id=company.id,
    )
    return company


def company_contacts(company: ClientCompany) -> list[ClientContact]:
    """The company's contacts: active ones first, then by name."""
    return list(
        db.session.scalars(
            select(ClientContact)
            .where(ClientContact.company_id == company.id)
            .order_by(ClientContact.active.desc(), ClientContact.name)
        )
    )


def _send_contact_link(contact: ClientContact, actor: User) -> None:
    agency = contact.agency
    url = issue_link(contact, "sign_in", issued_by=actor)
    subject, body = render_email(
        agency, "contact_invite", {"name": contact.name, "agency": agency.title, "company": contact.company.name}
    )
    send_mail(
        agency, "contact_invite", contact.email, subject, "configured", body=body, url=url, button_label="Sign in"
    )


def invite_contact(actor: User, company: ClientCompany, name: str, email: str) -> ClientContact:
    """Add a contact to a client company and email them a sign-in link."""
    name = clean_line(
        name,
        field="name",
        max_length=200,
        empty="Enter the contact's name.",
        too_long="A name can be at most 200 characters.",
    )
    address = normalise_email(email)
    if (
        db.session.scalar(
            select(ClientContact.id).where(ClientContact.agency_id == actor.agency_id, ClientContact.email == address)
        )
        is not None
    ):
        raise ServiceError(f"{address} is already a contact of one of your clients.", field="email")
    contact = ClientContact(agency_id=actor.agency_id, company_id=company.id, name=name, email=address)
    db.session.add(contact)
    db.session.flush()
    _send_contact_link(contact, actor)
    record(
        actor.agency_id,
        "admin.contact_invited",
        f"{actor.name} invited {name} ({address}) of {company.name}",
        actor=actor,
        contact_id=contact.id,
        company_id=company.id,
    )
    return contact


def resend_contact_link(actor: User, contact: ClientContact) -> None:
    """Email an active contact a fresh sign-in link."""
    if not contact.active:
        raise ServiceError(f"{contact.name} is deactivated; reactivate them first.", field="contact")
    _send_contact_link(contact, actor)
    record(
        actor.agency_id,
        "admin.contact_link_sent",
        f"{actor.name} sent {contact.name} a sign-in link",
        actor=actor,
        contact_id=contact.id,
    )


def deactivate_contact(actor: User, contact: ClientContact) -> None:
    """Deactivate a contact: signed out at once, every emailed link revoked."""
    if not contact.active:
        return
    record(
        actor.agency_id,
        "admin.contact_deactivated",
        f"{actor.name} deactivated {contact.name}",
        actor=actor,
        contact_id=contact.id,
    )
    deactivate(contact, by=actor)


def reactivate_contact(actor: User, contact: ClientContact) -> None:
    """Let a contact sign in again (links sent before deactivation stay revoked)."""
    if contact.active:
        return
    contact.active = True
    record(
        actor.agency_id,
        "admin.contact_reactivated",
        f"{actor.name} reactivated {contact.name}",
        actor=actor,
        contact_id=contact.id,
    )

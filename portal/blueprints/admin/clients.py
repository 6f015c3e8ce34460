"""Client companies (with a co-branding logo) and their contacts (B2)."""

from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...forms import EmptyForm
from ...htmx import redirect_for, render
from ...models import ClientCompany, ClientContact
from ...scoping import get_scoped_or_404, scoped
from ...services import ServiceError, clients
from . import bp
from .forms import ActiveForm, CompanyForm, ContactForm, show_refusal, uploaded_file
from .responses import after_change


def _companies_page(form=None, status=200):
    companies = db.session.scalars(scoped(ClientCompany).order_by(ClientCompany.name)).all()
    return render(
        "admin/companies.html",
        "admin/_companies.html",
        status=status,
        companies=companies,
        form=form or CompanyForm(formdata=None),
    )


@bp.get("/companies")
def companies():
    """Client companies and the form to add one."""
    return _companies_page()


@bp.post("/companies")
def create_company():
    """Add a client company (with an optional co-branding logo)."""
    form = CompanyForm()
    if form.validate_on_submit():
        logo, filename = uploaded_file(form.logo)
        try:
            company = clients.save_company(current_user, form.name.data, logo, filename)
        except ServiceError as exc:
            db.session.rollback()
            show_refusal(form, exc)
        else:
            return redirect_for(url_for("admin.company", company_id=company.id))
    return _companies_page(form, status=422)


def _company_page(company, form=None, contact_form=None, status=200, error_for=None, error=None):
    contacts = db.session.scalars(
        select(ClientContact)
        .where(ClientContact.company_id == company.id)
        .order_by(ClientContact.active.desc(), ClientContact.name)
    ).all()
    return render(
        "admin/company.html",
        "admin/_contacts.html",
        status=status,
        company=company,
        contacts=contacts,
        form=form or CompanyForm(formdata=None, obj=company),
        contact_form=contact_form or ContactForm(formdata=None),
        error_for=error_for,
        error=error,
    )


@bp.get("/companies/<int:company_id>")
def company(company_id: int):
    """One client company: its details, logo and contacts."""
    return _company_page(get_scoped_or_404(ClientCompany, company_id))


@bp.post("/companies/<int:company_id>")
def update_company(company_id: int):
    """Rename a company or change its co-branding logo."""
    company = get_scoped_or_404(ClientCompany, company_id)
    form = CompanyForm()
    if form.validate_on_submit():
        logo, filename = uploaded_file(form.logo)
        try:
            clients.save_company(current_user, form.name.data, logo, filename, form.remove_logo.data, company)
        except ServiceError as exc:
            db.session.rollback()
            show_refusal(form, exc)
        else:
            return redirect_for(url_for("admin.company", company_id=company.id))
    # The company form is not part of the contacts partial: a refusal shows the whole page.
    return render(
        "admin/company.html",
        status=422,
        company=company,
        contacts=company.contacts,
        form=form,
        contact_form=ContactForm(formdata=None),
        error_for=None,
        error=None,
    )


@bp.post("/companies/<int:company_id>/contacts")
def invite_contact(company_id: int):
    """Add a contact to the company and email them a sign-in link."""
    company = get_scoped_or_404(ClientCompany, company_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            clients.invite_contact(current_user, company, form.name.data, form.email.data)
        except ServiceError as exc:
            db.session.rollback()
            show_refusal(form, exc)
        else:
            return after_change("admin.company", lambda: _company_page(company), company_id=company.id)
    return _company_page(company, contact_form=form, status=422)


def _contact_action(contact_id: int, form_class, action):
    contact = get_scoped_or_404(ClientContact, contact_id)
    company = contact.company
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        action(contact, form)
    except ServiceError as exc:
        db.session.rollback()
        return _company_page(company, status=422, error_for=contact.id, error=exc.message)
    return after_change("admin.company", lambda: _company_page(company), company_id=company.id)


@bp.post("/contacts/<int:contact_id>/active")
def set_contact_active(contact_id: int):
    """Deactivate (signs them out, revokes their links) or reactivate a contact."""

    def act(contact, form):
        if form.active.data == "0":
            clients.deactivate_contact(current_user, contact)
        else:
            clients.reactivate_contact(current_user, contact)

    return _contact_action(contact_id, ActiveForm, act)


@bp.post("/contacts/<int:contact_id>/resend")
def resend_contact_link(contact_id: int):
    """Email the contact a fresh sign-in link."""
    return _contact_action(
        contact_id, EmptyForm, lambda contact, form: clients.resend_contact_link(current_user, contact)
    )

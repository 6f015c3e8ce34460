"""Client companies (with a co-branding logo) and their contacts (B2).

A refused change to one contact is shown on their row; the forms show their refusals on the field.
"""

from flask import url_for
from flask_login import current_user

from ...htmx import redirect_for, render
from ...models import ClientCompany, ClientContact
from ...scoping import client_companies, get_scoped_or_404
from ...services import clients
from ...unit_of_work import attempt
from . import bp
from .forms import ActiveForm, CompanyForm, ContactForm, form_problems, show_refusal, uploaded_file
from .responses import after_change


def _companies_context(form=None) -> dict:
    """What ``admin/_companies.html`` shows: the agency's clients and the form to add one."""
    return {"companies": client_companies(), "form": form or CompanyForm(formdata=None)}


@bp.get("/companies")
def companies():
    """Client companies and the form to add one."""
    return render("admin/companies.html", "admin/_companies.html", **_companies_context())


@bp.post("/companies")
def create_company():
    """Add a client company (with an optional co-branding logo)."""
    form = CompanyForm()
    if form.validate_on_submit():
        logo, filename = uploaded_file(form.logo)
        with attempt() as outcome:
            company = clients.save_company(current_user, form.name.data, logo, filename)
        if outcome.refusal is None:
            return redirect_for(url_for("admin.company", company_id=company.id))
        show_refusal(form, outcome.refusal)
    return render("admin/companies.html", "admin/_companies.html", status=422, **_companies_context(form))


def _contacts_context(company: ClientCompany, contact_form=None, error_for=None, error=None) -> dict:
    """What ``admin/_contacts.html`` shows: the company's contacts, the invite form, and the
    refusal for the row ``error_for``."""
    return {
        "company": company,
        "contacts": clients.company_contacts(company),
        "contact_form": contact_form or ContactForm(formdata=None),
        "error_for": error_for,
        "error": error,
    }


def _company_page(company: ClientCompany, status=200, **contacts):
    """The company's page, its details form beside the contacts; htmx gets the contacts partial."""
    return render(
        "admin/company.html",
        "admin/_contacts.html",
        status=status,
        form=CompanyForm(formdata=None, obj=company),
        **_contacts_context(company, **contacts),
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
        with attempt() as outcome:
            clients.save_company(current_user, form.name.data, logo, filename, form.remove_logo.data, company)
        if outcome.refusal is None:
            return redirect_for(url_for("admin.company", company_id=company_id))
        show_refusal(form, outcome.refusal)
    # The company form is not part of the contacts partial: a refusal shows the whole page.
    return render("admin/company.html", status=422, form=form, **_contacts_context(company))


@bp.post("/companies/<int:company_id>/contacts")
def invite_contact(company_id: int):
    """Add a contact to the company and email them a sign-in link."""
    company = get_scoped_or_404(ClientCompany, company_id)
    form = ContactForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            clients.invite_contact(current_user, company, form.name.data, form.email.data)
        if outcome.refusal is None:
            return after_change("admin.company", lambda: _company_page(company), company_id=company_id)
        show_refusal(form, outcome.refusal)
    return _company_page(company, status=422, contact_form=form)


def _contact_action(contact_id: int, action, form=None):
    """Apply ``action`` to one contact in one unit of work; a refusal is shown on the contact's row."""
    contact = get_scoped_or_404(ClientContact, contact_id)
    company = contact.company
    if form is not None and not form.validate_on_submit():
        return _company_page(company, status=422, error_for=contact_id, error=form_problems(form))
    with attempt() as outcome:
        action(contact)
    if outcome.refusal is not None:
        return _company_page(company, status=422, error_for=contact_id, error=outcome.refusal.message)
    return after_change("admin.company", lambda: _company_page(company), company_id=company.id)


@bp.post("/contacts/<int:contact_id>/active")
def set_contact_active(contact_id: int):
    """Deactivate (signs them out, revokes their links) or reactivate a contact."""
    form = ActiveForm()

    def act(contact):
        if form.active.data == "0":
            clients.deactivate_contact(current_user, contact)
        else:
            clients.reactivate_contact(current_user, contact)

    return _contact_action(contact_id, act, form)


@bp.post("/contacts/<int:contact_id>/resend")
def resend_contact_link(contact_id: int):
    """Email the contact a fresh sign-in link."""
    return _contact_action(contact_id, lambda contact: clients.resend_contact_link(current_user, contact))

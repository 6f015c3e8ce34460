"""Admin pages (spec B1, B2) and the mail outbox (M1). Only the agency's admins reach them;
everyone else gets a 404, as if the pages did not exist.

Each section is one page that includes its partial; htmx requests get the partial back, plain
form posts are redirected (303) after a change. A refusal re-renders the form with status 422 and
the message on the field at fault; the service has committed nothing.
"""

from flask import Blueprint, abort, make_response, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...extensions import db
from ...forms import EmptyForm
from ...htmx import is_htmx, redirect_for, render
from ...models import (
    Activity,
    Candidate,
    ClientCompany,
    ClientContact,
    MailOutbox,
    ProfileTemplate,
    Reason,
    StageDefinition,
    User,
)
from ...scoping import get_scoped_or_404, scoped
from ...services import ServiceError, agency_templates, branding, clients, staff
from ...services import mail as mail_service
from ...services import pipeline_config as pipeline
from .forms import (
    ActiveForm,
    BrandingForm,
    CompanyForm,
    ContactForm,
    EmailTemplateForm,
    InviteUserForm,
    MoveForm,
    ProfileTemplateForm,
    ReasonForm,
    RoleForm,
    StageForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

SECTIONS = [
    ("admin.branding_edit", "Branding"),
    ("admin.users", "Users"),
    ("admin.companies", "Clients"),
    ("admin.stages", "Pipeline stages"),
    ("admin.reasons", "Reasons"),
    ("admin.profile_templates", "Profile templates"),
    ("admin.email_templates", "Email templates"),
    ("admin.outbox", "Mail outbox"),
]


@bp.before_request
@login_required
def _only_admins():
    """Admin pages exist only for the agency's admins."""
    if not (current_user.is_staff and current_user.is_admin):
        abort(404)


@bp.context_processor
def _sections():
    return {"admin_sections": SECTIONS}


@bp.errorhandler(413)
def _too_large(exc):
    """A body over MAX_CONTENT_LENGTH never reaches the logo checks: say what the limit is."""
    from ...errors import render_error

    return render_error(
        413,
        "File too large",
        "That upload is larger than the server accepts. "
        "Logos can be at most 2 MB: choose a smaller PNG, JPEG or WebP file.",
    )


def _fail(form, exc: ServiceError) -> None:
    """Show a service refusal on the field it names (or above the form)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def _upload(field):
    """(bytes, filename) of an uploaded file, or (None, None) when none was chosen."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", None):
        return None, None
    return storage.read(), storage.filename


def _after_change(endpoint: str, render_partial, **values):
    """htmx gets the refreshed partial; a plain post is redirected to the section."""
    if is_htmx():
        return render_partial()
    return redirect_for(url_for(endpoint, **values))


@bp.get("/")
def index():
    """The admin home: the sections and the latest configuration changes (who changed what)."""
    changes = db.session.scalars(
        scoped(Activity).where(Activity.verb.startswith("admin.")).order_by(Activity.id.desc()).limit(20)
    ).all()
    return render("admin/index.html", changes=changes)


@bp.get("/branding")
def branding_edit():
    """The branding form with its live preview."""
    agency = current_user.agency
    form = BrandingForm(obj=agency)
    return _branding_page(form, agency)


def _branding_page(form, agency, status=200, saved=False):
    # Until the admin types, the preview shows the saved branding.
    return render(
        "admin/branding.html",
        "admin/_branding_form.html",
        status=status,
        form=form,
        agency=agency,
        draft=agency,
        preview_error=None,
        saved=saved,
    )


@bp.post("/branding")
def branding_update():
    """Save the branding (and an optional logo); bumps the branding version."""
    agency = current_user.agency
    form = BrandingForm()
    if form.validate_on_submit():
        logo, filename = _upload(form.logo)
        try:
            branding.save_branding(
                agency, form.data, current_user, logo=logo, logo_filename=filename, remove_logo=form.remove_logo.data
            )
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
        else:
            if is_htmx():
                return _branding_page(BrandingForm(formdata=None, obj=agency), agency, saved=True)
            return redirect_for(url_for("admin.branding_edit", saved=1))
    return _branding_page(form, agency, status=422)


@bp.post("/branding/preview")
def branding_preview():
    """Render the preview of unsaved branding values. Nothing is stored."""
    agency = current_user.agency
    form = BrandingForm()
    error = None
    try:
        draft = branding.validate_branding(agency, form.data)
    except ServiceError as exc:
        error = exc.message
        draft = branding.BrandingDraft(
            name=agency.name,
            slug=agency.slug,
            portal_title=form.portal_title.data or None,
            welcome_text=form.welcome_text.data or None,
            primary_color=form.primary_color.data or "",
            accent_color=form.accent_color.data or "",
            email_sender_name=form.email_sender_name.data,
            email_footer=form.email_footer.data,
            logo_content_type=agency.logo_content_type,
            branding_version=agency.branding_version,
        )
    return render("admin/_branding_preview.html", agency=agency, draft=draft, preview_error=error)


@bp.get("/branding/preview.css")
def branding_preview_css():
    """The preview's colours as a stylesheet (the CSP allows no style attributes)."""
    response = make_response(branding.preview_css(request.args.get("primary"), request.args.get("accent")))
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _users_page(form=None, status=200, error_for=None, error=None):
    users = db.session.scalars(scoped(User).order_by(User.active.desc(), User.name)).all()
    return render(
        "admin/users.html",
        "admin/_users.html",
        status=status,
        users=users,
        form=form or InviteUserForm(formdata=None),
        action_form=EmptyForm(),
        error_for=error_for,
        error=error,
    )


@bp.get("/users")
def users():
    """Agency users, their roles, and the invite form."""
    return _users_page()


@bp.post("/users")
def invite_user():
    """Create a user and email them a set-password link."""
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            staff.invite_user(current_user, form.name.data, form.email.data, form.role.data)
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
        else:
            return _after_change("admin.users", _users_page)
    return _users_page(form, status=422)


def _user_action(user_id: int, form_class, action):
    user = get_scoped_or_404(User, user_id)
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        action(user, form)
    except ServiceError as exc:
        db.session.rollback()
        return _users_page(status=422, error_for=user.id, error=exc.message)
    return _after_change("admin.users", _users_page)


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int):
    """Make a user admin or recruiter."""
    return _user_action(user_id, RoleForm, lambda user, form: staff.change_role(current_user, user, form.role.data))


@bp.post("/users/<int:user_id>/active")
def set_user_active(user_id: int):
    """Deactivate (signs them out everywhere) or reactivate a user."""

    def act(user, form):
        if form.active.data == "0":
            staff.deactivate_user(current_user, user)
        else:
            staff.reactivate_user(current_user, user)

    return _user_action(user_id, ActiveForm, act)


@bp.post("/users/<int:user_id>/resend")
def resend_invite(user_id: int):
    """Email the user a fresh set-password link."""
    return _user_action(user_id, EmptyForm, lambda user, form: staff.resend_invite(current_user, user))


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
        logo, filename = _upload(form.logo)
        try:
            company = clients.save_company(current_user, form.name.data, logo, filename)
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
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
        action_form=EmptyForm(),
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
        logo, filename = _upload(form.logo)
        try:
            clients.save_company(current_user, form.name.data, logo, filename, form.remove_logo.data, company)
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
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
        action_form=EmptyForm(),
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
            _fail(form, exc)
        else:
            return _after_change("admin.company", lambda: _company_page(company), company_id=company.id)
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
    return _after_change("admin.company", lambda: _company_page(company), company_id=company.id)


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


def _stages_page(form=None, status=200, error_for=None, error=None):
    stages = pipeline.stages(current_user.agency_id)
    counts = {stage.id: pipeline.applications_in_stage(stage) for stage in stages}
    return render(
        "admin/stages.html",
        "admin/_stages.html",
        status=status,
        stages=stages,
        counts=counts,
        form=form or StageForm(formdata=None),
        action_form=EmptyForm(),
        error_for=error_for,
        error=error,
    )


@bp.get("/stages")
def stages():
    """The pipeline stages in order, with how many applications sit in each."""
    return _stages_page()


@bp.post("/stages")
def add_stage():
    """Add a stage at the end."""
    form = StageForm()
    if form.validate_on_submit():
        try:
            pipeline.add_stage(current_user, form.name.data)
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
        else:
            return _after_change("admin.stages", _stages_page)
    return _stages_page(form, status=422)


def _stage_action(stage_id: int, form_class, action):
    stage = get_scoped_or_404(StageDefinition, stage_id)
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        action(stage, form)
    except ServiceError as exc:
        db.session.rollback()
        return _stages_page(status=422, error_for=stage_id, error=exc.message)
    return _after_change("admin.stages", _stages_page)


@bp.post("/stages/<int:stage_id>")
def rename_stage(stage_id: int):
    """Rename a stage."""
    return _stage_action(
        stage_id, StageForm, lambda stage, form: pipeline.rename_stage(current_user, stage, form.name.data)
    )


@bp.post("/stages/<int:stage_id>/move")
def move_stage(stage_id: int):
    """Move a stage one place up or down."""
    return _stage_action(
        stage_id, MoveForm, lambda stage, form: pipeline.move_stage(current_user, stage, form.direction.data)
    )


@bp.post("/stages/<int:stage_id>/delete")
def delete_stage(stage_id: int):
    """Delete a stage nothing uses (refused with the count otherwise)."""
    return _stage_action(stage_id, EmptyForm, lambda stage, form: pipeline.delete_stage(current_user, stage))


def _reasons_page(form=None, status=200, error_for=None, error=None):
    return render(
        "admin/reasons.html",
        "admin/_reasons.html",
        status=status,
        rejection=pipeline.reasons(current_user.agency_id, "rejection"),
        loss=pipeline.reasons(current_user.agency_id, "loss"),
        form=form or ReasonForm(formdata=None),
        action_form=EmptyForm(),
        error_for=error_for,
        error=error,
    )


@bp.get("/reasons")
def reasons():
    """Rejection and loss reasons."""
    return _reasons_page()


@bp.post("/reasons")
def add_reason():
    """Add a rejection or loss reason."""
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            pipeline.add_reason(current_user, form.kind.data, form.label.data, form.ends_job_search.data)
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
        else:
            return _after_change("admin.reasons", _reasons_page)
    return _reasons_page(form, status=422)


def _reason_action(reason_id: int, form_class, action):
    reason = get_scoped_or_404(Reason, reason_id)
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        action(reason, form)
    except ServiceError as exc:
        db.session.rollback()
        return _reasons_page(status=422, error_for=reason_id, error=exc.message)
    return _after_change("admin.reasons", _reasons_page)


@bp.post("/reasons/<int:reason_id>")
def update_reason(reason_id: int):
    """Change a reason's wording."""
    return _reason_action(
        reason_id,
        ReasonForm,
        lambda reason, form: pipeline.rename_reason(current_user, reason, form.label.data, form.ends_job_search.data),
    )


@bp.post("/reasons/<int:reason_id>/delete")
def delete_reason(reason_id: int):
    """Delete a reason no application was closed with."""
    return _reason_action(reason_id, EmptyForm, lambda reason, form: pipeline.delete_reason(current_user, reason))


def _profile_context(form, template=None):
    candidate_id = form.candidate_id.data if form.candidate_id.data and str(form.candidate_id.data).isdigit() else None
    candidate = agency_templates.preview_candidate(current_user.agency, int(candidate_id) if candidate_id else None)
    preview, preview_error = None, None
    if candidate is not None and form.body.data:
        try:
            agency_templates.check_placeholders(form.body.data, agency_templates.PROFILE_PLACEHOLDERS, "body")
            preview = agency_templates.render_profile(form.body.data, candidate)
        except ServiceError as exc:
            preview_error = exc.message
    templates = db.session.scalars(scoped(ProfileTemplate).order_by(ProfileTemplate.name)).all()
    candidates = db.session.scalars(scoped(Candidate).order_by(Candidate.id.desc()).limit(20)).all()
    if candidate is not None and candidate not in candidates:
        candidates.insert(0, candidate)
    return {
        "form": form,
        "template": template,
        "templates": templates,
        "candidate": candidate,
        "candidates": candidates,
        "preview": preview,
        "preview_error": preview_error,
        "placeholders": agency_templates.PROFILE_PLACEHOLDERS,
        "action_form": EmptyForm(),
    }


@bp.get("/profile-templates")
def profile_templates():
    """Profile templates, and a form for a new one."""
    return render("admin/profile_templates.html", **_profile_context(ProfileTemplateForm(formdata=None)))


@bp.post("/profile-templates")
def create_profile_template():
    """Create a profile template."""
    form = ProfileTemplateForm()
    if form.validate_on_submit():
        try:
            template = agency_templates.save_profile_template(
                current_user, form.name.data, form.body.data, form.hidden_by_default.data
            )
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
        else:
            return redirect_for(url_for("admin.profile_template", template_id=template.id))
    return render("admin/profile_templates.html", status=422, **_profile_context(form))


@bp.route("/profile-templates/<int:template_id>", methods=["GET", "POST"])
def profile_template(template_id: int):
    """Edit one profile template; the preview fills it with a real candidate."""
    template = get_scoped_or_404(ProfileTemplate, template_id)
    if request.method == "GET":
        form = ProfileTemplateForm(formdata=None, obj=template)
        return render("admin/profile_template.html", **_profile_context(form, template))
    form = ProfileTemplateForm()
    if form.validate_on_submit():
        try:
            agency_templates.save_profile_template(
                current_user, form.name.data, form.body.data, form.hidden_by_default.data, template
            )
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
        else:
            return redirect_for(url_for("admin.profile_template", template_id=template.id))
    return render("admin/profile_template.html", status=422, **_profile_context(form, template))


@bp.post("/profile-templates/<int:template_id>/delete")
def delete_profile_template(template_id: int):
    """Delete a profile template."""
    template = get_scoped_or_404(ProfileTemplate, template_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    agency_templates.delete_profile_template(current_user, template)
    return redirect_for(url_for("admin.profile_templates"))


@bp.post("/profile-templates/preview")
def preview_profile_template():
    """The template filled in for a real candidate, without saving (htmx fragment)."""
    return render("admin/_profile_preview.html", **_profile_context(ProfileTemplateForm()))


@bp.get("/email-templates")
def email_templates():
    """The built-in emails the agency can reword."""
    overridden = {
        key
        for key in agency_templates.DEFAULT_EMAILS
        if agency_templates.email_override(current_user.agency, key) is not None
    }
    return render("admin/email_templates.html", emails=agency_templates.DEFAULT_EMAILS, overridden=overridden)


def _email_context(key, form, status=200):
    default = agency_templates.DEFAULT_EMAILS[key]
    preview_subject = preview_body = preview_error = None
    try:
        preview_subject, preview_body = agency_templates.preview_email(
            current_user.agency, key, form.subject.data, form.body.data
        )
    except ServiceError as exc:
        preview_error = exc.message
    return {
        "key": key,
        "default": default,
        "form": form,
        "action_form": EmptyForm(),
        "overridden": agency_templates.email_override(current_user.agency, key) is not None,
        "preview_subject": preview_subject,
        "preview_body": preview_body,
        "preview_error": preview_error,
    }


def _email_key_or_404(key: str) -> str:
    if key not in agency_templates.DEFAULT_EMAILS:
        abort(404)
    return key


@bp.route("/email-templates/<key>", methods=["GET", "POST"])
def email_template(key: str):
    """Edit one email's subject and body; the preview uses sample values."""
    key = _email_key_or_404(key)
    if request.method == "GET":
        subject, body = agency_templates.email_subject_body(current_user.agency, key)
        form = EmailTemplateForm(formdata=None, subject=subject, body=body)
        return render("admin/email_template.html", **_email_context(key, form))
    form = EmailTemplateForm()
    if form.validate_on_submit():
        try:
            agency_templates.save_email_template(current_user, key, form.subject.data, form.body.data)
        except ServiceError as exc:
            db.session.rollback()
            _fail(form, exc)
        else:
            return redirect_for(url_for("admin.email_template", key=key))
    return render("admin/email_template.html", status=422, **_email_context(key, form))


@bp.post("/email-templates/<key>/preview")
def preview_email_template(key: str):
    """The email as sent, with sample values, without saving (htmx fragment)."""
    key = _email_key_or_404(key)
    return render("admin/_email_preview.html", **_email_context(key, EmailTemplateForm()))


@bp.post("/email-templates/<key>/reset")
def reset_email_template(key: str):
    """Go back to the built-in wording."""
    key = _email_key_or_404(key)
    if not EmptyForm().validate_on_submit():
        abort(400)
    agency_templates.reset_email_template(current_user, key)
    return redirect_for(url_for("admin.email_template", key=key))


@bp.get("/outbox")
def outbox():
    """Messages not yet sent or failed for good, newest first, with the last error."""
    messages = db.session.scalars(
        select(MailOutbox)
        .where(MailOutbox.agency_id == current_user.agency_id, MailOutbox.status != "sent")
        .order_by(MailOutbox.id.desc())
        .limit(200)
    ).all()
    return render("admin/outbox.html", messages=messages, form=EmptyForm())


@bp.post("/outbox/<int:message_id>/retry")
def retry(message_id: int):
    """Queue a failed message again."""
    message = db.session.scalar(
        select(MailOutbox).where(MailOutbox.id == message_id, MailOutbox.agency_id == current_user.agency_id)
    )
    if message is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    mail_service.retry(message)
    db.session.commit()
    return redirect_for(url_for("admin.outbox"))

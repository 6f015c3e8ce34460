"""Profile templates and the wording of the built-in emails (B2), each with a live preview."""

from flask import abort, request, url_for
from flask_login import current_user

from ...extensions import db
from ...forms import EmptyForm
from ...htmx import redirect_for, render
from ...models import Candidate, ProfileTemplate
from ...scoping import get_scoped_or_404, scoped
from ...services import ServiceError, agency_templates
from . import bp
from .forms import EmailTemplateForm, ProfileTemplateForm, show_refusal


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
            show_refusal(form, exc)
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
            show_refusal(form, exc)
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
            show_refusal(form, exc)
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

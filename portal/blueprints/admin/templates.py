"""Profile templates and the wording of the built-in emails (B2), each with a live preview."""

from flask import abort, request, url_for
from flask_login import current_user

from ...htmx import redirect_for, render
from ...models import ProfileTemplate
from ...scoping import agency_profile_templates, get_scoped_or_404
from ...services import ServiceError, agency_templates
from ...unit_of_work import attempt, unit_of_work
from . import bp
from .forms import EmailTemplateForm, ProfileTemplateForm, show_refusal


def _preview_candidate(form):
    """The candidate the preview is filled with: the one chosen in the form, else the newest."""
    chosen = str(form.candidate_id.data or "")
    return agency_templates.preview_candidate(current_user.agency, int(chosen) if chosen.isdigit() else None)


def _profile_preview_context(form, candidate) -> dict:
    """What ``admin/_profile_preview.html`` shows: the template text filled in for ``candidate``."""
    preview, preview_error = agency_templates.preview_profile(form.body.data, candidate)
    return {"candidate": candidate, "preview": preview, "preview_error": preview_error}


def _profile_form_context(form) -> dict:
    """What ``admin/_profile_form.html`` shows: the form, the candidates to preview with, and the
    preview it includes."""
    candidate = _preview_candidate(form)
    return {
        "form": form,
        "candidates": agency_templates.preview_candidates(current_user.agency, candidate),
        "placeholders": agency_templates.PROFILE_PLACEHOLDERS,
        **_profile_preview_context(form, candidate),
    }


def _new_profile_template_page(form, status=200):
    return render(
        "admin/profile_templates.html",
        status=status,
        templates=agency_profile_templates(),
        **_profile_form_context(form),
    )


def _profile_template_page(template, form, status=200):
    return render("admin/profile_template.html", status=status, template=template, **_profile_form_context(form))


@bp.get("/profile-templates")
def profile_templates():
    """Profile templates, and a form for a new one."""
    return _new_profile_template_page(ProfileTemplateForm(formdata=None))


@bp.post("/profile-templates")
def create_profile_template():
    """Create a profile template."""
    form = ProfileTemplateForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            template = agency_templates.save_profile_template(
                current_user, form.name.data, form.body.data, form.hidden_by_default.data
            )
        if outcome.refusal is None:
            return redirect_for(url_for("admin.profile_template", template_id=template.id))
        show_refusal(form, outcome.refusal)
    return _new_profile_template_page(form, status=422)


@bp.route("/profile-templates/<int:template_id>", methods=["GET", "POST"])
def profile_template(template_id: int):
    """Edit one profile template; the preview fills it with a real candidate."""
    template = get_scoped_or_404(ProfileTemplate, template_id)
    if request.method == "GET":
        return _profile_template_page(template, ProfileTemplateForm(formdata=None, obj=template))
    form = ProfileTemplateForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            agency_templates.save_profile_template(
                current_user, form.name.data, form.body.data, form.hidden_by_default.data, template
            )
        if outcome.refusal is None:
            return redirect_for(url_for("admin.profile_template", template_id=template_id))
        show_refusal(form, outcome.refusal)
    return _profile_template_page(template, form, status=422)


@bp.post("/profile-templates/<int:template_id>/delete")
def delete_profile_template(template_id: int):
    """Delete a profile template."""
    template = get_scoped_or_404(ProfileTemplate, template_id)
    with unit_of_work():
        agency_templates.delete_profile_template(current_user, template)
    return redirect_for(url_for("admin.profile_templates"))


@bp.post("/profile-templates/preview")
def preview_profile_template():
    """The template filled in for a real candidate, without saving (htmx fragment)."""
    form = ProfileTemplateForm()
    return render("admin/_profile_preview.html", **_profile_preview_context(form, _preview_candidate(form)))


@bp.get("/email-templates")
def email_templates():
    """The built-in emails the agency can reword."""
    return render(
        "admin/email_templates.html",
        emails=agency_templates.DEFAULT_EMAILS,
        overridden=agency_templates.overridden_emails(current_user.agency),
    )


def _email_preview_context(key, form) -> dict:
    """What ``admin/_email_preview.html`` shows: the email with sample values, or why it cannot be sent."""
    preview_subject = preview_body = preview_error = None
    try:
        preview_subject, preview_body = agency_templates.preview_email(
            current_user.agency, key, form.subject.data, form.body.data
        )
    except ServiceError as refusal:
        preview_error = refusal.message
    return {"preview_subject": preview_subject, "preview_body": preview_body, "preview_error": preview_error}


def _email_template_page(key, form, status=200):
    return render(
        "admin/email_template.html",
        status=status,
        key=key,
        default=agency_templates.DEFAULT_EMAILS[key],
        form=form,
        overridden=agency_templates.email_override(current_user.agency, key) is not None,
        **_email_preview_context(key, form),
    )


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
        return _email_template_page(key, EmailTemplateForm(formdata=None, subject=subject, body=body))
    form = EmailTemplateForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            agency_templates.save_email_template(current_user, key, form.subject.data, form.body.data)
        if outcome.refusal is None:
            return redirect_for(url_for("admin.email_template", key=key))
        show_refusal(form, outcome.refusal)
    return _email_template_page(key, form, status=422)


@bp.post("/email-templates/<key>/preview")
def preview_email_template(key: str):
    """The email as sent, with sample values, without saving (htmx fragment)."""
    key = _email_key_or_404(key)
    return render("admin/_email_preview.html", **_email_preview_context(key, EmailTemplateForm()))


@bp.post("/email-templates/<key>/reset")
def reset_email_template(key: str):
    """Go back to the built-in wording."""
    key = _email_key_or_404(key)
    with unit_of_work():
        agency_templates.reset_email_template(current_user, key)
    return redirect_for(url_for("admin.email_template", key=key))

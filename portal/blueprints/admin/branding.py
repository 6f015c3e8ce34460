"""Branding (B1): the form, its live preview and the preview's stylesheet."""

from flask import make_response, request, url_for
from flask_login import current_user

from ...extensions import db
from ...htmx import is_htmx, redirect_for, render
from ...services import ServiceError, branding
from . import bp
from .forms import BrandingForm, show_refusal, uploaded_file


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
        logo, filename = uploaded_file(form.logo)
        try:
            branding.save_branding(
                agency, form.data, current_user, logo=logo, logo_filename=filename, remove_logo=form.remove_logo.data
            )
        except ServiceError as exc:
            db.session.rollback()
            show_refusal(form, exc)
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

"""Branding (B1): the form, its live preview and the preview's stylesheet."""

from flask import make_response, request, url_for
from flask_login import current_user

from ...htmx import is_htmx, redirect_for, render
from ...services import branding
from ...unit_of_work import attempt
from . import bp
from .forms import BrandingForm, show_refusal, uploaded_file


def _branding_preview_context(agency, draft, preview_error=None) -> dict:
    """What ``admin/_branding_preview.html`` shows: ``draft`` worn on sample pages, and why it
    cannot be saved yet."""
    return {"agency": agency, "draft": draft, "preview_error": preview_error}


def _branding_form_context(form, agency, saved=False) -> dict:
    """What ``admin/_branding_form.html`` shows: the form, and the preview it includes."""
    # Until the admin types, the preview shows the saved branding.
    return {"form": form, "saved": saved, **_branding_preview_context(agency, draft=agency)}


def _branding_page(form, agency, status=200, saved=False):
    return render(
        "admin/branding.html",
        "admin/_branding_form.html",
        status=status,
        **_branding_form_context(form, agency, saved),
    )


@bp.get("/branding")
def branding_edit():
    """The branding form with its live preview."""
    agency = current_user.agency
    return _branding_page(BrandingForm(obj=agency), agency)


@bp.post("/branding")
def branding_update():
    """Save the branding (and an optional logo); bumps the branding version."""
    agency = current_user.agency
    form = BrandingForm()
    if form.validate_on_submit():
        logo, filename = uploaded_file(form.logo)
        with attempt() as outcome:
            branding.save_branding(
                agency, form.data, current_user, logo=logo, logo_filename=filename, remove_logo=form.remove_logo.data
            )
        if outcome.refusal is None:
            if is_htmx():
                return _branding_page(BrandingForm(formdata=None, obj=agency), agency, saved=True)
            return redirect_for(url_for("admin.branding_edit", saved=1))
        show_refusal(form, outcome.refusal)
    return _branding_page(form, agency, status=422)


@bp.post("/branding/preview")
def branding_preview():
    """Render the preview of unsaved branding values. Nothing is stored."""
    agency = current_user.agency
    draft, error = branding.preview_draft(agency, BrandingForm().data)
    return render("admin/_branding_preview.html", **_branding_preview_context(agency, draft, error))


@bp.get("/branding/preview.css")
def branding_preview_css():
    """The preview's colours as a stylesheet (the CSP allows no style attributes)."""
    response = make_response(branding.preview_css(request.args.get("primary"), request.args.get("accent")))
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response

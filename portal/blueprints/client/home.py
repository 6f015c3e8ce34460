"""The contact's home (C3) and their company's co-branding logo."""

from flask import make_response, request
from flask_login import current_user

from ...htmx import render
from ...scoping import own_company_logo_or_404
from ...services.client_overview import open_jobs, progress_by_job
from . import bp
from .visits import baseline


@bp.get("/")
def index(slug: str):
    """C3: greeting, open jobs with at least one shared candidate, counts per job."""
    progress = progress_by_job(current_user, baseline())
    return render("client/index.html", jobs=open_jobs(current_user, list(progress)), progress=progress)


@bp.get("/company-logo")
def company_logo(slug: str):
    """The contact's own company logo, shown beside the agency's (B2 co-branding). Served only to
    that company's contacts: company ids would otherwise reveal who the agency's clients are."""
    response = make_response(own_company_logo_or_404())
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)

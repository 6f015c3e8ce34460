"""The client portal: what a client contact sees (spec section C), one module per resource."""

from flask import Blueprint, abort, request, url_for
from flask_login import current_user, login_required

from ...scoping import client_share_state, own_company_has_logo
from ...services.client_actions import NO_LONGER_SHARED, status_label
from .gone import gone
from .partials import CandidateUrls
from .visits import adopt_browser_zone, track_visit

bp = Blueprint("client", __name__, url_prefix="/<slug>/portal")


@bp.before_request
@login_required
def _only_contacts_of_this_agency():
    """Client pages are for the agency's own contacts; anyone else gets a 404."""
    if not current_user.is_contact or current_user.agency.slug != request.view_args.get("slug"):
        abort(404)
    track_visit()
    adopt_browser_zone()
    return _only_shared_candidates()


def _only_shared_candidates():
    """Every route that names an application passes the shared-only scope here, so none can
    forget it: after an unshare a page is a 404 and an action gets only the refusal (A2, C10),
    never the candidate's name or profile."""
    application_id = (request.view_args or {}).get("application_id")
    if application_id is None:
        return None
    state = client_share_state(application_id)
    if state == "shared":
        return None
    if state == "unshared" and request.method == "POST":
        return gone(NO_LONGER_SHARED)
    abort(404)
    return None


@bp.context_processor
def _helpers():
    """What every client template uses: status labels, the candidate URLs, the co-branding logo."""
    slug = (request.view_args or {}).get("slug")
    if not (slug and current_user.is_authenticated and current_user.is_contact):
        return {}  # an error page for someone turned away: nothing client-specific to show
    return {
        "status_label": status_label,
        "urls": CandidateUrls(slug),
        "co_brand_logo_url": url_for("client.company_logo", slug=slug) if own_company_has_logo() else None,
    }


# The resource modules attach their routes to ``bp``, so they can only be imported once it exists.
from . import candidates, decisions, home, interviews, jobs, settings  # noqa: E402, F401

__all__ = ["bp"]

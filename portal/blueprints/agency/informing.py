"""No-ghosting on the agency side (issue 15 item 2): the agency-wide list of candidates not told
where they stand, and the one-click status update from the candidate page."""

from flask import request, url_for
from flask_login import current_user

from ...htmx import redirect_for, render, toast
from ...scoping import get_application_or_404
from ...services import no_ghosting
from ...unit_of_work import attempt
from . import bp
from .candidates import candidate_page

# The filter of the list: overdue only, or also those due within the warning period.
FILTERS = {"overdue": 0, "soon": no_ghosting.WARN_DAYS}


@bp.get("/not-informed")
def not_informed():
    """Every application the user may see whose candidate is overdue for an answer
    (``show=overdue``, the default) or due one within the warning period (``show=soon``)."""
    show = request.args.get("show", "overdue")
    if show not in FILTERS:
        show = "overdue"
    return render(
        "agency/not_informed.html",
        show=show,
        warn_days=no_ghosting.WARN_DAYS,
        applications=no_ghosting.not_informed(current_user, due_within_days=FILTERS[show]),
    )


@bp.post("/applications/<int:application_id>/status-update")
def send_status_update(application_id: int):
    """Send the candidate the agency's "still with the client, expected by …" e-mail."""
    application = get_application_or_404(application_id)
    with attempt() as outcome:
        no_ghosting.send_status_update(application, current_user)
    if outcome.refusal is not None:
        return candidate_page(
            application.candidate, status=422, status_update_error=(application.id, outcome.refusal.message)
        )
    return toast(
        redirect_for(url_for("agency.candidate", candidate_id=application.candidate_id)),
        f"Status update sent to {application.candidate.name}.",
    )

"""The agency workspace for recruiters and admins (spec section A): jobs and the shortlist board,
sharing, candidates, tasks, interview scheduling and alerts, one module per resource.

Views parse a form, call one service inside the unit of work and render; every refusal renders
in place (422) with nothing saved. Each htmx handler renders only the partial it returns, from
that partial's own context function.
"""

from flask import Blueprint, abort
from flask_login import current_user, login_required

from ...services import no_ghosting, pipeline
from ...services import tasks as task_service

bp = Blueprint("agency", __name__, url_prefix="/agency")


@bp.before_request
@login_required
def _only_staff():
    """The workspace is for agency staff only."""
    if not current_user.is_staff:
        abort(404)


@bp.context_processor
def _helpers():
    return {
        "is_overdue": task_service.is_overdue,
        "outcome_labels": pipeline.OUTCOME_LABELS,
        "inform_overdue": no_ghosting.is_overdue,
        "reached_client": no_ghosting.reached_client,
    }


# The resource modules register their routes on ``bp``, so they can only be imported once it exists.
from . import (  # noqa: E402, F401
    alerts,
    board,
    candidate_export,
    candidate_files,
    candidates,
    client_comments,
    consent,
    erasure,
    informing,
    interviews,
    jobs,
    notes,
    scoreboard,
    sharing,
    tasks,
)

__all__ = ["bp"]

"""The shortlist board of a job (A1, A2): stage moves, and sharing or unsharing from the cards,
one at a time or the selected ones at once. Every handler returns the board or one card."""

from flask import flash, make_response, render_template, url_for
from flask_login import current_user

from ...htmx import is_htmx, redirect_for, toast
from ...models import Application, Job
from ...scoping import get_application_or_404, get_job_or_404
from ...services import board as board_service
from ...services import pipeline, pipeline_config, sharing
from ...unit_of_work import attempt
from . import bp
from .forms import BulkForm, StageForm


def board_context(job: Job, *, bulk_form: BulkForm | None = None, error=None, message=None) -> dict:
    """What ``agency/_board.html`` needs: the stages with their open cards, the closed ones, what
    the client did with each, and the bulk form."""
    return {
        "job": job,
        "board": board_service.shortlist_board(job),
        "stages": pipeline_config.stages(job.agency_id),
        "bulk_form": bulk_form or BulkForm(),
        "error": error,
        "message": message,
    }


def _board(job: Job, *, error=None, **context):
    """The board alone (what every board handler swaps in), a 422 when it carries a refusal."""
    html = render_template("agency/_board.html", **board_context(job, error=error, **context))
    return make_response(html, 422 if error else 200)


def _card_context(application: Application, *, error=None) -> dict:
    """What ``agency/_application.html`` (one card of the board) needs."""
    return {
        "application": application,
        "stages": pipeline_config.stages(application.agency_id),
        "facts": board_service.card_facts([application]),
        "error": error,
    }


@bp.post("/applications/<int:application_id>/stage")
def move_stage(application_id: int):
    """Move a candidate between stages when the recruiter presses "Move" (choosing in the list
    alone records nothing); the board re-renders in place, so the page keeps its scroll position.
    Without JavaScript the form posts here too and comes back to the card on the job page."""
    application = get_application_or_404(application_id)
    form = StageForm()
    error = None
    if not form.validate_on_submit():
        error = "Choose one of the agency's stages."
    else:
        with attempt() as outcome:
            pipeline.move_stage(application, form.stage_id.data, current_user)
        error = outcome.refusal.message if outcome.refusal is not None else None
    if not is_htmx():  # a plain form post comes back to the card on the page, with the refusal said
        if error:
            flash(error)
        return redirect_for(url_for("agency.job", job_id=application.job_id, _anchor=f"application-{application.id}"))
    if error:
        return _board(application.job, error=error)
    return _board(application.job, message=f"Moved {application.candidate.name} to {application.stage.name}.")


@bp.post("/applications/<int:application_id>/unshare")
def unshare(application_id: int):
    """Remove one candidate from the client's page at once; the card re-renders."""
    application = get_application_or_404(application_id)
    with attempt() as outcome:
        sharing.unshare_candidate(application, current_user)
    error = outcome.refusal.message if outcome.refusal is not None else None
    response = make_response(
        render_template("agency/_application.html", **_card_context(application, error=error)), 422 if error else 200
    )
    return toast(response, error or f"{application.candidate.name} is no longer shared.", "error" if error else "info")


@bp.post("/jobs/<int:job_id>/bulk")
def bulk(job_id: int):
    """Share or unshare the selected candidates of the shortlist (all or nothing)."""
    job = get_job_or_404(job_id)
    form = BulkForm()
    if not form.validate_on_submit():
        return _board(job, bulk_form=form, error="Select at least one candidate.")
    with attempt() as outcome:
        if form.action.data == "unshare":
            done = sharing.bulk_unshare(job, form.application_ids.data, current_user)
            message = f"Unshared {len(done)} candidate(s)."
        else:
            done = sharing.bulk_share(
                job, form.application_ids.data, current_user, consent_override_reason=form.consent_override_reason.data
            )
            message = f"Shared {len(done)} candidate(s)."
    if outcome.refusal is not None:
        return _board(job, bulk_form=form, error=outcome.refusal.message)
    return _board(job, bulk_form=form, message=message)

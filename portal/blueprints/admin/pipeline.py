"""Pipeline configuration (B2): stages in order, and rejection and loss reasons.

A refused change to one stage or reason is shown on its row; the add forms show theirs on the field.
"""

from flask_login import current_user

from ...htmx import render
from ...models import Reason, StageDefinition
from ...scoping import get_scoped_or_404
from ...services import pipeline_config
from ...unit_of_work import attempt
from . import bp
from .forms import MoveForm, ReasonForm, StageForm, form_problems, show_refusal
from .responses import after_change


def _stages_context(form=None, error_for=None, error=None) -> dict:
    """What ``admin/_stages.html`` shows: the stages with their application counts, the add form,
    and the refusal for the row ``error_for``."""
    stages = pipeline_config.stages(current_user.agency_id)
    return {
        "stages": stages,
        "counts": pipeline_config.applications_per_stage(stages),
        "form": form or StageForm(formdata=None),
        "error_for": error_for,
        "error": error,
    }


def _stages_page(status=200, **context):
    return render("admin/stages.html", "admin/_stages.html", status=status, **_stages_context(**context))


@bp.get("/stages")
def stages():
    """The pipeline stages in order, with how many applications sit in each."""
    return _stages_page()


@bp.post("/stages")
def add_stage():
    """Add a stage at the end."""
    form = StageForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            pipeline_config.add_stage(current_user, form.name.data)
        if outcome.refusal is None:
            return after_change("admin.stages", _stages_page)
        show_refusal(form, outcome.refusal)
    return _stages_page(status=422, form=form)


def _stage_action(stage_id: int, action, form=None):
    """Apply ``action`` to one stage in one unit of work; a refusal is shown on the stage's row."""
    stage = get_scoped_or_404(StageDefinition, stage_id)
    if form is not None and not form.validate_on_submit():
        return _stages_page(status=422, error_for=stage_id, error=form_problems(form))
    with attempt() as outcome:
        action(stage)
    if outcome.refusal is not None:
        return _stages_page(status=422, error_for=stage_id, error=outcome.refusal.message)
    return after_change("admin.stages", _stages_page)


@bp.post("/stages/<int:stage_id>")
def rename_stage(stage_id: int):
    """Rename a stage."""
    form = StageForm()
    return _stage_action(
        stage_id, lambda stage: pipeline_config.rename_stage(current_user, stage, form.name.data), form
    )


@bp.post("/stages/<int:stage_id>/move")
def move_stage(stage_id: int):
    """Move a stage one place up or down."""
    form = MoveForm()
    return _stage_action(
        stage_id, lambda stage: pipeline_config.move_stage(current_user, stage, form.direction.data), form
    )


@bp.post("/stages/<int:stage_id>/delete")
def delete_stage(stage_id: int):
    """Delete a stage nothing uses (refused with the count otherwise)."""
    return _stage_action(stage_id, lambda stage: pipeline_config.delete_stage(current_user, stage))


def _reasons_context(form=None, error_for=None, error=None) -> dict:
    """What ``admin/_reasons.html`` shows: both lists of reasons, the add form, and the refusal for
    the row ``error_for``."""
    return {
        "rejection": pipeline_config.reasons(current_user.agency_id, "rejection"),
        "loss": pipeline_config.reasons(current_user.agency_id, "loss"),
        "form": form or ReasonForm(formdata=None),
        "error_for": error_for,
        "error": error,
    }


def _reasons_page(status=200, **context):
    return render("admin/reasons.html", "admin/_reasons.html", status=status, **_reasons_context(**context))


@bp.get("/reasons")
def reasons():
    """Rejection and loss reasons."""
    return _reasons_page()


@bp.post("/reasons")
def add_reason():
    """Add a rejection or loss reason."""
    form = ReasonForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            pipeline_config.add_reason(current_user, form.kind.data, form.label.data, form.ends_job_search.data)
        if outcome.refusal is None:
            return after_change("admin.reasons", _reasons_page)
        show_refusal(form, outcome.refusal)
    return _reasons_page(status=422, form=form)


def _reason_action(reason_id: int, action, form=None):
    """Apply ``action`` to one reason in one unit of work; a refusal is shown on the reason's row."""
    reason = get_scoped_or_404(Reason, reason_id)
    if form is not None and not form.validate_on_submit():
        return _reasons_page(status=422, error_for=reason_id, error=form_problems(form))
    with attempt() as outcome:
        action(reason)
    if outcome.refusal is not None:
        return _reasons_page(status=422, error_for=reason_id, error=outcome.refusal.message)
    return after_change("admin.reasons", _reasons_page)


@bp.post("/reasons/<int:reason_id>")
def update_reason(reason_id: int):
    """Change a reason's wording."""
    form = ReasonForm()
    return _reason_action(
        reason_id,
        lambda reason: pipeline_config.rename_reason(current_user, reason, form.label.data, form.ends_job_search.data),
        form,
    )


@bp.post("/reasons/<int:reason_id>/delete")
def delete_reason(reason_id: int):
    """Delete a reason no application was closed with."""
    return _reason_action(reason_id, lambda reason: pipeline_config.delete_reason(current_user, reason))

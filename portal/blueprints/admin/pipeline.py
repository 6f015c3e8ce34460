"""Pipeline configuration (B2): stages in order, and rejection and loss reasons."""

from flask_login import current_user

from ...extensions import db
from ...forms import EmptyForm
from ...htmx import render
from ...models import Reason, StageDefinition
from ...scoping import get_scoped_or_404
from ...services import ServiceError
from ...services import pipeline_config as pipeline
from . import bp
from .forms import MoveForm, ReasonForm, StageForm, show_refusal
from .responses import after_change


def _stages_page(form=None, status=200, error_for=None, error=None):
    stages = pipeline.stages(current_user.agency_id)
    counts = {stage.id: pipeline.applications_in_stage(stage) for stage in stages}
    return render(
        "admin/stages.html",
        "admin/_stages.html",
        status=status,
        stages=stages,
        counts=counts,
        form=form or StageForm(formdata=None),
        error_for=error_for,
        error=error,
    )


@bp.get("/stages")
def stages():
    """The pipeline stages in order, with how many applications sit in each."""
    return _stages_page()


@bp.post("/stages")
def add_stage():
    """Add a stage at the end."""
    form = StageForm()
    if form.validate_on_submit():
        try:
            pipeline.add_stage(current_user, form.name.data)
        except ServiceError as exc:
            db.session.rollback()
            show_refusal(form, exc)
        else:
            return after_change("admin.stages", _stages_page)
    return _stages_page(form, status=422)


def _stage_action(stage_id: int, form_class, action):
    stage = get_scoped_or_404(StageDefinition, stage_id)
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        action(stage, form)
    except ServiceError as exc:
        db.session.rollback()
        return _stages_page(status=422, error_for=stage_id, error=exc.message)
    return after_change("admin.stages", _stages_page)


@bp.post("/stages/<int:stage_id>")
def rename_stage(stage_id: int):
    """Rename a stage."""
    return _stage_action(
        stage_id, StageForm, lambda stage, form: pipeline.rename_stage(current_user, stage, form.name.data)
    )


@bp.post("/stages/<int:stage_id>/move")
def move_stage(stage_id: int):
    """Move a stage one place up or down."""
    return _stage_action(
        stage_id, MoveForm, lambda stage, form: pipeline.move_stage(current_user, stage, form.direction.data)
    )


@bp.post("/stages/<int:stage_id>/delete")
def delete_stage(stage_id: int):
    """Delete a stage nothing uses (refused with the count otherwise)."""
    return _stage_action(stage_id, EmptyForm, lambda stage, form: pipeline.delete_stage(current_user, stage))


def _reasons_page(form=None, status=200, error_for=None, error=None):
    return render(
        "admin/reasons.html",
        "admin/_reasons.html",
        status=status,
        rejection=pipeline.reasons(current_user.agency_id, "rejection"),
        loss=pipeline.reasons(current_user.agency_id, "loss"),
        form=form or ReasonForm(formdata=None),
        error_for=error_for,
        error=error,
    )


@bp.get("/reasons")
def reasons():
    """Rejection and loss reasons."""
    return _reasons_page()


@bp.post("/reasons")
def add_reason():
    """Add a rejection or loss reason."""
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            pipeline.add_reason(current_user, form.kind.data, form.label.data, form.ends_job_search.data)
        except ServiceError as exc:
            db.session.rollback()
            show_refusal(form, exc)
        else:
            return after_change("admin.reasons", _reasons_page)
    return _reasons_page(form, status=422)


def _reason_action(reason_id: int, form_class, action):
    reason = get_scoped_or_404(Reason, reason_id)
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        action(reason, form)
    except ServiceError as exc:
        db.session.rollback()
        return _reasons_page(status=422, error_for=reason_id, error=exc.message)
    return after_change("admin.reasons", _reasons_page)


@bp.post("/reasons/<int:reason_id>")
def update_reason(reason_id: int):
    """Change a reason's wording."""
    return _reason_action(
        reason_id,
        ReasonForm,
        lambda reason, form: pipeline.rename_reason(current_user, reason, form.label.data, form.ends_job_search.data),
    )


@bp.post("/reasons/<int:reason_id>/delete")
def delete_reason(reason_id: int):
    """Delete a reason no application was closed with."""
    return _reason_action(reason_id, EmptyForm, lambda reason, form: pipeline.delete_reason(current_user, reason))

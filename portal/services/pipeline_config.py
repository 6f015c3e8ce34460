"""Pipeline stage and rejection/loss reason configuration (B2).

Stages are ordered by ``position``. Reordering only renumbers positions, so applications and
their stage history keep pointing at the same stage rows; a stage something still points at
cannot be deleted (rename it instead). Changes go into the caller's unit of work.
"""

from sqlalchemy import func, select

from ..extensions import db
from ..models import Application, Reason, StageDefinition, StageHistory, User
from . import ServiceError
from .activity import record
from .validation import clean_line, ensure_unique

REASON_KINDS = {"rejection": "rejection reason", "loss": "loss reason"}


def stages(agency_id: int) -> list[StageDefinition]:
    """The agency's stages in pipeline order."""
    return list(
        db.session.scalars(
            select(StageDefinition)
            .where(StageDefinition.agency_id == agency_id)
            .order_by(StageDefinition.position, StageDefinition.id)
        )
    )


def applications_in_stage(stage: StageDefinition) -> int:
    """How many applications sit in ``stage`` now."""
    return db.session.execute(
        select(func.count()).select_from(Application).where(Application.stage_id == stage.id)
    ).scalar_one()


def applications_per_stage(stages: list[StageDefinition]) -> dict[int, int]:
    """How many applications sit in each of ``stages`` now, by stage id (one query for the list)."""
    counted = dict(
        db.session.execute(
            select(Application.stage_id, func.count())
            .where(Application.stage_id.in_([stage.id for stage in stages]))
            .group_by(Application.stage_id)
        )
        .tuples()
        .all()
    )
    return {stage.id: counted.get(stage.id, 0) for stage in stages}


def _stage_name(agency_id: int, name: str, stage: StageDefinition | None = None) -> str:
    name = clean_line(
        name,
        field="name",
        max_length=80,
        empty="Enter the stage name.",
        too_long="A stage name can be at most 80 characters.",
    )
    ensure_unique(
        StageDefinition.name,
        name,
        StageDefinition.agency_id == agency_id,
        current_id=stage.id if stage else None,
        field="name",
        message=f"There is already a stage called “{name}”.",
    )
    return name


def add_stage(actor: User, name: str) -> StageDefinition:
    """Add a stage at the end of the pipeline."""
    name = _stage_name(actor.agency_id, name)
    last = db.session.scalar(
        select(func.max(StageDefinition.position)).where(StageDefinition.agency_id == actor.agency_id)
    )
    stage = StageDefinition(agency_id=actor.agency_id, name=name, position=(last if last is not None else -1) + 1)
    db.session.add(stage)
    db.session.flush()  # the id, so a rename in the same unit of work does not clash with itself
    record(actor.agency_id, "admin.stage_added", f"{actor.name} added the stage “{name}”", actor=actor)
    return stage


def rename_stage(actor: User, stage: StageDefinition, name: str) -> None:
    """Rename a stage; applications in it and its history follow (same row)."""
    name = _stage_name(actor.agency_id, name, stage)
    if name == stage.name:
        return
    previous, stage.name = stage.name, name
    record(
        actor.agency_id,
        "admin.stage_renamed",
        f"{actor.name} renamed the stage “{previous}” to “{name}”",
        actor=actor,
        stage_id=stage.id,
    )


def move_stage(actor: User, stage: StageDefinition, direction: str) -> None:
    """Swap a stage with its neighbour (``up`` or ``down``); nothing else changes."""
    if direction not in ("up", "down"):
        raise ServiceError("Move a stage up or down.", field="direction")
    ordered = stages(actor.agency_id)
    index = next(i for i, s in enumerate(ordered) if s.id == stage.id)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(ordered):
        return
    # Renumber the whole list so duplicate or gapped positions from older data straighten out too.
    ordered[index], ordered[other_index] = ordered[other_index], ordered[index]
    for position, item in enumerate(ordered):
        item.position = position
    record(
        actor.agency_id,
        "admin.stage_moved",
        f"{actor.name} moved the stage “{stage.name}” {direction}",
        actor=actor,
        stage_id=stage.id,
    )


def delete_stage(actor: User, stage: StageDefinition) -> None:
    """Delete an unused stage; refuse, with the count, while applications sit in it."""
    in_stage = applications_in_stage(stage)
    if in_stage:
        noun = "application sits" if in_stage == 1 else "applications sit"
        raise ServiceError(
            f"“{stage.name}” cannot be deleted: {in_stage} {noun} in it. Move them to another stage first.",
            field="stage",
        )
    moves = db.session.scalar(
        select(func.count())
        .select_from(StageHistory)
        .where((StageHistory.from_stage_id == stage.id) | (StageHistory.to_stage_id == stage.id))
    )
    if moves:
        raise ServiceError(
            f"“{stage.name}” cannot be deleted: {moves} past stage moves refer to it and "
            "the history must stay intact. Rename it instead.",
            field="stage",
        )
    if len(stages(actor.agency_id)) == 1:
        raise ServiceError("The pipeline needs at least one stage.", field="stage")
    record(actor.agency_id, "admin.stage_deleted", f"{actor.name} deleted the stage “{stage.name}”", actor=actor)
    db.session.delete(stage)
    db.session.flush()
    for position, item in enumerate(stages(actor.agency_id)):
        item.position = position


def reasons(agency_id: int, kind: str) -> list[Reason]:
    """The agency's reasons of one kind, in order."""
    return list(
        db.session.scalars(
            select(Reason)
            .where(Reason.agency_id == agency_id, Reason.kind == kind)
            .order_by(Reason.position, Reason.id)
        )
    )


def _reason_label(agency_id: int, kind: str, label: str, reason: Reason | None = None) -> str:
    if kind not in REASON_KINDS:
        raise ServiceError("Choose rejection or loss.", field="kind")
    label = clean_line(
        label,
        field="label",
        max_length=200,
        empty=f"Enter the {REASON_KINDS[kind]}.",
        too_long="A reason can be at most 200 characters.",
    )
    ensure_unique(
        Reason.label,
        label,
        Reason.agency_id == agency_id,
        Reason.kind == kind,
        current_id=reason.id if reason else None,
        field="label",
        message=f"There is already a {REASON_KINDS[kind]} “{label}”.",
    )
    return label


def add_reason(actor: User, kind: str, label: str, ends_job_search: bool = False) -> Reason:
    """Add a rejection or loss reason at the end of its list."""
    label = _reason_label(actor.agency_id, kind, label)
    last = db.session.scalar(
        select(func.max(Reason.position)).where(Reason.agency_id == actor.agency_id, Reason.kind == kind)
    )
    reason = Reason(
        agency_id=actor.agency_id,
        kind=kind,
        label=label,
        position=(last or 0) + 1,
        ends_job_search=bool(ends_job_search),
    )
    db.session.add(reason)
    db.session.flush()  # the id, so a rename in the same unit of work does not clash with itself
    record(actor.agency_id, "admin.reason_added", f"{actor.name} added the {REASON_KINDS[kind]} “{label}”", actor=actor)
    return reason


def rename_reason(actor: User, reason: Reason, label: str, ends_job_search: bool | None = None) -> None:
    """Change a reason's wording (applications closed with it show the new wording)."""
    label = _reason_label(actor.agency_id, reason.kind, label, reason)
    previous, reason.label = reason.label, label
    if ends_job_search is not None:
        reason.ends_job_search = bool(ends_job_search)
    record(
        actor.agency_id,
        "admin.reason_changed",
        f"{actor.name} changed the {REASON_KINDS[reason.kind]} “{previous}” to “{label}”",
        actor=actor,
        reason_id=reason.id,
    )


def delete_reason(actor: User, reason: Reason) -> None:
    """Delete a reason no application was closed with."""
    used = db.session.scalar(select(func.count()).select_from(Application).where(Application.reason_id == reason.id))
    if used:
        raise ServiceError(
            f"“{reason.label}” cannot be deleted: {used} application"
            f"{' was' if used == 1 else 's were'} closed with it. Rename it instead.",
            field="reason",
        )
    record(
        actor.agency_id,
        "admin.reason_deleted",
        f"{actor.name} deleted the {REASON_KINDS[reason.kind]} “{reason.label}”",
        actor=actor,
    )
    db.session.delete(reason)

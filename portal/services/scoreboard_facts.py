"""Facts the scoreboard reads, written when their event is recorded (issue 15 item 4).

Two figures were derived from whole histories on every page view: how long each stay in a stage
lasted (the next move's time, a window over every move of the period) and when the client first
answered each share (a look-up among the timeline per share). Both are known the moment the event
happens, so they are written then, in the same unit of work as the event:

- ``StageHistory.seconds_in_stage``: when a move is inserted, the application's move just before it
  gets the seconds up to it, and the new move gets the seconds to the move just after it (None
  while it is the latest). Moves inserted out of order (an import of past history) come out as
  ordering all moves would give them: the ``lead`` over (``moved_at``, ``id``).
- ``SharedProfile.first_feedback_at``: when a client answer (``FEEDBACK_VERBS``) is added to an
  application's timeline at or after its share, the share keeps the earliest. Sharing again starts
  a new clock (``sharing.share`` clears it with ``shared_at``).

They are ORM events on the two models, so every writer that adds a move or a timeline entry keeps
them (the pipeline, the importer, the client's actions, the demo); ``fill`` recomputes them from
the history for rows written by bulk inserts that bypass the ORM (the benchmark's seed), as the
migration that added them did.
"""

from sqlalchemy import Integer, and_, event, func, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import FunctionElement

from ..extensions import db
from ..models import Activity, Application, SharedProfile, StageHistory
from ..models.base import UTCDateTime, as_utc

# The client's answers to a share: what counts as "feedback" (portal/services/client_actions.py).
FEEDBACK_VERBS = (
    "client.rated",
    "client.commented",
    "client.interview_requested",
    "client.hire_requested",
    "client.rejected",
)


class seconds_between(FunctionElement):
    """Whole seconds from ``start`` to ``end`` (two timestamps), on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_sqlite(element, compiler, **kw):
    end, start = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400.0) AS INTEGER)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    end, start = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start}))) AS BIGINT)"


def _neighbour(connection: Connection, move: StageHistory, *, before: bool):
    """The application's move just before (or just after) ``move`` in (``moved_at``, ``id``)
    order, with the seconds between the two computed by the database (as ``fill`` computes them:
    SQLite's ``julianday`` keeps milliseconds, so Python's exact arithmetic would differ by a
    second now and then)."""
    at = literal(as_utc(move.moved_at), UTCDateTime())
    order: tuple
    if before:
        where = or_(StageHistory.moved_at < at, and_(StageHistory.moved_at == at, StageHistory.id < move.id))
        order = (StageHistory.moved_at.desc(), StageHistory.id.desc())
        seconds = seconds_between(at, StageHistory.moved_at)
    else:
        where = or_(StageHistory.moved_at > at, and_(StageHistory.moved_at == at, StageHistory.id > move.id))
        order = (StageHistory.moved_at, StageHistory.id)
        seconds = seconds_between(StageHistory.moved_at, at)
    query = (
        select(StageHistory.id, seconds.label("seconds"))
        .where(StageHistory.application_id == move.application_id, where)
        .order_by(*order)
        .limit(1)
    )
    return connection.execute(query).first()


def _seconds_of(connection: Connection, move_id: int, seconds: int | None) -> None:
    connection.execute(update(StageHistory).where(StageHistory.id == move_id).values(seconds_in_stage=seconds))


def _before_move(_mapper, connection: Connection, move: StageHistory) -> None:
    """On PostgreSQL, moves of one application are written one transaction at a time: two
    concurrent moves would each miss the other's row and leave a wrong length. ``FOR NO KEY
    UPDATE``, taken before the row goes in: a plain ``FOR UPDATE`` after the insert would wait on
    the other move's foreign-key lock on the same row while it waits on ours (a deadlock).
    (SQLite's writers are serialised by the unit of work's BEGIN IMMEDIATE.)"""
    if connection.dialect.name == "postgresql":
        lock = select(Application.id).where(Application.id == move.application_id).with_for_update(key_share=True)
        connection.execute(lock)


def _after_move(_mapper, connection: Connection, move: StageHistory) -> None:
    previous = _neighbour(connection, move, before=True)
    if previous is not None:
        _seconds_of(connection, previous.id, previous.seconds)
    following = _neighbour(connection, move, before=False)
    seconds = following.seconds if following is not None else None
    if seconds != move.seconds_in_stage:
        _seconds_of(connection, move.id, seconds)
        set_committed_value(move, "seconds_in_stage", seconds)  # the object says what its row says


def _after_activity(_mapper, connection: Connection, entry: Activity) -> None:
    if entry.application_id is None or entry.verb not in FEEDBACK_VERBS:
        return
    at = as_utc(entry.created_at)
    connection.execute(
        update(SharedProfile)
        .where(
            SharedProfile.application_id == entry.application_id,
            SharedProfile.shared_at <= at,
            or_(SharedProfile.first_feedback_at.is_(None), SharedProfile.first_feedback_at > at),
        )
        .values(first_feedback_at=at)
        .execution_options(synchronize_session=False)
    )


def register() -> None:
    """Listen for new moves and timeline entries (once per process)."""
    if not event.contains(StageHistory, "after_insert", _after_move):
        event.listen(StageHistory, "before_insert", _before_move)
        event.listen(StageHistory, "after_insert", _after_move)
        event.listen(Activity, "after_insert", _after_activity)


def fill(agency_id: int) -> None:
    """Recompute both facts of the agency's rows from its history (rows bulk-inserted past the ORM)."""
    following = (
        select(
            StageHistory.id,
            func.lead(StageHistory.moved_at)
            .over(partition_by=StageHistory.application_id, order_by=(StageHistory.moved_at, StageHistory.id))
            .label("next_at"),
            StageHistory.moved_at,
        )
        .where(StageHistory.agency_id == agency_id)
        .cte("following")  # a CTE: PostgreSQL refuses to lock the rows of a window's subquery
    )
    # On the session's connection, not through the session: the search outbox reindexes the
    # candidates behind every ORM UPDATE of the stage history, and neither fact is in a document.
    connection = db.session.connection()
    connection.execute(
        update(StageHistory)
        .where(StageHistory.id == following.c.id)  # the latest move of each: None (seconds to NULL)
        .values(seconds_in_stage=seconds_between(following.c.next_at, following.c.moved_at))
    )
    first = (
        select(func.min(Activity.created_at))
        .where(
            Activity.application_id == SharedProfile.application_id,
            Activity.verb.in_(FEEDBACK_VERBS),
            Activity.created_at >= SharedProfile.shared_at,
        )
        .scalar_subquery()
    )
    connection.execute(
        update(SharedProfile).where(SharedProfile.agency_id == agency_id).values(first_feedback_at=first)
    )

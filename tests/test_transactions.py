"""A failure rolls back the whole change, savepoints included, on both databases."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Task
from portal.services.tasks import generate_task
from tests.factories import make_tenant


def test_a_savepoint_as_the_first_write_is_undone_by_rollback(ctx):
    tenant = make_tenant("txco")
    db.session.commit()
    # generate_task inserts inside begin_nested(); here it is the transaction's first write.
    generate_task(tenant.application, "send_feedback", "send_feedback:txn-test")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0


def test_zone_aware_times_are_stored_as_the_same_instant(ctx):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.models import Job

    tenant = make_tenant("tzco")
    kolkata = datetime(2027, 3, 14, 9, 30, tzinfo=ZoneInfo("Asia/Kolkata"))
    job = db.session.get(Job, tenant.job.id)
    job.closed_at = kolkata
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Job, tenant.job.id).closed_at
    assert stored == kolkata and stored.utcoffset().total_seconds() == 0

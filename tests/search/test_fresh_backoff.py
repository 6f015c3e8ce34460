"""After an outage the backlog drains as soon as Meilisearch answers, not when its backoff ends."""

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import SearchOutbox, utcnow
from search_sync import outbox
from search_sync.check import check, indexed_hashes
from search_sync.sync import drain
from tests.factories import make_agency, make_candidate
from tests.search.conftest import index_now


def _backed_off(rows) -> bool:
    return all(r.next_attempt_at > utcnow() + timedelta(seconds=30) and r.attempts >= 1 for r in rows)


def _rows() -> list[SearchOutbox]:
    db.session.expire_all()
    return list(db.session.scalars(select(SearchOutbox).where(SearchOutbox.parked.is_(False))))


def test_a_health_probe_makes_the_backlog_due_when_meilisearch_is_back(sctx, search_app, meili):
    search_app.config.update(SEARCH_BACKOFF_SECONDS=60, SEARCH_PROBE_SECONDS=0)
    agency = make_agency()
    make_candidate(agency)
    db.session.add(SearchOutbox(agency_id=agency.id, entity="candidate", entity_id=999, parked=True, last_error="x"))
    db.session.commit()
    index_now()
    meili.stop()
    try:
        for _ in range(4):
            make_candidate(agency)
        db.session.commit()
        assert drain()["failed"] == 4
        assert _backed_off(_rows()) and len(_rows()) == 4
        # Still down: nothing is due, the probe fails, the rows keep their backoff.
        assert drain() == {
            "rows": 0,
            "indexed": 0,
            "deleted": 0,
            "parked": 0,
            "failed": 0,
            "resumed": 0,
            "paused": False,
        }
        assert _backed_off(_rows())
    finally:
        meili.start()
    result = drain()
    assert result["resumed"] == 4 and result["rows"] == 4 and result["indexed"] == 4
    assert outbox.backlog() == 0
    assert outbox.parked() == 1  # a refused document stays parked
    assert check().ok


def test_a_batch_that_goes_through_makes_the_backed_off_rows_due(sctx, search_app, meili):
    search_app.config.update(SEARCH_BACKOFF_SECONDS=60, SEARCH_PROBE_SECONDS=10**9)  # no probe after the first
    agency = make_agency()
    db.session.commit()
    meili.stop()
    try:
        earlier = [make_candidate(agency).id for _ in range(3)]
        db.session.commit()
        assert drain()["failed"] == 3
    finally:
        meili.start()
    assert _backed_off(_rows())
    later = make_candidate(agency).id  # due now: its batch reaches Meilisearch
    db.session.commit()
    result = drain()
    assert result["rows"] == 4 and result["resumed"] == 3 and result["failed"] == 0
    assert outbox.backlog() == 0
    assert check().ok
    assert {f"a{agency.id}-c{cid}" for cid in [*earlier, later]} <= set(indexed_hashes())

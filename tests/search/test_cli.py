"""``flask search reindex|check|status``."""

from portal.extensions import db
from portal.models import SearchOutbox
from search_sync.client import meili_client
from search_sync.settings import index_name
from tests.factories import make_agency, make_candidate


def test_reindex_check_and_status(sctx):
    agency = make_agency("clitest")
    for _ in range(3):
        make_candidate(agency)
    db.session.commit()
    runner = sctx.test_cli_runner()

    waiting = runner.invoke(args=["search", "check"])
    assert waiting.exit_code == 0  # the worker has not run yet: in flight, not drift
    assert "except 3 document(s) waiting in the outbox" in waiting.output
    db.session.query(SearchOutbox).delete()  # the rows lost: now the index is behind
    db.session.commit()

    drifted = runner.invoke(args=["search", "check"])
    assert drifted.exit_code == 1
    assert "agency clitest: 0 stale, 3 missing, 0 extra" in drifted.output

    reindexed = runner.invoke(args=["search", "reindex"])
    assert reindexed.exit_code == 0, reindexed.output
    assert "Indexed 3 candidate(s); 0 refused" in reindexed.output
    assert meili_client().index(index_name()).get_stats().number_of_documents == 3
    assert runner.invoke(args=["search", "check"]).output.strip() == (
        "Index matches the database: 3 document(s) compared."
    )

    db.session.add(
        SearchOutbox(
            agency_id=agency.id, entity="candidate", entity_id=1, parked=True, last_error="document is too big"
        )
    )
    db.session.commit()
    status = runner.invoke(args=["search", "status"])
    assert "outbox parked: 1" in status.output and "document is too big" in status.output
    assert "documents: 3" in status.output

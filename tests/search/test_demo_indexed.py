"""`make run` loads the demo data and starts the worker: the demo's candidates end up searchable."""

from portal.demo import load_demo
from portal.extensions import db
from portal.models import Candidate, User
from portal.services.search import Criteria, search_candidates
from portal.unit_of_work import unit_of_work
from search_sync.reindex import drift
from tests.search.conftest import index_now


def test_demo_data_is_indexed_by_the_worker(sctx):
    with unit_of_work():
        assert load_demo()
    # Loading wrote outbox rows through the session listener; the worker's drain indexes them.
    assert index_now()["indexed"] == db.session.query(Candidate).count()
    assert drift() == []
    recruiter = db.session.query(User).filter_by(email="rita@northwind.example").one()
    result = search_candidates(recruiter, Criteria(q="engineer"))
    assert result.total > 0 and not result.degraded

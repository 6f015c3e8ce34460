"""The worker holds no write lock while Meilisearch works: on SQLite a unit of work is the
database's only write lock, so a sync that called Meilisearch inside one kept every client write
waiting for as long as Meilisearch took to answer (its whole timeout when it hangs)."""

import socket
import threading

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Candidate, SearchOutbox
from portal.unit_of_work import unit_of_work
from search_sync.sync import sync_search
from tests.factories import make_agency, make_candidate


def test_a_client_write_goes_through_while_the_worker_waits_on_a_hung_meilisearch(make_app):
    # A real server that accepts the worker's connection and never answers until released.
    hole = socket.create_server(("127.0.0.1", 0))
    connected, release = threading.Event(), threading.Event()

    def swallow():
        connection, _ = hole.accept()
        connected.set()
        release.wait(30)
        connection.close()

    threading.Thread(target=swallow, daemon=True).start()
    app = make_app(MEILI_URL=f"http://127.0.0.1:{hole.getsockname()[1]}", MEILI_TIMEOUT=30)
    with app.app_context():
        agency = make_agency()
        person = make_candidate(agency)
        db.session.commit()
        person_id = person.id
        waiting = db.session.scalar(select(func.count()).select_from(SearchOutbox))
        assert waiting >= 1
    outcome: dict = {}

    def worker():
        with app.app_context():
            outcome.update(sync_search())
            db.session.remove()

    syncing = threading.Thread(target=worker)
    syncing.start()
    try:
        assert connected.wait(20), "the worker never called Meilisearch"
        with app.app_context():  # the worker is inside its Meilisearch call now
            with unit_of_work():
                db.session.get(Candidate, person_id).headline = "Changed while search hangs"
            db.session.remove()
        assert syncing.is_alive(), "the write had to wait for the worker's Meilisearch call to end"
    finally:
        release.set()
        syncing.join(60)
        hole.close()
    assert outcome["failed"] == waiting  # put back with backoff, nothing lost
    with app.app_context():
        assert db.session.get(Candidate, person_id).headline == "Changed while search hangs"
        assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) >= waiting
        db.session.remove()

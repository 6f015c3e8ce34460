"""Two contacts of one company working the same candidate at the same moment, over HTTP: the
measured scenario that gave 500s (``UNIQUE constraint failed: rating``) and more "undid the
rejection" entries than rejections on SQLite. Real threads, real sessions, both databases."""

import threading
from collections import Counter

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, Comment, Rating
from tests.conftest import csrf_token, login_as
from tests.factories import make_contact, make_tenant

HX = {"HX-Request": "true"}
ROUNDS = 12


def test_two_contacts_rejecting_undoing_rating_and_commenting_at_once_never_get_a_500(app, monkeypatch):
    # About races, not throttles (tests/client/test_throttles.py): room for every request.
    monkeypatch.setitem(app.config, "CLIENT_COMMENT_RATE", "10000 per minute")
    monkeypatch.setitem(app.config, "CLIENT_ACTION_RATE", "10000 per minute")
    with app.app_context():
        tenant = make_tenant("busyco")
        colleague = make_contact(tenant.company)
        db.session.commit()
        base = f"/{tenant.agency.slug}/portal/candidates/{tenant.application.id}"
        application_id = tenant.application.id
        clients = []
        for contact in (tenant.contact, colleague):
            client = app.test_client()
            login_as(client, contact)
            clients.append((client, csrf_token(client)))

    barrier = threading.Barrier(len(clients))
    statuses: list[tuple[str, int]] = []
    failures: list[BaseException] = []

    def work(client, token, who):
        headers = {"X-CSRFToken": token, **HX}
        try:
            for n in range(ROUNDS):
                barrier.wait(30)
                for path, data in (
                    ("/reject", {}),
                    ("/rating", {"stars": str(1 + (n + who) % 5)}),
                    ("/undo-reject", {}),
                    ("/comments", {"body": f"Round {n} from contact {who}"}),
                ):
                    response = client.post(base + path, data=data, headers=headers)
                    statuses.append((path, response.status_code))
        except BaseException as exc:  # handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(*pair, who)) for who, pair in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert len(statuses) == ROUNDS * 4 * 2
    assert [s for s in statuses if s[1] >= 500] == []
    seen = Counter(statuses)
    # Every action went through for someone; the only refusals are undos by the contact who did
    # not reject ("Only the person who rejected this candidate can undo it").
    assert {path for path, status in seen if status == 200} == {"/reject", "/rating", "/undo-reject", "/comments"}
    assert {key for key in seen if key[1] != 200} <= {("/undo-reject", 409)}
    with app.app_context():

        def count(verb):
            return db.session.scalar(
                select(func.count())
                .select_from(Activity)
                .where(Activity.application_id == application_id, Activity.verb == verb)
            )

        rejected, undone = count("client.rejected"), count("client.reject_undone")
        assert rejected >= 1
        # Every undo undoes one rejection: never more undos than rejections, at most one behind.
        assert rejected - 1 <= undone <= rejected
        assert (
            db.session.scalar(select(func.count()).select_from(Rating).where(Rating.application_id == application_id))
            == 2
        )  # one per contact, however many taps
        assert db.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.application_id == application_id)
        ) == sum(1 for path, status in statuses if path == "/comments" and status == 200)

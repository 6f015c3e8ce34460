"""Degraded search (issue 11): SQL filters give the healthy path's answers, counts and facets;
at most K run at once per process; a time budget turns into a message, never a 500."""

import threading
from datetime import date

import pytest
from sqlalchemy import event, text

from portal.extensions import db
from portal.models import CandidateEmail, CandidateTag, Job, Resume
from portal.scoping import jobs_query
from portal.services.search import Criteria, _decorate, plan, search_candidates, search_database
from portal.services.search_database import BUSY, TOO_SLOW, slots
from tests.conftest import login_as
from tests.factories import make_candidate
from tests.search.conftest import apply, at, build_world, index_now
from tests.search.test_filters import CASES, _criteria
from tests.servers import free_port, wait_until


def add_text_people(world) -> None:
    """People whose words test word boundaries, prefixes, emails, tags, case and resume length."""
    agency, stages = world.agency, world.stages
    java = make_candidate(agency, first_name="Jonas", last_name="Script", skills="JavaScript, Go", location="Remote")
    apply(java, world.job5, "Screening", stages, last_activity=at("2024-09-01T00:00:00"))
    plain = make_candidate(agency, first_name="Jana", last_name="Plain", skills="Java; Go", location="Remote")
    apply(plain, world.job5, "Screening", stages, last_activity=at("2024-09-02T00:00:00"))
    umlaut = make_candidate(agency, first_name="Uwe", last_name="MÜLLER", headline="Zürich analyst")
    apply(umlaut, world.job7, "Sourced", stages, last_activity=at("2024-09-03T00:00:00"), source="Website")
    long_cv = make_candidate(agency, first_name="Lena", last_name="Long")
    db.session.add(CandidateEmail(agency_id=agency.id, candidate=long_cv, email="lena.long@example.org"))
    db.session.add(CandidateTag(candidate_id=long_cv.id, tag="Terraform"))
    words_past_limit = "filler " * 1500 + "zanzibar"  # past the 10,000 searchable characters
    db.session.add(
        Resume(agency_id=agency.id, candidate_id=long_cv.id, filename="cv.txt", content=b"", text=words_past_limit)
    )
    apply(long_cv, world.job7, "Sourced", stages, last_activity=at("2024-09-04T00:00:00"))
    db.session.commit()


TEXT_CASES = [
    {"q": "java go"},  # "java" is a whole word (not the prefix of JavaScript): Jana only
    {"q": "go java"},  # the last word is a prefix: JavaScript counts
    {"q": "javascript"},
    {"q": "ava"},  # inside a word is not a match
    {"q": "müller"},
    {"q": "zürich"},
    {"q": "lena example"},
    {"q": "terraform"},
    {"q": "filler"},
    {"q": "zanzibar"},  # past the searchable part of the resume
    {"q": "script", "include_active": True},
]
EVERY_FILTER = [spec for _, spec, _ in CASES] + [
    {"tags": ["sql"], "reasons": ["Not enough experience"], "min_positive": 50, "location": "London, UK"},
    {"include_active": True, "source": "LinkedIn", "last_after": date(2024, 1, 1)},
    {"stage": "Client review", "exclude_strong_no": True, "include_active": True},
]


def compare(who, criteria: Criteria) -> None:
    """The degraded answer equals the healthy one: ids, total and every facet count."""
    live = search_candidates(who, criteria)
    assert not live.degraded
    degraded = search_database(plan(who, criteria))
    assert degraded.degraded and degraded.notice is None
    assert sorted(h["candidate_id"] for h in degraded.hits) == sorted(h["candidate_id"] for h in live.hits)
    assert (degraded.total, degraded.approximate) == (live.total, False)
    assert {k: v for k, v in degraded.facets.items() if v} == {k: v for k, v in live.facets.items() if v}


@pytest.mark.parametrize("who", ["outsider", "recruiter", "admin"])
def test_every_filter_and_text_rule_matches_the_healthy_path(sctx, who):
    world = build_world()
    add_text_people(world)
    index_now()
    principal = getattr(world, who)
    for spec in EVERY_FILTER + TEXT_CASES:
        compare(principal, _criteria(world, spec))


def test_word_boundaries_are_exact_on_the_page(sctx):
    world = build_world()
    add_text_people(world)
    index_now()
    found = {
        q: sorted(h["name"] for h in search_database(plan(world.outsider, Criteria(q=q))).hits)
        for q in ("java go", "go java", "ava", "zanzibar", "MÜLLER")
    }
    assert found == {
        "java go": ["Jana Plain"],
        "go java": ["Jana Plain", "Jonas Script"],
        "ava": [],
        "zanzibar": [],
        "MÜLLER": ["Uwe MÜLLER"],
    }


def test_pages_of_a_text_search_are_exact_and_in_order(sctx):
    from tests.factories import make_agency, make_user

    agency = make_agency()
    admin = make_user(agency, "admin")
    # Every other person has the word only inside a longer one ("Xrust"), and a non-ASCII word
    # ("Zoë"), so no word index is exact for them: the LIKE superset finds 50, 25 are real.
    for n in range(50):
        make_candidate(agency, first_name=f"P{n:02d}", last_name="Rust" if n % 2 else "Xrust", headline="Zoë")
    db.session.commit()
    index_now()
    pages = [search_database(plan(admin, Criteria(q="rust", page=n))) for n in (1, 2)]
    assert [h["name"] for h in pages[0].hits + pages[1].hits] == [f"P{n:02d} Rust" for n in range(1, 50, 2)]
    assert len(pages[0].hits) == 20 and pages[0].approximate and pages[0].total <= 50
    assert (pages[1].total, pages[1].approximate) == (25, False)  # every row verified: the exact count
    assert search_candidates(admin, Criteria(q="rust")).total == 25


def test_a_word_index_that_is_exact_gives_an_exact_total_at_once(sctx):
    from tests.factories import make_agency, make_user

    agency = make_agency()
    admin = make_user(agency, "admin")
    for n in range(50):  # plain text: "·" separates words alike everywhere
        make_candidate(agency, first_name=f"P{n:02d}", last_name="Rust" if n % 2 else "Xrust", headline="Dev · Ops")
    db.session.commit()
    first = search_database(plan(admin, Criteria(q="rust")))
    assert [h["name"] for h in first.hits] == [f"P{n:02d} Rust" for n in range(1, 40, 2)]
    # SQLite's FTS5 is exact on such text; PostgreSQL's index splits at "_", so its rows are checked.
    exact = db.session.get_bind().dialect.name == "sqlite"
    assert (first.total, first.approximate) == (25, not exact)


def test_concurrency_limit_answers_busy_in_place(make_app, sctx):
    world = build_world()
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5, SEARCH_DEGRADED_CONCURRENCY=2)
    client = down.test_client()
    login_as(client, world.outsider)
    with down.app_context():
        semaphore = slots()
    # Two degraded searches in flight (each holds a slot, as search_database does while it runs).
    assert semaphore.acquire(blocking=False) and semaphore.acquire(blocking=False)
    try:
        responses = []

        def search():
            responses.append(client.get("/search?q=tristan", headers={"HX-Request": "true"}))

        threads = [threading.Thread(target=search) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(responses) == 4
        for response in responses:
            body = response.get_data(as_text=True)
            assert response.status_code == 200 and BUSY in body and "data-candidate-id" not in body
    finally:
        semaphore.release()
        semaphore.release()
    response = client.get("/search?q=tristan")
    assert f'data-candidate-id="{world.people["trap"].id}"' in response.get_data(as_text=True)


def test_concurrent_degraded_searches_never_exceed_the_limit_or_fail(make_app, sctx):
    world = build_world()
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5, SEARCH_DEGRADED_CONCURRENCY=1)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    user_type, user_id = type(world.outsider), world.outsider.id  # read here: the test's session is not shared

    def search():
        with down.app_context():
            who = db.session.get(user_type, user_id)
            barrier.wait(10)
            result = search_candidates(who, Criteria(location="London, UK"))
            outcomes.append("busy" if result.notice == BUSY else ",".join(sorted(h["name"] for h in result.hits)))
            db.session.remove()

    threads = [threading.Thread(target=search) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 6
    # Every answer is either the full, correct page or the busy message; at least one got through.
    assert set(outcomes) <= {"busy", "Mina Mixed,Tristan Trap"} and "Mina Mixed,Tristan Trap" in outcomes
    with down.app_context():
        assert slots().acquire(blocking=False)  # every slot was given back
        slots().release()


def test_time_budget_turns_into_a_message_and_the_request_goes_on(make_app, sctx):
    world = build_world()
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5, SEARCH_DEGRADED_BUDGET_MS=0)
    client = down.test_client()
    login_as(client, world.outsider)
    response = client.get("/search?q=tristan")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and TOO_SLOW in body and "data-candidate-id" not in body
    with down.app_context():
        who = db.session.get(type(world.outsider), world.outsider.id)
        assert search_candidates(who, Criteria()).notice == TOO_SLOW
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the session is still usable
        if db.engine.dialect.name == "postgresql":
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "0"


# A lock that blocks readers exists on PostgreSQL only; SQLite's budget and slots are tested above.
@pytest.mark.postgresql_only
def test_postgresql_statement_timeout_cancels_a_blocked_search(make_app, sctx):
    world = build_world()
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5, SEARCH_DEGRADED_BUDGET_MS=300)
    locker = db.engine.connect()
    transaction = locker.begin()
    locker.execute(text("LOCK TABLE candidate IN ACCESS EXCLUSIVE MODE"))
    try:
        with down.app_context():
            who = db.session.get(type(world.outsider), world.outsider.id)
            result = search_candidates(who, Criteria())
            assert result.notice == TOO_SLOW
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "0"
            db.session.remove()
    finally:
        transaction.rollback()
        locker.close()


@pytest.mark.postgresql_only
def test_postgresql_a_blocked_search_holds_its_slot(make_app, sctx):
    world = build_world()
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5, SEARCH_DEGRADED_CONCURRENCY=1)
    locker = db.engine.connect()
    transaction = locker.begin()
    locker.execute(text("LOCK TABLE candidate IN ACCESS EXCLUSIVE MODE"))
    first: list = []
    user_type, user_id = type(world.outsider), world.outsider.id

    def blocked_search():
        with down.app_context():
            who = db.session.get(user_type, user_id)
            first.append(search_candidates(who, Criteria()))
            db.session.remove()

    thread = threading.Thread(target=blocked_search)
    try:
        with down.app_context():
            who = db.session.get(user_type, user_id)  # loaded before the lock matters
            db.session.expunge(who)
            db.session.remove()
        thread.start()
        wait_until(
            lambda: locker.execute(
                text("SELECT count(*) FROM pg_locks WHERE relation = 'candidate'::regclass AND NOT granted")
            ).scalar(),
            10,
            what="the first search waiting on the lock",
        )
        with down.app_context():
            assert search_candidates(who, Criteria()).notice == BUSY
            db.session.remove()
    finally:
        transaction.rollback()
        locker.close()
        thread.join(30)
    assert first and first[0].notice is None and first[0].total == 4


def test_facet_counts_of_a_broad_search_cover_a_sample_and_the_page_says_so(make_app, sctx):
    world = build_world()
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5, SEARCH_DEGRADED_FACET_SAMPLE=2)
    with down.app_context():
        who = db.session.get(type(world.outsider), world.outsider.id)
        every = search_database(plan(who, Criteria(include_active=True)))
        assert every.total > 2 and every.facets_sample == 2
        first_two = every.hits[:2]
        locations: dict[str, int] = {}
        for doc in first_two:
            if doc["location"]:
                locations[doc["location"]] = locations.get(doc["location"], 0) + 1
        assert every.facets["location"] == locations  # counted over the first two matches only
        assert search_database(plan(who, Criteria(location="London, UK", tags=["sql"]))).facets_sample is None
    client = down.test_client()
    login_as(client, world.outsider)
    body = client.get("/search?include_active=1").get_data(as_text=True)
    assert "Counts from the first 2 results only" in body


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("Data engineer · 5 years – “SQL”, C++ & AWS", True),  # punctuation and symbols separate words everywhere
        ("snake_case id_42", True),
        ("Jürgen Müller", False),  # a non-ASCII letter: case folding and word characters may differ
        ("٣ years", False),  # a non-ASCII digit is a word character for Python
        ("private \ue000 use", False),  # FTS5 counts private-use characters as word characters
    ],
)
def test_plain_words_marks_text_a_word_index_reads_exactly(text, plain):
    from search_sync.documents import plain_words

    assert plain_words(text) is plain


def test_word_index_finds_words_around_non_ascii_punctuation(sctx):
    from tests.factories import make_agency, make_user

    agency = make_agency()
    admin = make_user(agency, "admin")
    make_candidate(agency, first_name="Pia", last_name="Dot", headline="Data·engineer – “Kubernetes”")
    make_candidate(agency, first_name="Ugo", last_name="Under", headline="kubernetes_admin")
    make_candidate(agency, first_name="Zoë", last_name="Umlaut", headline="Kubernetes·admin")
    db.session.commit()
    found = {
        q: sorted(h["name"] for h in search_database(plan(admin, Criteria(q=q))).hits)
        for q in ("kubernetes data", "kubernetes", "data engineer", "admin", "kubernetes_adm", "zoë kub")
    }
    assert found == {
        "kubernetes data": ["Pia Dot"],  # "kubernetes_admin" is one word, "kubernetes" is not in it
        "kubernetes": ["Pia Dot", "Ugo Under", "Zoë Umlaut"],  # the last word is a prefix
        "data engineer": ["Pia Dot"],
        "admin": ["Zoë Umlaut"],
        "kubernetes_adm": ["Ugo Under"],
        "zoë kub": ["Zoë Umlaut"],
    }


class CountingListener:
    """A TCP port that accepts each connection and closes it at once (Meilisearch gone bad),
    counting how many times the search tried it."""

    def __init__(self):
        import socket

        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self):
        self.server.close()


@pytest.mark.parametrize(("retry_after_ms", "tries"), [(60_000, 1), (0, 3)])
def test_an_unreachable_meilisearch_is_left_alone_for_a_moment(make_app, sctx, retry_after_ms, tries):
    world = build_world()
    listener = CountingListener()
    try:
        down = make_app(
            MEILI_URL=f"http://127.0.0.1:{listener.port}", MEILI_TIMEOUT=0.5, MEILI_RETRY_AFTER_MS=retry_after_ms
        )
        with down.app_context():
            results = [search_candidates(world.outsider, Criteria(q="tristan")) for _ in range(3)]
        # Every search is answered by the database; only the first of a pause pays for the attempt.
        assert all(r.degraded and [h["candidate_id"] for h in r.hits] == [world.people["trap"].id] for r in results)
        assert listener.connections == tries
    finally:
        listener.close()


def test_a_broad_search_stops_counting_and_says_more_than(make_app, sctx):
    world = build_world()
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5, SEARCH_DEGRADED_TOTAL_UP_TO=2)
    with down.app_context():
        who = db.session.get(type(world.outsider), world.outsider.id)
        exact = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5)
        broad = search_database(plan(who, Criteria(include_active=True)))
    with exact.app_context():
        who = db.session.get(type(world.outsider), world.outsider.id)
        everyone = search_database(plan(who, Criteria(include_active=True)))
    assert everyone.total > 2 and not everyone.total_is_lower_bound
    # The page itself is the same either way: only the count stops.
    assert [h["candidate_id"] for h in broad.hits] == [h["candidate_id"] for h in everyone.hits]
    assert (broad.total, broad.total_is_lower_bound, broad.pages) == (2, True, 1)
    client = down.test_client()
    login_as(client, world.outsider)
    body = client.get("/search?include_active=1").get_data(as_text=True)
    assert "More than 2 candidates" in body


def test_the_text_check_gives_the_word_split_answer():
    """``text_has_words`` scans instead of splitting the text into words: same answers."""
    import random
    import re

    from portal.services.search import text_has_words

    def by_words(text: str, words: list[str]) -> bool:
        found = set(re.findall(r"\w+", text.lower()))
        *whole, last = words
        return all(w in found for w in whole) and any(t.startswith(last) for t in found)

    rng = random.Random(7)
    alphabet = "ab_ cA.Ü-ü1\nßİ٣"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        words = re.findall(r"\w+", "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))).lower())
        if words:
            assert text_has_words(text, words) == by_words(text, words), (text, words)


def test_a_degraded_search_takes_few_round_trips(sctx):
    """The page's documents come with the ranking, the column names in one statement, and on
    PostgreSQL the time budget opens and closes in one call each: every round trip counts in a
    degraded search's time (issue 11: within 3x of healthy search)."""
    world = build_world()
    who = db.session.get(type(world.recruiter), world.recruiter.id)
    p = plan(who, Criteria(q="kubernetes"))
    visible = jobs_query(who).with_only_columns(Job.id, Job.title)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        named = search_database(p, decorate=lambda found: _decorate(who, found), visible_jobs=visible)
        middle = len(statements)
        decorated = search_database(p, decorate=lambda found: _decorate(who, found))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    for result in (named, decorated):
        assert [h["candidate_id"] for h in result.hits] == [world.people["trap"].id]
        assert (result.hits[0]["added_by"], result.hits[0]["latest_job"]) == ("User", "Sales Lead")
    # The ranking reads the page's documents and column names; PostgreSQL adds the budget's two.
    # Without ``visible_jobs`` the names take a statement of their own.
    budget = 2 if db.engine.dialect.name == "postgresql" else 0
    assert (middle, len(statements) - middle) == (1 + budget, 2 + budget), statements


@pytest.mark.postgresql_only
def test_postgresql_time_budget_keeps_the_transactions_work_and_settings(sctx):
    """The budget's savepoint is rolled back to put the settings back: what the transaction did
    before the search (and its own transaction-local settings) is kept."""
    world = build_world()
    who = db.session.get(type(world.recruiter), world.recruiter.id)
    settings = text("SELECT current_setting('statement_timeout'), current_setting('jit')")
    db.session.execute(text("SET LOCAL statement_timeout = '7s'"))
    before = db.session.execute(settings).one()
    world.people["trap"].headline = "Kubernetes sage"  # pending in the session: flushed, then kept
    result = search_database(plan(who, Criteria(q="sage")))
    assert [h["candidate_id"] for h in result.hits] == [world.people["trap"].id]
    assert db.session.execute(settings).one() == before and before[0] == "7s"
    db.session.commit()
    db.session.expire_all()
    assert world.people["trap"].headline == "Kubernetes sage"


@pytest.mark.postgresql_only
def test_postgresql_word_vectors_are_copied_only_when_they_change(sctx):
    """Writing the stored document into a text row (``facts._store_documents``, after every
    change) leaves the narrow copy of the word vector alone; a change to the text copies it."""
    world = build_world()
    trap_id = world.people["trap"].id
    versions = text(
        "SELECT w.xmin::text, w.words::text FROM candidate_search_words w WHERE w.candidate_id = :id"
    ).bindparams(id=trap_id)
    copied, vector = db.session.execute(versions).one()
    stored_again = "UPDATE candidate_search_text SET document = document, document_bytes = document_bytes"
    db.session.execute(text(stored_again + " WHERE candidate_id = :id"), {"id": trap_id})
    assert db.session.execute(versions).one() == (copied, vector)
    db.session.execute(
        text("UPDATE candidate_search_text SET text = text || ' gardener' WHERE candidate_id = :id"), {"id": trap_id}
    )
    recopied, changed = db.session.execute(versions).one()
    assert recopied != copied and "gardener" in changed and "gardener" not in vector


@pytest.mark.parametrize("who", ["outsider", "recruiter", "admin"])
def test_column_names_read_with_the_ranking_match_the_separate_lookup(sctx, who):
    """Who added each person and their latest job's title (hidden when the job is confidential
    and not the principal's), read by the ranking statement, as ``search._decorate`` reads them."""
    world = build_world()
    principal = db.session.get(type(getattr(world, who)), getattr(world, who).id)
    visible = jobs_query(principal).with_only_columns(Job.id, Job.title)
    criteria = Criteria(include_active=True)
    named = search_database(plan(principal, criteria), visible_jobs=visible)
    decorated = search_database(plan(principal, criteria), decorate=lambda found: _decorate(principal, found))
    columns = [[(h["candidate_id"], h["added_by"], h["latest_job"]) for h in r.hits] for r in (named, decorated)]
    assert columns[0] == columns[1] and len(columns[0]) > 3
    # The recruiter owns the confidential job; the outsider may not see it.
    assert ("Stealth CFO" in {title for _, _, title in columns[0]}) == (who != "outsider")

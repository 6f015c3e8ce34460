"""Saved searches (issue 14 item 6): named, unique per user whatever the case, the user's own
only, re-run from a list on the search page, deleted from it."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SavedSearch
from portal.services import ServiceError
from portal.services.saved_searches import (
    delete_saved_search,
    get_saved_search,
    save_search,
    saved_searches,
    search_query,
)
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_user

HX = {"HX-Request": "true"}


@pytest.fixture
def people(ctx):
    agency, other_agency = make_agency("savers"), make_agency("others")
    rhea, sam = make_user(agency, name="Rhea"), make_user(agency, name="Sam")
    outsider = make_user(other_agency, name="Otto")
    db.session.commit()
    return rhea, sam, outsider


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SavedSearch)) or 0


# Services, without HTTP -------------------------------------------------------------------


def test_the_query_keeps_known_search_keys_only():
    pairs = [("page", "3"), ("q", "python"), ("csrf_token", "x"), ("sort", "relevance"), ("job", "4"), ("job", "7")]
    assert search_query(pairs) == "q=python&job=4&job=7"
    assert search_query([("sort", "last_in_process"), ("location", "")]) == "sort=last_in_process"


@pytest.mark.parametrize(
    ("name", "pairs", "message"),
    [
        ("", [("q", "python")], "Give the search a name."),
        ("   ", [("q", "python")], "Give the search a name."),
        ("x" * 81, [("q", "python")], "Keep the name under 80 characters."),
        ("Nothing", [("page", "2")], "Search for something or choose a filter before saving."),
        ("PYTHON  london", [("q", "java")], "You already have a saved search called “PYTHON london”."),
    ],
)
def test_refusals_name_the_field_and_save_nothing(people, name, pairs, message):
    rhea, _, _ = people
    save_search(rhea, "Python London", [("q", "python"), ("location", "London")])
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        save_search(rhea, name, pairs)
    assert refused.value.field == "name" and message in refused.value.message
    db.session.rollback()
    assert _count() == 1


def test_names_are_per_user_and_lists_are_private(people):
    rhea, sam, outsider = people
    mine = save_search(rhea, "Python London", [("q", "python")])
    theirs = save_search(sam, "python london", [("q", "python")])  # another user may use the name
    db.session.commit()
    assert [s.name for s in saved_searches(rhea)] == ["Python London"]
    assert [s.id for s in saved_searches(sam)] == [theirs.id]
    assert saved_searches(outsider) == []
    assert get_saved_search(sam, mine.id) is None and get_saved_search(outsider, mine.id) is None
    with pytest.raises(ServiceError):
        delete_saved_search(sam, mine.id)
    delete_saved_search(rhea, mine.id)
    db.session.commit()
    assert [s.id for s in db.session.scalars(select(SavedSearch))] == [theirs.id]


# Views over HTTP ----------------------------------------------------------------------------


def test_save_from_the_page_list_rerun_and_delete(app, client, people):
    rhea, sam, _ = people
    login_as(client, rhea)
    page = client.get("/search?q=python").get_data(as_text=True)
    assert 'id="saved-searches"' in page and "None yet." in page and 'value="q=python"' in page
    # htmx sends the search form's fields as they stand now (hx-include="#search-form").
    response = client.post(
        "/search/saved",
        data={"csrf_token": csrf_token(client), "name": "Rust folk", "q": "rust", "include_active": "1", "sort": ""},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith('<section id="saved-searches"')
    assert 'href="/search?q=rust&amp;include_active=1">Rust folk</a>' in html and "Saved “Rust folk”." in html
    saved = db.session.scalar(select(SavedSearch))
    assert (saved.user_id, saved.agency_id, saved.query) == (rhea.id, rhea.agency_id, "q=rust&include_active=1")
    # The list is on the search page, and its link re-runs the search.
    page = client.get("/search").get_data(as_text=True)
    assert "Rust folk" in page
    assert client.get("/search?" + saved.query).status_code == 200

    twice = client.post(
        "/search/saved", data={"csrf_token": csrf_token(client), "name": "rust FOLK", "q": "go"}, headers=HX
    )
    body = twice.get_data(as_text=True)
    assert twice.status_code == 422 and 'id="name-error"' in body and "already have a saved search" in body
    assert _count() == 1

    login_as(client, sam)
    assert "Rust folk" not in client.get("/search").get_data(as_text=True)
    refused = client.post(f"/search/saved/{saved.id}/delete", data={"csrf_token": csrf_token(client)}, headers=HX)
    assert refused.status_code == 404 and _count() == 1

    login_as(client, rhea)
    deleted = client.post(f"/search/saved/{saved.id}/delete", data={"csrf_token": csrf_token(client)}, headers=HX)
    assert deleted.status_code == 200 and "Deleted “Rust folk”." in deleted.get_data(as_text=True)
    assert _count() == 0


def test_save_without_javascript_keeps_the_pages_query(app, client, people):
    rhea, _, _ = people
    login_as(client, rhea)
    response = client.post(
        "/search/saved", data={"csrf_token": csrf_token(client), "name": "Leads", "query": "q=lead&page=2"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/search?q=lead"
    refused = client.post("/search/saved", data={"csrf_token": csrf_token(client), "name": "", "query": "q=lead"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<html" in page and "Give the search a name." in page and _count() == 1

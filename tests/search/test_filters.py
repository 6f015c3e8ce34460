"""Every S2/S3/S4 rule against a hand-built world with known answers, through Meilisearch and
through the degraded database path (which must give the same ids)."""

from datetime import date

import pytest

from portal.extensions import db
from portal.models import Application
from portal.services import ServiceError
from portal.services.search import Criteria, meili_filter, plan, search_candidates, search_database
from search_sync.client import meili_client
from search_sync.settings import index_name
from tests.conftest import login_as
from tests.search.conftest import apply, build_world, index_now

PUBLIC_PAST = {"trap", "mixed", "recent", "cool"}


def names(result) -> list[str]:
    return [hit["name"].split()[1].lower() for hit in result.hits]


def both_paths(who, criteria: Criteria) -> tuple[list[str], list[str]]:
    """(Meilisearch answer, database answer) for the same principal and criteria."""
    live = search_candidates(who, criteria)
    assert not live.degraded
    return names(live), names(search_database(plan(who, criteria)))


CASES = [
    # (principal, criteria, expected people)
    ("outsider", {}, PUBLIC_PAST),
    ("recruiter", {}, PUBLIC_PAST | {"secret"}),
    ("admin", {}, PUBLIC_PAST | {"secret"}),
    ("outsider", {"include_active": True}, PUBLIC_PAST | {"active"}),
    # The flattening trap: job 5 at stage 1 and job 7 at stage 4 is not "job 5 reached Interview".
    ("outsider", {"jobs": ["job5"], "stage": "Interview"}, {"recent"}),
    ("outsider", {"jobs": ["job7"], "stage": "Interview"}, {"trap"}),
    ("outsider", {"jobs": ["job5", "job7"], "stage": "Interview"}, {"trap", "recent"}),
    ("outsider", {"jobs": ["job5"]}, {"trap", "mixed", "recent"}),
    # Reached stage is "that stage or later"; a public person's confidential progress does not count.
    ("outsider", {"stage": "Interview"}, {"trap", "recent"}),
    ("recruiter", {"stage": "Interview"}, {"trap", "recent", "secret"}),
    ("outsider", {"stage": "Sourced"}, PUBLIC_PAST),
    # Rejection reason: OR across values, any closed application; no leak from the confidential one.
    ("outsider", {"reasons": ["Failed the assessment"]}, {"recent"}),
    ("outsider", {"reasons": ["Culture fit", "Salary expectations too high"]}, {"trap", "mixed", "cool"}),
    ("recruiter", {"reasons": ["Culture fit"]}, {"trap", "cool", "secret"}),
    ("outsider", {"min_positive": 60}, {"trap"}),
    ("outsider", {"min_positive": 67}, set()),
    ("outsider", {"exclude_strong_no": True}, {"trap", "mixed", "cool"}),
    # Cool-off boundary: the last activity is exactly 2025-06-01T00:00:00Z.
    ("outsider", {"last_before": date(2025, 6, 1)}, {"trap", "mixed", "recent"}),
    ("outsider", {"last_after": date(2025, 6, 1)}, {"cool"}),
    ("outsider", {"last_before": date(2025, 6, 2), "last_after": date(2025, 6, 1)}, {"cool"}),
    ("outsider", {"location": "London, UK"}, {"trap", "mixed"}),
    ("outsider", {"source": "Job board"}, {"recent"}),
    ("outsider", {"source": "Referral"}, {"trap"}),
    ("outsider", {"tags": ["python"]}, {"trap"}),
    ("outsider", {"tags": ["python", "sql"]}, {"trap"}),
    ("outsider", {"q": "kubernetes"}, {"trap"}),
    ("outsider", {"q": "rhea recent"}, {"recent"}),
    ("outsider", {"job_title": "sales"}, {"trap", "recent", "cool"}),
    ("outsider", {"job_title": "stealth"}, set()),
    ("recruiter", {"job_title": "stealth"}, {"secret", "mixed"}),
]


def _criteria(world, spec: dict) -> Criteria:
    spec = dict(spec)
    if "jobs" in spec:
        spec["jobs"] = [getattr(world, name).id for name in spec["jobs"]]
    if "stage" in spec:
        spec["stage"] = world.stages[spec["stage"]].id
    if "reasons" in spec:
        spec["reasons"] = [world.reasons[label].id for label in spec["reasons"]]
    return Criteria(**spec)


@pytest.mark.parametrize(("who", "spec", "expected"), CASES, ids=[f"{w}-{sorted(s)}" for w, s, _ in CASES])
def test_filter_rule_gives_the_known_answer_on_both_paths(sctx, who, spec, expected):
    world = build_world()
    index_now()
    live, degraded = both_paths(getattr(world, who), _criteria(world, spec))
    assert set(live) == expected
    assert set(degraded) == expected


def test_sort_by_last_in_process_is_the_same_on_both_paths(sctx):
    world = build_world()
    index_now()
    live, degraded = both_paths(world.outsider, Criteria(sort="last_in_process"))
    assert live == ["cool", "recent", "mixed", "trap"]
    assert degraded == live


def test_confidential_reason_does_not_leak_through_facets(sctx):
    world = build_world()
    index_now()
    failed = str(world.reasons["Failed the assessment"].id)
    for who in (world.outsider, world.admin):
        live = search_candidates(who, Criteria())
        # Only Rhea's public application carries it; Mina's confidential one does not count.
        assert live.facets["reason_ids"][failed] == 1
        assert search_database(plan(who, Criteria())).facets["reason_ids"][failed] == 1


def test_columns_come_from_the_most_recent_application(sctx):
    world = build_world()
    index_now()
    result = search_candidates(world.outsider, _criteria(world, {"stage": "Interview", "jobs": ["job5"]}))
    (hit,) = result.hits
    # Reached Interview on job 5, but the row shows application B (most recent activity).
    assert hit["latest"]["stage"] == "Client review"
    assert hit["latest"]["reason"] == "Did not attend the interview"
    assert hit["latest"]["source"] == "Job board"
    assert hit["latest_job"] == "Sales Lead"


def test_hired_candidate_disappears_after_the_worker_runs(sctx):
    world = build_world()
    index_now()
    assert "cool" in names(search_candidates(world.outsider, Criteria()))
    apply(world.people["cool"], world.job5, "Hired", world.stages, outcome="hired")
    db.session.commit()
    # Even before the worker runs, the page re-check keeps the hired person off the page.
    assert "cool" not in names(search_candidates(world.outsider, Criteria()))
    index_now()
    index = meili_client().index(index_name())
    assert index.search("Cora", {"filter": f"agency_id = {world.agency.id}"})["hits"] == []


def test_job_filter_refuses_a_job_the_user_may_not_see(sctx):
    world = build_world()
    with pytest.raises(ServiceError):
        plan(world.outsider, Criteria(jobs=[world.secret_job.id]))
    client = sctx.test_client()
    login_as(client, world.outsider)
    response = client.get(f"/search?job={world.secret_job.id}")
    assert response.status_code == 422
    assert "Stealth CFO" not in response.get_data(as_text=True)


def test_filter_values_are_never_pasted_from_the_browser(sctx):
    world = build_world()
    client = sctx.test_client()
    login_as(client, world.recruiter)
    response = client.get('/search?tag=x" OR agency_id = 2&location=nowhere')
    assert response.status_code == 422
    # Known values are quoted by the server: a quote inside a value cannot end the string.
    clauses = meili_filter(plan(world.admin, Criteria(location='Lo"ndon')))
    assert 'location = "Lo\\"ndon"' in clauses


def test_page_shows_rows_with_candidate_ids_and_facet_counts(sctx):
    world = build_world()
    index_now()
    client = sctx.test_client()
    login_as(client, world.outsider)
    page = client.get("/search?location=London,+UK").get_data(as_text=True)
    assert f'data-candidate-id="{world.people["trap"].id}"' in page
    assert f'data-candidate-id="{world.people["secret"].id}"' not in page
    assert "Stealth CFO" not in page
    fragment = client.get("/search?q=kubernetes", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="search-results"') and 'hx-swap-oob="true"' in body


def test_bulk_add_to_shortlist_is_idempotent(sctx):
    from sqlalchemy import func, select

    from tests.conftest import csrf_token

    world = build_world()
    client = sctx.test_client()
    login_as(client, world.recruiter)
    ids = [world.people["trap"].id, world.people["cool"].id]
    form = {"csrf_token": csrf_token(client), "job_id": world.secret_job.id, "candidate": ids}
    first = client.post("/search/shortlist", data=form)
    assert first.status_code == 200 and "Added 2" in first.get_data(as_text=True)
    second = client.post("/search/shortlist", data=form)
    assert "Added 0" in second.get_data(as_text=True)
    count = db.session.scalar(
        select(func.count()).select_from(Application).where(Application.job_id == world.secret_job.id)
    )
    assert count == 4  # Sybil and Mina were on the job already


def test_shortlisting_adds_applications_by_the_pipeline_rule(ctx):
    from sqlalchemy import select

    from portal.models import Activity, Candidate, StageHistory
    from portal.services.search import add_to_shortlist
    from tests.factories import make_agency, make_candidate, make_company, make_job, make_user

    agency = make_agency()
    recruiter = make_user(agency)
    job = make_job(make_company(agency), recruiter)
    candidate = make_candidate(agency, looking_for_work=False)
    db.session.commit()

    assert add_to_shortlist(recruiter, job.id, [candidate.id]) == 1
    db.session.commit()
    first = agency.stages[0]
    application = db.session.scalar(select(Application).where(Application.job_id == job.id))
    assert (application.stage_id, application.source) == (first.id, "Rediscovery")
    history = db.session.scalars(select(StageHistory).where(StageHistory.application_id == application.id)).all()
    assert [(h.from_stage_id, h.to_stage_id, h.moved_by_id) for h in history] == [(None, first.id, recruiter.id)]
    entries = db.session.scalars(select(Activity).where(Activity.application_id == application.id)).all()
    assert [(e.verb, e.actor_user_id) for e in entries] == [("application.created", recruiter.id)]
    assert db.session.get(Candidate, candidate.id).looking_for_work is True


def test_search_page_degrades_to_the_database_when_meilisearch_is_unreachable(make_app, sctx):
    from tests.servers import free_port

    world = build_world()
    ids = {key: person.id for key, person in world.people.items()}
    down = make_app(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_TIMEOUT=0.5)
    client = down.test_client()
    login_as(client, world.outsider)
    response = client.get("/search?location=London,+UK")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Search is degraded" in body
    assert f'data-candidate-id="{ids["trap"]}"' in body and f'data-candidate-id="{ids["mixed"]}"' in body
    assert f'data-candidate-id="{ids["secret"]}"' not in body and "Stealth CFO" not in body


def test_pagination_is_the_same_on_both_paths(sctx):
    from tests.factories import make_agency, make_candidate, make_user

    agency = make_agency()
    admin = make_user(agency, "admin")
    ids = [make_candidate(agency).id for _ in range(25)]
    db.session.commit()
    index_now()
    first, second = (search_candidates(admin, Criteria(sort="last_in_process", page=n)) for n in (1, 2))
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (25, 2, 20, 5)
    shown = [h["candidate_id"] for h in first.hits + second.hits]
    assert sorted(shown) == ids
    degraded = [
        h["candidate_id"]
        for n in (1, 2)
        for h in search_database(plan(admin, Criteria(sort="last_in_process", page=n))).hits
    ]
    assert sorted(degraded) == ids
    client = sctx.test_client()
    login_as(client, admin)
    page = client.get("/search?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in page and 'rel="prev"' in page and 'rel="next"' not in page

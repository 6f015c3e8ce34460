"""The outbox and the worker against the real Meilisearch: same-transaction rows, catch-up after
an outage, a bad document parked, and a reindex that loses no concurrent change."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import Candidate, CandidateTag, SearchOutbox
from portal.worker import run_once
from search_sync import outbox
from search_sync.client import meili_client
from search_sync.documents import document_id
from search_sync.indexer import client, create_index, push
from search_sync.reindex import drift, reindex
from search_sync.settings import index_name
from search_sync.sync import drain
from tests.factories import make_agency, make_candidate
from tests.search.conftest import index_now


def ids_in_index(agency_id: int) -> set[int]:
    hits = meili_client().index(index_name()).search("", {"filter": f"agency_id = {agency_id}", "limit": 1000})["hits"]
    return {hit["candidate_id"] for hit in hits}


def test_a_change_writes_its_outbox_row_in_the_same_transaction(sctx):
    agency = make_agency()
    db.session.commit()
    db.session.query(SearchOutbox).delete()
    make_candidate(agency)
    db.session.rollback()
    assert outbox.backlog() == 0  # rolled back together with the change
    candidate = make_candidate(agency, headline="Rust")
    candidate.tags.append(CandidateTag(tag="rust"))
    db.session.commit()
    rows = db.session.scalars(select(SearchOutbox)).all()
    assert [(r.entity, r.entity_id) for r in rows] == [("candidate", candidate.id)]  # de-duplicated


def test_a_change_is_searchable_after_the_worker_runs(sctx):
    agency = make_agency()
    candidate = make_candidate(agency, first_name="Quentin", headline="Haskell")
    db.session.commit()
    agency_id, candidate_id = agency.id, candidate.id
    result = run_once()
    assert result["search"]["indexed"] == 1 and result["search_pending"] == 0
    assert ids_in_index(agency_id) == {candidate_id}
    db.session.get(Candidate, candidate_id).headline = "Erlang"
    db.session.commit()
    run_once()
    hits = meili_client().index(index_name()).search("erlang")["hits"]
    assert [hit["candidate_id"] for hit in hits] == [candidate_id]


def test_meilisearch_down_then_back_loses_nothing(sctx, meili):
    agency = make_agency()
    first = [make_candidate(agency).id for _ in range(3)]
    db.session.commit()
    index_now()
    meili.stop()
    try:
        later = [make_candidate(agency).id for _ in range(4)]
        db.session.commit()
        result = drain()
        assert result["failed"] == 4
        rows = db.session.scalars(select(SearchOutbox)).all()
        assert len(rows) == 4 and all(r.attempts == 1 and "unavailable" in r.last_error for r in rows)
    finally:
        meili.start()
    index_now()
    assert outbox.backlog() == 0
    assert ids_in_index(agency.id) == set(first + later)
    assert drift() == []


def test_a_bad_document_is_parked_and_the_rest_are_indexed(sctx, search_app):
    agency = make_agency()
    good = [make_candidate(agency).id for _ in range(5)]
    bad = make_candidate(agency, skills="kotlin " * 400)
    db.session.commit()
    search_app.config["SEARCH_MAX_DOCUMENT_BYTES"] = 1500
    result = drain()
    assert result["parked"] == 1
    assert ids_in_index(agency.id) == set(good)
    parked = db.session.scalars(select(SearchOutbox).where(SearchOutbox.parked.is_(True))).all()
    assert [(p.entity_id, "limit" in p.last_error) for p in parked] == [(bad.id, True)]
    assert outbox.backlog() == 0 and outbox.parked() == 1


def test_meilisearch_refusing_one_document_is_isolated_by_halving(sctx):
    meili = client()
    create_index(meili, index_name())
    docs = [{"id": document_id(1, n), "agency_id": 1, "candidate_id": n} for n in range(1, 8)]
    docs.insert(3, {"id": "not a valid id!", "agency_id": 1, "candidate_id": 99})
    refused = push(meili, index_name(), docs, [])
    assert list(refused) == ["not a valid id!"]
    assert ids_in_index(1) == set(range(1, 8))


def test_reindex_swaps_and_keeps_a_change_made_while_it_runs(sctx):
    agency = make_agency()
    people = [make_candidate(agency, headline="Before") for _ in range(3)]
    db.session.commit()
    index_now()
    seen_during = []

    def change_while_loading(done, total):
        # Searches keep working on the old index while the new one loads.
        seen_during.append(len(ids_in_index(agency.id)))
        people[0].headline = "Changed during the reindex"
        db.session.commit()
        # The worker runs too, but leaves the outbox alone until the swap.
        assert drain()["paused"] is True

    result = reindex(change_while_loading)
    assert seen_during == [3]
    assert result["documents"] == 3 and result["replayed"] >= 1
    hits = meili_client().index(index_name()).search("changed")["hits"]
    assert [hit["candidate_id"] for hit in hits] == [people[0].id]
    assert outbox.backlog() == 0 and drift() == []


def _pdf_with_text(text: str) -> bytes:
    """A minimal one-page PDF whose content stream shows ``text`` (built by hand, offsets computed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_resume_pdf_text_is_extracted_truncated_and_searchable(sctx):
    from portal.models import Resume
    from search_sync.documents import RESUME_CHARS, build

    agency = make_agency()
    with_pdf, with_long_text = make_candidate(agency), make_candidate(agency)
    db.session.add(
        Resume(
            agency_id=agency.id,
            candidate_id=with_pdf.id,
            filename="cv.pdf",
            content=_pdf_with_text("Zookeeper certification"),
        )
    )
    db.session.add(
        Resume(
            agency_id=agency.id, candidate_id=with_long_text.id, filename="cv.txt", content=b"", text="word " * 10_000
        )
    )
    db.session.commit()
    docs = {d["candidate_id"]: d for d in build({(agency.id, with_pdf.id), (agency.id, with_long_text.id)}).documents}
    assert "Zookeeper certification" in docs[with_pdf.id]["resume_text"]
    assert len(docs[with_long_text.id]["resume_text"]) == RESUME_CHARS
    index_now()
    hits = meili_client().index(index_name()).search("zookeeper")["hits"]
    assert [hit["candidate_id"] for hit in hits] == [with_pdf.id]


def test_a_job_turning_confidential_rebuilds_its_candidates(sctx):
    from portal.services.search import Criteria, search_candidates
    from tests.factories import make_application, make_company, make_job, make_user

    agency = make_agency()
    recruiter, outsider = make_user(agency), make_user(agency)
    job = make_job(make_company(agency), recruiter, title="Quiet role")
    application = make_application(job, shared=False, outcome="withdrawn")
    db.session.commit()
    index_now()
    assert [h["candidate_id"] for h in search_candidates(outsider, Criteria()).hits] == [application.candidate_id]
    job.confidential = True
    db.session.commit()
    assert [(r.entity, r.entity_id) for r in db.session.scalars(select(SearchOutbox))] == [("job", job.id)]
    index_now()
    document = meili_client().index(index_name()).get_document(document_id(agency.id, application.candidate_id))
    assert document.visibility == [f"job:{job.id}"]
    assert search_candidates(outsider, Criteria()).hits == []
    assert [h["candidate_id"] for h in search_candidates(recruiter, Criteria()).hits] == [application.candidate_id]


def test_finished_tasks_are_pruned(sctx):
    from datetime import timedelta

    from search_sync.sync import prune_tasks

    agency = make_agency()
    make_candidate(agency)
    db.session.commit()
    index_now()
    meili = client()
    assert meili.get_tasks({"types": ["documentAdditionOrUpdate"], "indexUids": [index_name()]}).results
    assert meili.wait_for_task(prune_tasks(timedelta(0)), timeout_in_ms=20_000).status == "succeeded"
    assert meili.get_tasks({"types": ["documentAdditionOrUpdate"], "indexUids": [index_name()]}).results == []

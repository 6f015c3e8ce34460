"""Words that appear only inside an uploaded resume (PDF or DOCX) are found by search, through the
search outbox as every other write: Meilisearch when it answers, the database when it does not."""

from datetime import UTC, datetime

from portal.extensions import db
from portal.services.candidate_files import add_resume
from portal.services.search import Criteria, plan, search_candidates, search_database
from portal.unit_of_work import unit_of_work
from tests.documents import make_docx, make_pdf
from tests.factories import make_agency, make_candidate, make_user
from tests.search.conftest import index_now

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_words_inside_an_uploaded_pdf_and_docx_are_found(sctx):
    agency = make_agency("uploads")
    recruiter = make_user(agency, "admin")
    ada, bea = make_candidate(agency, first_name="Ada"), make_candidate(agency, first_name="Bea")
    db.session.commit()
    with unit_of_work():
        add_resume(ada, recruiter, "ada.pdf", make_pdf("Ada Example", "Quokkasteward of the realm"), now=NOW)
        add_resume(bea, recruiter, "bea.docx", make_docx("Bea Example", "Certified pangolinographer"), now=NOW)
    index_now()
    for word, name in (("quokkasteward", "Ada"), ("pangolinographer", "Bea")):
        live = search_candidates(recruiter, Criteria(q=word))
        assert not live.degraded and [hit["name"] for hit in live.hits] == [f"{name} Idate"], word
        assert [hit["name"] for hit in search_database(plan(recruiter, Criteria(q=word))).hits] == [f"{name} Idate"], (
            word
        )

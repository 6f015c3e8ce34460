"""Who saw what (issue 16 item 4): a contact's profile opens, resume views and downloads are
recorded with that contact and shown to the agency; revealed-link sessions, other companies and
other agencies leave no record; a busy database never fails the page."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import Application, ClientContact, ProfileView, Resume, utcnow
from portal.services.profile_views import record_profile_view, views_by_application
from portal.sessions import REVEALED_BY
from tests.conftest import login_as
from tests.factories import make_application, make_contact, make_tenant
from tests.locks import impatient_settings, write_lock_held

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app, client):
    """Tenant "seenco": its contact (Clara, London) signed in; the shared candidate has a PDF resume."""
    with app.app_context():
        tenant = make_tenant("seenco")
        tenant.contact.name = "Clara Client"
        tenant.contact.last_visit_at = utcnow()  # the visit is under way: no last-visit write per page
        resume = Resume(
            agency_id=tenant.agency.id, candidate_id=tenant.application.candidate_id, filename="cv.pdf", content=PDF
        )
        db.session.add(resume)
        db.session.flush()
        tenant.application.shared_profile.resume_id = resume.id
        tenant.admin.timezone = "Europe/London"
        db.session.commit()
        login_as(client, tenant.contact)
        yield tenant


def candidate_url(t, suffix=""):
    return f"/{t.agency.slug}/portal/candidates/{t.application.id}{suffix}"


def views() -> list[tuple[int | None, str, int]]:
    db.session.rollback()  # what is committed
    rows = db.session.execute(
        select(ProfileView.contact_id, ProfileView.kind, ProfileView.application_id).order_by(ProfileView.id)
    )
    return [tuple(row) for row in rows]


def test_profile_open_resume_view_and_download_each_record_one_row_for_the_contact(app, client, world):
    assert client.get(candidate_url(world)).status_code == 200
    assert client.get(candidate_url(world, "/resume")).status_code == 200
    assert client.get(candidate_url(world, "/resume?download=1")).status_code == 200
    with app.app_context():
        application_id = world.application.id
        assert views() == [
            (world.contact.id, "profile", application_id),
            (world.contact.id, "resume_view", application_id),
            (world.contact.id, "resume_download", application_id),
        ]
        resume_ids = db.session.scalars(select(ProfileView.resume_id).where(ProfileView.kind != "profile")).all()
        assert resume_ids == [world.application.shared_profile.resume_id] * 2
        # Who and when only: no address, no browser is kept.
        assert {c.name for c in ProfileView.__table__.columns} == {
            "id",
            "agency_id",
            "application_id",
            "contact_id",
            "kind",
            "resume_id",
            "viewed_at",
        }


def test_a_file_no_browser_shows_is_recorded_as_a_download(app, client, world):
    with app.app_context():
        resume = db.session.get(Resume, world.application.shared_profile.resume_id)
        resume.content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        db.session.commit()
    assert client.get(candidate_url(world, "/resume")).headers["Content-Disposition"].startswith("attachment")
    with app.app_context():
        assert [kind for _, kind, _ in views()] == ["resume_download"]


def test_other_pages_and_head_requests_record_nothing(app, client, world):
    assert client.get(f"/{world.agency.slug}/portal/").status_code == 200
    assert client.get(f"/{world.agency.slug}/portal/jobs/{world.job.id}").status_code == 200
    assert client.head(candidate_url(world)).status_code == 200
    with app.app_context():
        assert views() == []


def test_a_staff_member_through_a_revealed_link_is_not_recorded_as_the_contact(app, client, world):
    """Decision: a revealed-link session ("Copy link") is the agency checking, not the client
    looking, so it records nothing (the security log names who used the link)."""
    with client.session_transaction() as session:
        session[REVEALED_BY] = world.recruiter.id
    assert client.get(candidate_url(world)).status_code == 200
    assert client.get(candidate_url(world, "/resume?download=1")).status_code == 200
    with app.app_context():
        assert views() == []


def test_the_service_refuses_unknown_kinds_and_skips_revealed_sessions(ctx):
    tenant = make_tenant("svcseen")
    with pytest.raises(ValueError, match="unknown view kind"):
        record_profile_view(tenant.contact, tenant.application, "printed")
    tenant.contact.revealed_by = tenant.recruiter
    assert record_profile_view(tenant.contact, tenant.application, "profile") is None


def _principal(session_id: str) -> SimpleNamespace:
    """What ``login_as`` needs of a principal built in a context that is gone."""
    return SimpleNamespace(get_id=lambda: session_id)


def test_another_company_or_agency_neither_writes_nor_reads_views(app, client, world):
    with app.app_context():
        other = make_tenant("otherseen")
        other_agency_id, other_contact_id = other.agency.id, other.contact.id
        strangers = [_principal(p.get_id()) for p in (other.contact, other.admin)]
    for contact in (world.other_contact, strangers[0]):
        login_as(client, contact)
        assert client.get(candidate_url(world)).status_code == 404
        assert client.get(candidate_url(world, "/resume?download=1")).status_code == 404
    login_as(client, world.contact)
    client.get(candidate_url(world))
    with app.app_context():
        assert [kind for _, kind, _ in views()] == ["profile"]
        # Read within another agency, the views are not there; nor can its contact write one.
        assert views_by_application(other_agency_id, [world.application.id]) == {}
        outsider = db.session.get(ClientContact, other_contact_id)
        with pytest.raises(ValueError, match="own agency"):
            record_profile_view(outsider, db.session.get(Application, world.application.id), "profile")
    login_as(client, strangers[1])
    page = client.get(f"/agency/candidates/{world.application.candidate_id}")
    assert page.status_code == 404 and "Clara Client" not in page.get_data(as_text=True)


def test_a_busy_database_serves_the_page_and_logs(make_app, database_url, world, caplog):
    impatient = make_app(**impatient_settings(100))
    client = impatient.test_client()
    login_as(client, world.contact)
    with write_lock_held(database_url, table="profile_view"):
        page = client.get(candidate_url(world))
        resume = client.get(candidate_url(world, "/resume"))
    assert page.status_code == 200 and "Summary" in page.get_data(as_text=True)
    assert resume.status_code == 200 and resume.data == PDF
    assert "was not recorded: the database was busy" in caplog.text
    with impatient.app_context():
        assert views() == []


def test_the_agency_reads_one_line_per_contact_with_counts_and_zone(app, client, world):
    now = utcnow()
    with app.app_context():
        second = make_contact(world.company, name="Dev Director")
        db.session.commit()
        application = world.application
        for minutes, contact, kind in (
            (50, world.contact, "profile"),
            (40, world.contact, "resume_download"),
            (30, world.contact, "resume_download"),
            (20, second, "resume_view"),
        ):
            record_profile_view(contact, application, kind, now=now - timedelta(minutes=minutes))
        db.session.commit()
        summary = views_by_application(world.agency.id, [application.id])[application.id]
        assert [(s.name, s.phrases) for s in summary] == [
            ("Dev Director", ["opened the CV"]),
            ("Clara Client", ["viewed the profile", "downloaded the CV (2×)"]),
        ]
        assert summary[1].last_at == now - timedelta(minutes=30)


def _seed_views(world, now):
    record_profile_view(world.contact, world.application, "profile", now=now - timedelta(hours=1))
    record_profile_view(world.contact, world.application, "resume_download", now=now - timedelta(minutes=3))
    record_profile_view(world.contact, world.application, "resume_download", now=now - timedelta(minutes=2))
    db.session.commit()


@pytest.mark.parametrize("page", ["candidate", "board"])
def test_the_agency_candidate_page_and_the_board_show_the_summary_line(app, client, world, page):
    now = utcnow()
    with app.app_context():
        _seed_views(world, now)
        path = (
            f"/agency/candidates/{world.application.candidate_id}"
            if page == "candidate"
            else f"/agency/jobs/{world.job.id}"
        )
        from portal.services.interviews import format_in_zone

        last = format_in_zone(now - timedelta(minutes=2), "Europe/London")
    login_as(client, world.admin)
    html = client.get(path).get_data(as_text=True)
    assert "<strong>Clara Client</strong> viewed the profile · downloaded the CV (2×)" in html
    assert f"last {last}" in html and "(Europe/London)" in html


def test_the_board_costs_the_same_queries_for_3_or_40_viewed_cards(app, client, world):
    login_as(client, world.admin)
    path = f"/agency/jobs/{world.job.id}"

    def queries() -> int:
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    def add_viewed_cards(count: int) -> None:
        with app.app_context():
            for _ in range(count):
                application = make_application(world.job)
                record_profile_view(world.contact, application, "profile")
                record_profile_view(world.contact, application, "resume_download")
            db.session.commit()

    add_viewed_cards(3)
    client.get(path)
    small = queries()
    add_viewed_cards(37)
    large = queries()
    assert large == small, f"{small} queries with a few viewed cards, {large} with 40"

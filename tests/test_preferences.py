"""Each person's zone and alert e-mails: /account for staff, the client settings page, the zone a
contact's browser reports the first time they act, and times in the client portal in their zone."""

from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import Activity, ClientContact, User
from portal.services import ServiceError, preferences
from tests.conftest import csrf_token, login_as
from tests.factories import make_contact, make_tenant


@pytest.fixture
def tenant(app, ctx):
    return make_tenant("prefs")


def _fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


# Services, without HTTP ------------------------------------------------------------------


def test_staff_preferences_take_real_zones_and_known_alert_choices(tenant):
    preferences.set_staff_preferences(tenant.recruiter, timezone="Asia/Tokyo", alert_email="digest")
    assert (tenant.recruiter.timezone, tenant.recruiter.alert_email) == ("Asia/Tokyo", "digest")
    for zone in ("Factory", "localtime", "posix/Europe/Paris", "EST5EDT", "Mars/Olympus", ""):
        with pytest.raises(ServiceError) as refused:
            preferences.set_staff_preferences(tenant.recruiter, timezone=zone, alert_email="off")
        assert refused.value.field == "timezone"
    with pytest.raises(ServiceError) as refused:
        preferences.set_staff_preferences(tenant.recruiter, timezone="UTC", alert_email="hourly")
    assert refused.value.field == "alert_email"


def test_the_browser_zone_is_taken_only_while_nobody_chose_one(tenant):
    contact = tenant.contact
    assert not preferences.zone_is_chosen(contact)
    for ignored in (None, "", "Factory", "Etc/GMT+5", "UTC", "Not/AZone"):
        assert not preferences.adopt_browser_zone(contact, ignored)
    assert preferences.adopt_browser_zone(contact, "America/Chicago")
    assert (contact.timezone, contact.timezone_source) == ("America/Chicago", "browser")
    assert not preferences.adopt_browser_zone(contact, "Europe/Paris")  # the first report stays
    preferences.set_contact_timezone(contact, "Europe/Paris")
    assert (contact.timezone, contact.timezone_source) == ("Europe/Paris", "contact")
    with pytest.raises(ServiceError):
        preferences.set_contact_timezone(contact, "localtime")


# Staff: /account ----------------------------------------------------------------------------


def test_account_page_saves_the_timezone_and_alert_preference(app, client, tenant):
    login_as(client, tenant.recruiter)
    page = client.get("/account/").get_data(as_text=True)
    assert '<label for="timezone">Timezone</label>' in page and '<optgroup label="Europe">' in page
    assert 'value="Factory"' not in page and 'value="localtime"' not in page
    assert '<option selected value="immediate">Immediately</option>' in page
    response = client.post(
        "/account/preferences",
        data={"csrf_token": csrf_token(client), "timezone": "Australia/Perth", "alert_email": "digest"},
    )
    assert response.status_code == 303
    user = _fresh(User, tenant.recruiter.id)
    assert (user.timezone, user.alert_email) == ("Australia/Perth", "digest")
    assert "Your preferences are saved." in client.get("/account/").get_data(as_text=True)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"timezone": "Factory", "alert_email": "off"}, "Not a valid choice."),
        ({"timezone": "", "alert_email": "off"}, "Choose a timezone from the list."),
        ({"timezone": "Europe/Oslo", "alert_email": "hourly"}, "Not a valid choice."),
    ],
)
def test_account_preferences_refuse_in_place(app, client, tenant, data, message):
    login_as(client, tenant.recruiter)
    response = client.post("/account/preferences", data={"csrf_token": csrf_token(client), **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'class="field-error"' in html
    user = _fresh(User, tenant.recruiter.id)
    assert (user.timezone, user.alert_email) == ("UTC", "immediate")


def test_account_preferences_need_the_csrf_token_and_staff(app, client, tenant):
    login_as(client, tenant.recruiter)
    refused = client.post("/account/preferences", data={"timezone": "Asia/Tokyo", "alert_email": "off"})
    assert refused.status_code == 400 and _fresh(User, tenant.recruiter.id).timezone == "UTC"
    contact_client = app.test_client()
    login_as(contact_client, tenant.contact)
    assert contact_client.get("/account/").status_code == 404


# Client contacts --------------------------------------------------------------------------------


def _contact_client(app, tenant):
    client = app.test_client()
    login_as(client, tenant.contact)
    return client


def test_the_client_settings_page_changes_the_zone(app, tenant):
    client = _contact_client(app, tenant)
    page = client.get("/prefs/portal/settings").get_data(as_text=True)
    assert "You have not chosen a timezone yet" in page and '<label for="timezone">Timezone</label>' in page
    assert 'data-browser-zone="1"' in page and "js/browser-zone.js" in page
    response = client.post("/prefs/portal/settings", data={"csrf_token": csrf_token(client), "timezone": "Asia/Dubai"})
    assert response.status_code == 303
    contact = _fresh(ClientContact, tenant.contact.id)
    assert (contact.timezone, contact.timezone_source) == ("Asia/Dubai", "contact")
    page = client.get("/prefs/portal/settings").get_data(as_text=True)
    assert "Times are shown in <strong>Asia/Dubai</strong>" in page and "data-browser-zone" not in page


def test_the_client_settings_page_refuses_a_made_up_zone(app, tenant):
    client = _contact_client(app, tenant)
    response = client.post("/prefs/portal/settings", data={"csrf_token": csrf_token(client), "timezone": "localtime"})
    assert response.status_code == 422 and "Not a valid choice." in response.get_data(as_text=True)
    assert _fresh(ClientContact, tenant.contact.id).timezone_source is None


def test_the_first_action_keeps_the_browser_zone_and_times_show_in_it(app, tenant):
    db.session.add(
        Activity(
            agency_id=tenant.agency.id,
            verb="sample",
            summary="Shared a candidate",
            job_id=tenant.job.id,
            client_visible=True,
            created_at=datetime(2031, 1, 15, 18, 30, tzinfo=UTC),
        )
    )
    db.session.commit()
    client = _contact_client(app, tenant)
    path = f"/prefs/portal/candidates/{tenant.application.id}/rating"
    rated = client.post(
        path, data={"stars": "4", "browser_timezone": "America/Chicago"}, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert rated.status_code < 400
    contact = _fresh(ClientContact, tenant.contact.id)
    assert (contact.timezone, contact.timezone_source) == ("America/Chicago", "browser")
    client.post(
        path, data={"stars": "5", "browser_timezone": "Asia/Tokyo"}, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert _fresh(ClientContact, tenant.contact.id).timezone == "America/Chicago"
    job_page = client.get(f"/prefs/portal/jobs/{tenant.job.id}").get_data(as_text=True)
    assert "Wed 15 Jan 2031, 12:30 (America/Chicago)</time> Shared a candidate" in job_page


def test_a_chosen_utc_is_the_contacts_zone_for_interviews(tenant):
    from portal.services.interviews import client_zone

    tenant.contact.timezone = "UTC"
    other = make_contact(tenant.company, timezone="Asia/Seoul")
    db.session.flush()
    assert client_zone(tenant.contact, None) == "Asia/Seoul"  # never chosen: the company's zone
    preferences.set_contact_timezone(tenant.contact, "UTC")
    assert client_zone(tenant.contact, None) == "UTC" and other.timezone_source == "staff"

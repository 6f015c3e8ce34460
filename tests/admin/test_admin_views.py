"""Admin views over HTTP (B1, B2): pages and fragments, branding save and live preview, uploads,
the sign-in page and the next real mail wearing the new branding."""

import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.models import (
    Activity,
    Agency,
    Application,
    ClientContact,
    EmailTemplate,
    MailOutbox,
    ProfileTemplate,
    StageDefinition,
    User,
)
from portal.worker import answer_sign_in_requests, deliver_mail
from tests.admin.conftest import image_bytes, reload_agency
from tests.conftest import csrf_token, login_as

HTMX = {"HX-Request": "true"}
BRANDING = {
    "primary_color": "#0f5132",
    "accent_color": "#9a3412",
    "portal_title": "Northwind for clients",
    "welcome_text": "Welcome, **partners**! <script>alert(1)</script>",
    "email_sender_name": "Northwind Talent Team",
    "email_footer": "Northwind · 1 Demo Street · London",
}
PAGES = [
    ("/admin/", "Agency settings", None),
    ("/admin/branding", "Branding", 'id="branding"'),
    ("/admin/users", "Users", 'id="users"'),
    ("/admin/companies", "Client companies", 'id="companies"'),
    ("/admin/stages", "Pipeline stages", 'id="stages"'),
    ("/admin/reasons", "Rejection and loss reasons", 'id="reasons"'),
    ("/admin/profile-templates", "Profile templates", None),
    ("/admin/email-templates", "Email templates", None),
    ("/admin/email-templates/invite", "Invitation for a new user", None),
    ("/admin/outbox", "Mail outbox", None),
]


def post(client, url, data=None, headers=None, **kw):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, headers=headers or {}, **kw)


def upload(client, url, fields: dict, logo: bytes, filename: str):
    """A multipart POST encoded in memory: for bodies over 500 kB the test client would spool to a
    temporary file that it never closes (a ResourceWarning under filterwarnings=error)."""
    boundary, body = encode_multipart(
        MultiDict(
            {
                **fields,
                "csrf_token": csrf_token(client),
                "logo": FileStorage(io.BytesIO(logo), filename, content_type="application/octet-stream"),
            }
        )
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("path, heading, partial_root", PAGES)
def test_admin_pages_render_as_page_and_as_fragment(admin_client, path, heading, partial_root):
    page = admin_client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html and '<nav class="admin-nav" aria-label="Admin sections">' in html
    assert "style=" not in html and "<script>" not in html
    if partial_root:
        fragment = admin_client.get(path, headers=HTMX).get_data(as_text=True)
        assert fragment.lstrip().startswith(f"<div {partial_root}")
        assert "<html" not in fragment
        assert "HX-Request" in page.headers["Vary"]


def test_company_page_and_contacts_fragment(admin_client, tenant):
    url = f"/admin/companies/{tenant.company.id}"
    html = admin_client.get(url).get_data(as_text=True)
    assert f"<h1>{tenant.company.name}</h1>" in html and tenant.contact.email in html
    fragment = admin_client.get(url, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="contacts">') and tenant.contact.email in fragment


def test_adding_and_renaming_a_company_and_a_clash_refused_on_the_whole_page(admin_client, tenant):
    created = upload(admin_client, "/admin/companies", {"name": "Initech"}, image_bytes("PNG"), "initech.png")
    assert created.status_code == 303
    company_url = created.headers["Location"]
    page = admin_client.get(company_url).get_data(as_text=True)
    assert "<h1>Initech</h1>" in page and 'alt="Logo of Initech"' in page
    clash = post(admin_client, company_url, {"name": tenant.company.name.upper()})
    html = clash.get_data(as_text=True)
    assert clash.status_code == 422 and "<h1>Initech</h1>" in html and 'id="contacts"' in html
    assert '<p class="field-error" id="name-error">There is already a client called' in html
    assert post(admin_client, company_url, {"name": "Initrode"}).status_code == 303
    assert "<h1>Initrode</h1>" in admin_client.get(company_url).get_data(as_text=True)


def test_saving_branding_applies_to_sign_in_page_css_and_logo(app, admin_client, tenant):
    slug, version = tenant.agency.slug, tenant.agency.branding_version
    response = upload(admin_client, "/admin/branding", BRANDING, image_bytes("JPEG"), "logo.jpg")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/branding?saved=1")
    stored = reload_agency(tenant.agency.id)
    assert stored.branding_version == version + 1

    sign_in = app.test_client().get(f"/{slug}/login").get_data(as_text=True)
    assert "Sign in to Northwind for clients" in sign_in
    assert "Welcome, <strong>partners</strong>!" in sign_in
    assert "<script>alert(1)</script>" not in sign_in
    assert f"/brand/{slug}.css?v={version + 1}" in sign_in
    css = app.test_client().get(f"/brand/{slug}.css?v={version + 1}").get_data(as_text=True)
    assert "--brand-primary:#0f5132;" in css and "--brand-accent:#9a3412;" in css
    logo = app.test_client().get(f"/brand/{slug}/logo?v={version + 1}")
    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/png"
    assert logo.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "change, field, message",
    [
        (
            {"primary_color": "#777777"},
            "primary_color",
            "White text on the primary colour #777777 has a contrast ratio of 4.48:1",
        ),
        ({"accent_color": "orange"}, "accent_color", "The accent colour must be a hex colour"),
        ({"primary_color": ""}, "primary_color", "Enter the primary colour."),
        ({"portal_title": "x" * 201}, "portal_title", "Field cannot be longer than 200 characters."),
    ],
)
def test_refused_branding_shows_the_message_on_the_field_and_stores_nothing(
    admin_client, tenant, change, field, message
):
    before = (tenant.agency.primary_color, tenant.agency.branding_version)
    for headers in ({}, HTMX):
        response = post(admin_client, "/admin/branding", {**BRANDING, **change}, headers=headers)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert re.search(rf'<p class="field-error" id="{field}-error">[^<]*{re.escape(message[:30])}', html)
        assert ("<h1>Branding</h1>" in html) == (headers == {})
    stored = reload_agency(tenant.agency.id)
    assert (stored.primary_color, stored.branding_version) == before


@pytest.mark.parametrize(
    "file, message",
    [
        (
            (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg"),
            "SVG logos are not accepted",
        ),
        ((image_bytes("PNG"), "../../etc/logo.png"), "must not contain folders or path separators"),
        ((image_bytes("PNG", size=(200, 200))[:-300], "broken.png"), "damaged or incomplete"),
        ((b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "fake.png"), "not a PNG, JPEG or WebP image"),
        ((b"\0" * (3 * 1024 * 1024), "big.png"), "The logo is 3.0 MB; the limit is 2 MB."),
    ],
)
def test_refused_logo_upload_explains_and_stores_nothing(admin_client, tenant, file, message):
    data, filename = file
    response = upload(admin_client, "/admin/branding", BRANDING, data, filename)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and 'id="logo-error"' in html
    stored = reload_agency(tenant.agency.id)
    assert stored.logo_png is None and stored.logo_content_type is None


def test_a_20_mb_upload_gets_a_clear_413_and_nothing_is_stored(admin_client, tenant):
    response = upload(admin_client, "/admin/branding", BRANDING, b"\0" * (20 * 1024 * 1024), "huge.png")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "File too large" in html and "Logos can be at most 2 MB" in html
    stored = reload_agency(tenant.agency.id)
    assert stored.logo_png is None and stored.branding_version == tenant.agency.branding_version


def test_preview_renders_unsaved_values_without_saving(admin_client, tenant):
    before = tenant.agency.branding_version
    response = post(
        admin_client,
        "/admin/branding/preview",
        {**BRANDING, "portal_title": "Preview Title", "primary_color": "#123456"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="brand-preview"')
    assert "Sign in to Preview Title" in html and "<strong>partners</strong>" in html
    assert "/admin/branding/preview.css?primary=%23123456&amp;accent=%239a3412" in html
    stored = reload_agency(tenant.agency.id)
    assert stored.branding_version == before and stored.portal_title is None
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.verb == "admin.branding")) == 0


def test_preview_shows_why_values_cannot_be_saved(admin_client):
    html = post(
        admin_client, "/admin/branding/preview", {**BRANDING, "primary_color": "#777777"}, headers=HTMX
    ).get_data(as_text=True)
    assert "Cannot be saved yet: White text on the primary colour #777777 has a contrast ratio of 4.48:1" in html


@pytest.mark.parametrize(
    "query, primary, accent",
    [
        ("primary=%230f5132&accent=%239a3412", "#0f5132", "#9a3412"),
        ("primary=red;}body{x:1}&accent=%23abc", "#1d4ed8", "#aabbcc"),
        ("", "#1d4ed8", "#b45309"),
    ],
)
def test_preview_css_is_validated(admin_client, query, primary, accent):
    response = admin_client.get(f"/admin/branding/preview.css?{query}")
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert response.get_data(as_text=True) == f".brand-preview{{--brand-primary:{primary};--brand-accent:{accent};}}\n"


def test_branding_change_is_in_the_next_mail_received_over_smtp(app, smtp, admin_client, tenant):
    post(admin_client, "/admin/branding", BRANDING)
    anonymous = app.test_client()
    response = post(anonymous, f"/{tenant.agency.slug}/login", {"email": tenant.contact.email})
    assert response.status_code == 200
    assert answer_sign_in_requests() == 1
    assert deliver_mail() == 1
    [received] = smtp.inbox.wait_for(1)
    message = received["message"]
    assert message["From"].addresses[0].display_name == "Northwind Talent Team"
    assert message["Subject"] == "Your sign-in link for Northwind for clients"
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "border-top:6px solid #0f5132" in html and "#9a3412" in html
    assert "Sent by Northwind Talent Team" in html and "Northwind · 1 Demo Street · London" in html
    assert "Northwind Talent Team" in text and "Northwind · 1 Demo Street · London" in text


def test_invited_user_sets_a_password_once_and_can_sign_in(app, smtp, admin_client, tenant):
    response = post(
        admin_client,
        "/admin/users",
        {"name": "Nina New", "email": "Nina@Agency.example", "role": "recruiter"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<div id="users">')
    assert "nina@agency.example" in response.get_data(as_text=True)
    assert deliver_mail() == 1
    [received] = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert "invited you" in text
    link = re.search(r"http://\S+/account/set-password/\S+", text).group(0)
    path = link.split("127.0.0.1", 1)[1].split("/", 1)[1]
    path = "/" + path

    visitor = app.test_client()
    assert "Choose your password" in visitor.get(path).get_data(as_text=True)
    short = post(visitor, path, {"password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    done = post(visitor, path, {"password": "a long enough secret", "confirm": "a long enough secret"})
    assert done.status_code == 303 and "/login" in done.headers["Location"]
    # Single use: the same link is dead now.
    assert "This link is no longer valid" in visitor.get(path).get_data(as_text=True)
    again = post(visitor, path, {"password": "another long secret", "confirm": "another long secret"})
    assert "This link is no longer valid" in again.get_data(as_text=True)

    signed_in = post(app.test_client(), "/login", {"email": "nina@agency.example", "password": "a long enough secret"})
    assert signed_in.status_code == 303


def test_deactivating_a_user_signs_them_out(app, admin_client, tenant):
    recruiter = app.test_client()
    login_as(recruiter, tenant.recruiter)
    assert recruiter.get("/agency/").status_code == 200
    response = post(admin_client, f"/admin/users/{tenant.recruiter.id}/active", {"active": "0"})
    assert response.status_code == 303
    assert recruiter.get("/agency/").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, tenant.recruiter.id).active is False


def test_admin_cannot_deactivate_themselves(admin_client, tenant):
    response = post(admin_client, f"/admin/users/{tenant.admin.id}/active", {"active": "0"}, headers=HTMX)
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)


def test_resending_a_set_password_link_queues_a_mail_and_a_deactivated_user_is_refused(admin_client, tenant):
    url = f"/admin/users/{tenant.recruiter.id}/resend"
    assert post(admin_client, url).status_code == 303
    invites = select(func.count()).select_from(MailOutbox).where(MailOutbox.kind == "invite")
    assert db.session.scalar(invites) == 1
    post(admin_client, f"/admin/users/{tenant.recruiter.id}/active", {"active": "0"})
    refused = post(admin_client, url, headers=HTMX)
    assert refused.status_code == 422
    assert f"{tenant.recruiter.name} is deactivated; reactivate them first." in refused.get_data(as_text=True)
    assert db.session.scalar(invites) == 1


def test_contact_invite_deactivate_and_resend(app, smtp, admin_client, tenant):
    url = f"/admin/companies/{tenant.company.id}/contacts"
    response = post(admin_client, url, {"name": "Hana Hiring", "email": "hana@client.example"}, headers=HTMX)
    assert response.status_code == 200 and "hana@client.example" in response.get_data(as_text=True)
    bad = post(admin_client, url, {"name": "Dup", "email": "hana@client.example"}, headers=HTMX)
    assert bad.status_code == 422 and "already a contact" in bad.get_data(as_text=True)
    contact_id = db.session.scalar(select(ClientContact.id).where(ClientContact.email == "hana@client.example"))
    assert post(admin_client, f"/admin/contacts/{contact_id}/resend").status_code == 303
    assert deliver_mail() == 2
    messages = smtp.inbox.wait_for(2)
    assert all(m["to"] == ["hana@client.example"] for m in messages)

    contact_session = app.test_client()
    login_as(contact_session, db.session.get(ClientContact, tenant.contact.id))
    assert contact_session.get(f"/{tenant.agency.slug}/portal/").status_code == 200
    post(admin_client, f"/admin/contacts/{tenant.contact.id}/active", {"active": "0"})
    assert contact_session.get(f"/{tenant.agency.slug}/portal/").status_code == 302


def test_deleting_a_stage_in_use_is_refused_with_the_count(admin_client, tenant):
    stage_id = tenant.application.stage_id
    response = post(admin_client, f"/admin/stages/{stage_id}/delete", headers=HTMX)
    assert response.status_code == 422
    in_stage = db.session.scalar(select(func.count()).select_from(Application).where(Application.stage_id == stage_id))
    assert in_stage == 3
    assert "cannot be deleted: 3 applications sit in it" in response.get_data(as_text=True)
    assert db.session.get(StageDefinition, stage_id) is not None


def test_stage_move_and_rename_return_the_fragment(admin_client, tenant):
    first = tenant.agency.stages[0]
    response = post(admin_client, f"/admin/stages/{first.id}/move", {"direction": "down"}, headers=HTMX)
    assert response.status_code == 200 and response.get_data(as_text=True).lstrip().startswith('<div id="stages">')
    response = post(admin_client, f"/admin/stages/{first.id}", {"name": "Longlist"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert 'value="Longlist"' in html
    assert html.index('value="Longlist"') > html.index('value="Screening"')


def test_an_invalid_row_form_is_refused_on_its_row_and_saves_nothing(admin_client, tenant):
    first, name = tenant.agency.stages[0], tenant.agency.stages[0].name
    response = post(admin_client, f"/admin/stages/{first.id}", {"name": ""}, headers=HTMX)
    assert response.status_code == 422
    row = response.get_data(as_text=True).split(f'id="stage-{first.id}"', 1)[1].split("</li>", 1)[0]
    assert '<p class="field-error" role="alert">Enter the stage name.</p>' in row
    db.session.expire_all()
    assert db.session.get(StageDefinition, first.id).name == name


def test_email_template_preview_save_and_reset(admin_client, tenant):
    url = "/admin/email-templates/invite"
    preview = post(admin_client, f"{url}/preview", {"subject": "Join {agency}", "body": "Hi {name}"}, headers=HTMX)
    assert "Join " + tenant.agency.title in preview.get_data(as_text=True)
    assert "Hi Alex Example" in preview.get_data(as_text=True)
    bad = post(admin_client, url, {"subject": "Join {agncy}", "body": "Hi"})
    assert bad.status_code == 422 and "Unknown placeholder {agncy}" in bad.get_data(as_text=True)
    assert post(admin_client, url, {"subject": "Join {agency}", "body": "Hi {name}"}).status_code == 303
    assert db.session.scalar(select(EmailTemplate.subject)) == "Join {agency}"
    assert post(admin_client, f"{url}/reset").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(EmailTemplate)) == 0
    assert admin_client.get("/admin/email-templates/unknown").status_code == 404


def test_profile_template_preview_uses_a_real_candidate(admin_client, tenant):
    candidate = tenant.application.candidate
    response = post(
        admin_client,
        "/admin/profile-templates/preview",
        {"name": "Standard", "body": "{name}: {current_title}", "candidate_id": str(candidate.id)},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="profile-preview"')
    assert f"Preview with {candidate.name}" in html and f"{candidate.name}: " in html
    created = post(admin_client, "/admin/profile-templates", {"name": "Standard", "body": "{name}"})
    assert created.status_code == 303
    template_page = admin_client.get(created.headers["Location"]).get_data(as_text=True)
    assert "<h1>Standard</h1>" in template_page
    deleted = post(admin_client, created.headers["Location"] + "/delete")
    assert deleted.status_code == 303 and deleted.headers["Location"].endswith("/admin/profile-templates")
    assert db.session.scalar(select(func.count()).select_from(ProfileTemplate)) == 0


@pytest.mark.parametrize("who", ["recruiter", "contact", "other_agency_admin"])
def test_non_admins_get_404_on_admin_pages(app, tenant, who):
    client = app.test_client()
    if who == "other_agency_admin":
        from tests.factories import make_agency, make_user

        other = make_user(make_agency("elsewhere"), "admin")
        db.session.commit()
        login_as(client, other)
        # Another agency's admin sees their own settings, never this agency's objects.
        assert client.get("/admin/branding").status_code == 200
        assert client.get(f"/admin/companies/{tenant.company.id}").status_code == 404
        assert f'id="stage-{tenant.agency.stages[0].id}"' not in client.get("/admin/stages").get_data(as_text=True)
        return
    login_as(client, getattr(tenant, who))
    for path, _, _ in PAGES:
        assert client.get(path).status_code == 404, path
    assert post(client, "/admin/branding", BRANDING).status_code == 404
    assert reload_agency(tenant.agency.id).branding_version == db.session.get(Agency, tenant.agency.id).branding_version


def test_admin_home_lists_who_changed_what(admin_client, tenant):
    post(admin_client, "/admin/stages", {"name": "Reference check"})
    post(admin_client, "/admin/branding", BRANDING)
    html = admin_client.get("/admin/").get_data(as_text=True)
    changes = html[html.index('id="admin-changes"') :]
    name = tenant.admin.name
    assert changes.index(f"{name} changed the branding") < changes.index(f"{name} added the stage “Reference check”")

"""Configuration services without HTTP (B2): users, clients and contacts, stages, reasons,
profile and email templates; every change on the timeline with who made it."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Activity,
    Application,
    ClientContact,
    EmailTemplate,
    LoginToken,
    MailOutbox,
    Reason,
    StageDefinition,
    StageHistory,
    User,
)
from portal.services import ServiceError, agency_templates, branding, clients, pipeline_config, staff
from portal.unit_of_work import unit_of_work
from tests.admin.conftest import image_bytes
from tests.factories import make_candidate


def timeline(verb: str) -> list[Activity]:
    return list(db.session.scalars(select(Activity).where(Activity.verb == verb)))


CHANGES = {
    "add a stage": lambda tenant: pipeline_config.add_stage(tenant.admin, "Reference check"),
    "move a stage": lambda tenant: pipeline_config.move_stage(tenant.admin, tenant.agency.stages[0], "down"),
    "add a reason": lambda tenant: pipeline_config.add_reason(tenant.admin, "loss", "Moved abroad"),
    "invite a user": lambda tenant: staff.invite_user(tenant.admin, "Nina", "nina@agency.example", "recruiter"),
    "change a role": lambda tenant: staff.change_role(tenant.admin, tenant.recruiter, "admin"),
    "add a client": lambda tenant: clients.save_company(tenant.admin, "Initech"),
    "save the branding": lambda tenant: branding.save_branding(
        tenant.agency, {"primary_color": "#0f5132", "accent_color": "#9a3412"}, tenant.admin
    ),
    "invite a contact": lambda tenant: clients.invite_contact(tenant.admin, tenant.company, "Hana", "hana@c.example"),
    "save a profile template": lambda tenant: agency_templates.save_profile_template(tenant.admin, "Short", "{name}"),
    "reword an email": lambda tenant: agency_templates.save_email_template(tenant.admin, "invite", "Hi", "{name}"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_is_saved_only_when_the_caller_commits(ctx, tenant, change):
    """Services leave the commit to the caller's unit of work: rolled back, nothing of it stays."""
    changes = select(func.count()).select_from(Activity)
    before = db.session.scalar(changes)
    change(tenant)
    assert db.session.scalar(changes) == before + 1
    db.session.rollback()
    assert db.session.scalar(changes) == before


def test_invite_user_creates_the_user_and_queues_a_branded_mail(ctx, tenant):
    with unit_of_work():
        user = staff.invite_user(tenant.admin, " Nina New ", "NINA@agency.example", "recruiter")
    assert (user.name, user.email, user.role, user.password_hash) == (
        "Nina New",
        "nina@agency.example",
        "recruiter",
        None,
    )
    [row] = db.session.scalars(select(MailOutbox).where(MailOutbox.kind == "invite")).all()
    assert row.recipients == ["nina@agency.example"] and "/account/set-password/" in row.text_body
    [entry] = timeline("admin.user_invited")
    assert entry.actor_user_id == tenant.admin.id and "Nina New" in entry.summary


@pytest.mark.parametrize(
    "name, email, role, field, message",
    [
        ("", "a@b.example", "recruiter", "name", "Enter the person's name."),
        ("Ann", "not-an-email", "recruiter", "email", "Enter a valid email address"),
        ("Ann", "a@b.example", "owner", "role", "Choose a role: admin or recruiter."),
    ],
)
def test_invite_user_validation(ctx, tenant, name, email, role, field, message):
    with pytest.raises(ServiceError) as refused:
        staff.invite_user(tenant.admin, name, email, role)
    assert (refused.value.field, message in refused.value.message) == (field, True)


def test_invite_refuses_one_of_the_agencys_own_users_by_name(ctx, tenant):
    with pytest.raises(ServiceError, match="already one of your agency's users") as refused:
        staff.invite_user(tenant.admin, "Twin", tenant.recruiter.email.upper(), "recruiter")
    assert refused.value.field == "email"


def test_set_password_link_works_once(ctx, tenant):
    with unit_of_work():
        user = staff.invite_user(tenant.admin, "Nina", "nina@agency.example", "recruiter")
    token = staff.set_password_url(user).rsplit("/", 1)[1]
    assert staff.user_for_token(token).id == user.id
    with pytest.raises(ServiceError, match="do not match"):
        staff.set_password_with_token(token, "a long enough secret", "something else")
    staff.set_password_with_token(token, "a long enough secret", "a long enough secret")
    assert db.session.get(User, user.id).check_password("a long enough secret")
    assert staff.user_for_token(token) is None
    with pytest.raises(ServiceError, match="expired or was already used"):
        staff.set_password_with_token(token, "another long secret", "another long secret")


def test_set_password_link_dies_with_deactivation_and_forgery(ctx, tenant):
    token = staff.set_password_url(tenant.recruiter).rsplit("/", 1)[1]
    assert staff.user_for_token(token + "x") is None
    with unit_of_work():
        staff.deactivate_user(tenant.admin, tenant.recruiter)
    assert staff.user_for_token(token) is None


def test_deactivate_user_bumps_the_session_version_and_records_it(ctx, tenant):
    version = tenant.recruiter.session_version
    with unit_of_work():
        staff.deactivate_user(tenant.admin, tenant.recruiter)
    user = db.session.get(User, tenant.recruiter.id)
    assert (user.active, user.session_version) == (False, version + 1)
    assert timeline("admin.user_deactivated")[0].actor_user_id == tenant.admin.id


def test_the_last_admin_cannot_be_demoted(ctx, tenant):
    with pytest.raises(ServiceError, match="at least one active admin"):
        staff.change_role(tenant.admin, tenant.admin, "recruiter")
    with unit_of_work():
        staff.change_role(tenant.admin, tenant.recruiter, "admin")
        staff.change_role(tenant.admin, tenant.admin, "recruiter")
    assert db.session.get(User, tenant.admin.id).role == "recruiter"


def test_company_with_logo_is_reencoded_and_a_bad_logo_saves_nothing(ctx, tenant):
    with unit_of_work():
        company = clients.save_company(tenant.admin, "Initech", image_bytes("WEBP"), "initech.webp")
    assert company.logo_png.startswith(b"\x89PNG")
    with pytest.raises(ServiceError, match="SVG logos are not accepted"):
        clients.save_company(tenant.admin, "Renamed", b"<svg><script>alert(1)</script></svg>", "x.svg", company=company)
    db.session.rollback()
    assert db.session.get(type(company), company.id).name == "Initech"
    with pytest.raises(ServiceError, match="already a client called"):
        clients.save_company(tenant.admin, "initech")


def test_contact_invite_resend_and_deactivate(ctx, tenant):
    with unit_of_work():
        contact = clients.invite_contact(tenant.admin, tenant.company, "Hana", "Hana@Client.example")
    with unit_of_work():
        clients.resend_contact_link(tenant.admin, contact)
    tokens = db.session.scalars(select(LoginToken).where(LoginToken.contact_id == contact.id)).all()
    assert [t.kind for t in tokens] == ["sign_in", "sign_in"]
    assert (
        db.session.scalar(select(func.count()).select_from(MailOutbox).where(MailOutbox.kind == "contact_invite")) == 2
    )
    with unit_of_work():
        clients.deactivate_contact(tenant.admin, contact)
    assert db.session.get(ClientContact, contact.id).active is False
    assert [c.email for c in clients.company_contacts(tenant.company)] == [tenant.contact.email, "hana@client.example"]
    with pytest.raises(ServiceError, match="deactivated"):
        clients.resend_contact_link(tenant.admin, contact)
    assert [e.verb for e in db.session.scalars(select(Activity).order_by(Activity.id))] == [
        "admin.contact_invited",
        "admin.contact_link_sent",
        "admin.contact_deactivated",
    ]


def test_reordering_stages_keeps_applications_and_history_intact(ctx, tenant):
    stages = pipeline_config.stages(tenant.agency.id)
    application = tenant.application
    db.session.add(
        StageHistory(
            agency_id=tenant.agency.id,
            application_id=application.id,
            from_stage_id=stages[1].id,
            to_stage_id=stages[2].id,
        )
    )
    db.session.commit()
    with unit_of_work():
        pipeline_config.move_stage(tenant.admin, stages[2], "up")
        pipeline_config.move_stage(tenant.admin, stages[0], "down")
    order = [s.name for s in pipeline_config.stages(tenant.agency.id)]
    assert order[:3] == ["Submitted", "Sourced", "Screening"]
    assert db.session.get(Application, application.id).stage_id == stages[2].id
    [history] = db.session.scalars(select(StageHistory)).all()
    assert (history.from_stage_id, history.to_stage_id) == (stages[1].id, stages[2].id)
    # Moving the first stage up changes nothing.
    with unit_of_work():
        pipeline_config.move_stage(tenant.admin, pipeline_config.stages(tenant.agency.id)[0], "up")
    assert [s.name for s in pipeline_config.stages(tenant.agency.id)] == order


def test_stage_in_use_cannot_be_deleted_and_the_message_counts(ctx, tenant):
    stage = db.session.get(StageDefinition, tenant.application.stage_id)
    with pytest.raises(ServiceError) as refused:
        pipeline_config.delete_stage(tenant.admin, stage)
    assert refused.value.message == (
        f"“{stage.name}” cannot be deleted: 3 applications sit in it. Move them to another stage first."
    )
    counts = pipeline_config.applications_per_stage(pipeline_config.stages(tenant.agency.id))
    assert counts[stage.id] == 3 and sum(counts.values()) == 3
    unused = pipeline_config.stages(tenant.agency.id)[0]
    with unit_of_work():
        pipeline_config.delete_stage(tenant.admin, unused)
    assert [s.position for s in pipeline_config.stages(tenant.agency.id)] == list(range(6))


def test_stage_referred_to_by_history_cannot_be_deleted(ctx, tenant):
    stages = pipeline_config.stages(tenant.agency.id)
    db.session.add(
        StageHistory(
            agency_id=tenant.agency.id,
            application_id=tenant.application.id,
            from_stage_id=stages[0].id,
            to_stage_id=stages[2].id,
        )
    )
    db.session.commit()
    with pytest.raises(ServiceError, match="1 past stage moves refer to it"):
        pipeline_config.delete_stage(tenant.admin, stages[0])


def test_stage_add_and_rename_validation(ctx, tenant):
    with unit_of_work():
        stage = pipeline_config.add_stage(tenant.admin, "  Reference   check ")
    assert (stage.name, stage.position) == ("Reference check", 7)
    with pytest.raises(ServiceError, match="already a stage called"):
        pipeline_config.rename_stage(tenant.admin, stage, "offer")
    with unit_of_work():
        pipeline_config.rename_stage(tenant.admin, stage, "References")
    assert [e.verb for e in db.session.scalars(select(Activity).order_by(Activity.id))] == [
        "admin.stage_added",
        "admin.stage_renamed",
    ]


def test_reasons_add_rename_and_delete_in_use_refused(ctx, tenant):
    with unit_of_work():
        reason = pipeline_config.add_reason(tenant.admin, "loss", "Moved abroad", ends_job_search=True)
    assert reason.ends_job_search and reason.kind == "loss"
    with pytest.raises(ServiceError, match="already a loss reason"):
        pipeline_config.add_reason(tenant.admin, "loss", "moved ABROAD")
    with unit_of_work():
        pipeline_config.rename_reason(tenant.admin, reason, "Relocated abroad")
    application = db.session.get(Application, tenant.application.id)
    application.reason_id, application.outcome = reason.id, "withdrawn"
    db.session.commit()
    with pytest.raises(ServiceError, match="1 application was closed with it"):
        pipeline_config.delete_reason(tenant.admin, reason)
    unused = pipeline_config.reasons(tenant.agency.id, "rejection")[0]
    with unit_of_work():
        pipeline_config.delete_reason(tenant.admin, unused)
    assert db.session.get(Reason, unused.id) is None


def test_profile_template_fills_placeholders_with_a_real_candidate(ctx, tenant):
    candidate = make_candidate(
        tenant.agency, first_name="Mara", last_name="Stephenson", current_title="Backend Engineer"
    )
    with unit_of_work():
        template = agency_templates.save_profile_template(
            tenant.admin, "Standard", "{name} works as {current_title}. Mail: {email}"
        )
    chosen = agency_templates.preview_candidate(tenant.agency, candidate.id)
    assert agency_templates.render_profile(template.body, chosen) == (
        f"Mara Stephenson works as Backend Engineer. Mail: {candidate.primary_email}"
    )
    assert agency_templates.preview_profile(template.body, chosen) == (
        agency_templates.render_profile(template.body, chosen),
        None,
    )
    assert agency_templates.preview_profile("{salary}", chosen)[1].startswith("Unknown placeholder {salary}")
    assert agency_templates.preview_profile(template.body, None) == (None, None)
    older = tenant.application.candidate
    assert agency_templates.preview_candidates(tenant.agency, limit=1) == [candidate]
    assert agency_templates.preview_candidates(tenant.agency, older, limit=1) == [older, candidate]
    with pytest.raises(ServiceError, match=r"Unknown placeholder \{salary\}; available: \{first_name\}"):
        agency_templates.save_profile_template(tenant.admin, "Other", "{salary}")
    with pytest.raises(ServiceError, match="is not a profile field"):
        agency_templates.save_profile_template(tenant.admin, "Other", "{name}", "email,shoe_size")


def test_email_template_override_preview_and_reset(ctx, tenant):
    subject, body = agency_templates.preview_email(tenant.agency, "invite", "Join {agency}", "Hi {name}")
    assert (subject, body) == (f"Join {tenant.agency.title}", "Hi Alex Example")
    with pytest.raises(ServiceError, match="must be a single line"):
        agency_templates.save_email_template(tenant.admin, "invite", "Join\nBcc: x", "Hi")
    with unit_of_work():
        agency_templates.save_email_template(tenant.admin, "invite", "Welcome to {agency}", "Hello {name}!")
    assert agency_templates.overridden_emails(tenant.agency) == {"invite"}
    with unit_of_work():
        user = staff.invite_user(tenant.admin, "Nina", "nina@agency.example", "recruiter")
    [row] = db.session.scalars(select(MailOutbox).where(MailOutbox.kind == "invite")).all()
    assert row.subject == f"Welcome to {tenant.agency.title}" and "Hello Nina!" in row.text_body
    assert user.id
    with unit_of_work():
        agency_templates.reset_email_template(tenant.admin, "invite")
    assert db.session.scalar(select(func.count()).select_from(EmailTemplate)) == 0
    assert agency_templates.overridden_emails(tenant.agency) == set()
    assert agency_templates.email_subject_body(tenant.agency, "invite")[0] == "{inviter} invited you to {agency}"


def test_agency_wording_of_the_sign_in_mail_is_used(app, smtp):
    from portal.models import ClientContact
    from portal.services import agency_templates
    from portal.services.auth import request_sign_in
    from portal.worker import answer_sign_in_requests, deliver_mail
    from tests.factories import make_tenant

    with app.app_context():
        tenant = make_tenant("wordco")
        with unit_of_work():
            agency_templates.save_email_template(
                tenant.admin, "sign_in", "Log in to {agency}", "Hi {name}! Your link lasts {minutes} minutes."
            )
        request_sign_in(tenant.agency, db.session.get(ClientContact, tenant.contact.id).email)
        db.session.commit()
        answer_sign_in_requests()
        deliver_mail()
        expected_subject, name = f"Log in to {tenant.agency.title}", tenant.contact.name
    (received,) = smtp.inbox.wait_for(1)
    message = received["message"]
    assert message["Subject"] == expected_subject
    assert f"Hi {name}! Your link lasts 30 minutes." in message.get_body(("plain",)).get_content()

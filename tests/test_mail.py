"""M1 and M2: the mail outbox, delivery over real SMTP, retries and backoff, the admin outbox page
and the development mail viewer. Messages are received by the suite's aiosmtpd server."""

import re
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import Candidate, MailOutbox, as_utc, utcnow
from portal.services import ServiceError
from portal.services import mail as mail_service
from portal.services.mail import send_mail
from portal.unit_of_work import unit_of_work
from portal.worker import deliver_mail
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_candidate, make_company, make_contact, make_user
from tests.servers import Inbox, SmtpServer, free_port

PRIMARY = "#0f5132"
FOOTER = "Northwind Talent · 1 Demo Street · London"
SIGN_IN_URL = "http://127.0.0.1:8000/northwind/link/abc.def-ghi_jkl"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agency Portal//EN\r\nBEGIN:VEVENT\r\n"
    "UID:interview-1@portal\r\nDTSTART:20300101T100000Z\r\nSUMMARY:Interview\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def branded(ctx):
    """A branded agency with one client contact, committed."""
    agency = make_agency(
        "northwind",
        name="Northwind Talent",
        primary_color=PRIMARY,
        email_sender_name="Northwind Talent",
        email_footer=FOOTER,
    )
    contact = make_contact(make_company(agency), name="Clara Client", email="clara@acme.example")
    db.session.commit()
    return agency, contact


def queue_sign_in(agency, contact, subject="Your sign-in link", **extra):
    """Queue the real sign-in email for ``contact``, flushed so it has an id (the caller commits)."""
    row = send_mail(
        agency,
        "sign_in",
        contact.email,
        subject,
        "configured",
        url=SIGN_IN_URL,
        button_label="Sign in",
        body=f"Hello {contact.name},\n\nUse the button below to sign in.",
        **extra,
    )
    db.session.flush()
    return row


def mail_rows():
    """Every outbox row, fresh from the database."""
    db.session.expire_all()
    return db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)).all()


def reload(row_id: int) -> MailOutbox:
    db.session.expire_all()
    return db.session.get(MailOutbox, row_id)


def part_types(message) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def outbox_row(html: str, row_id: int) -> str:
    """The ``<tr>`` for one message on the admin outbox page."""
    match = re.search(rf'<tr id="mail-{row_id}">(.*?)</tr>', html, re.S)
    assert match, f"message {row_id} is not listed"
    return match.group(1)


class RefusingInbox(Inbox):
    """An SMTP server that refuses every recipient at refused.example, as a real one would (550)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return f"550 5.1.1 <{address}>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class ContentRefusingInbox(Inbox):
    """An SMTP server that refuses for good (554) any message whose subject says so."""

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        if "Refuse me" in str(message["Subject"]):
            return "554 5.7.1 Message refused by policy"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def refusing_smtp():
    inbox = RefusingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_rolled_back_action_queues_no_mail(branded, smtp):
    agency, contact = branded
    make_candidate(agency, first_name="Rolled")
    queue_sign_in(agency, contact)  # the row really is written inside the transaction ...
    assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 1
    db.session.rollback()  # ... and goes away with the action it belonged to

    assert mail_rows() == []
    assert db.session.scalar(select(func.count()).select_from(Candidate)) == 0
    assert deliver_mail() == 0
    assert smtp.inbox.messages == []


def test_committed_action_queues_one_pending_row_and_sends_nothing_yet(branded, smtp):
    agency, contact = branded
    queue_sign_in(agency, contact)
    db.session.commit()

    [row] = mail_rows()
    assert (row.status, row.attempts, row.sent_at) == ("pending", 0, None)
    assert row.recipients == ["clara@acme.example"]
    assert row.agency_id == agency.id
    # send_mail never talks to SMTP: only the worker does.
    assert smtp.inbox.messages == []


def test_worker_pass_delivers_branded_multipart_message(branded, smtp):
    agency, contact = branded
    row_id = queue_sign_in(agency, contact, subject="Your sign-in link for Northwind Talent").id
    db.session.commit()

    assert deliver_mail() == 1
    [received] = smtp.inbox.wait_for(1)
    message = received["message"]

    assert received["to"] == ["clara@acme.example"]
    assert message["Subject"] == "Your sign-in link for Northwind Talent"
    assert message["From"].addresses[0].display_name == "Northwind Talent"
    assert message["From"].addresses[0].addr_spec == "portal@localhost"

    alternatives = [part for part in message.walk() if part.get_content_type() == "multipart/alternative"]
    assert len(alternatives) == 1
    assert [part.get_content_type() for part in alternatives[0].iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hello Clara Client" in text and SIGN_IN_URL in text and FOOTER in text
    assert PRIMARY in html and FOOTER in html and f'href="{SIGN_IN_URL}"' in html

    row = reload(row_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None
    # Sent rows are not picked up again.
    assert deliver_mail() == 0
    assert len(smtp.inbox.messages) == 1


def test_attachment_arrives_as_attachment(branded, smtp):
    agency, contact = branded
    queue_sign_in(
        agency,
        contact,
        subject="Interview invitation",
        attachments=[{"filename": "invite.ics", "content_type": "text/calendar", "content": ICS}],
    )
    db.session.commit()

    deliver_mail()
    message = smtp.inbox.wait_for(1)[0]["message"]

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    content = attachment.get_content()
    content = content.decode() if isinstance(content, bytes) else content
    assert "BEGIN:VCALENDAR" in content and "SUMMARY:Interview" in content
    # The body is still the branded alternative pair next to the attachment.
    assert "multipart/alternative" in part_types(message)
    assert message.get_body(preferencelist=("html",)) is not None


@pytest.mark.parametrize(
    "subject", ["Hello\r\nBcc: x@evil.example", "Hello\nBcc: x@evil.example", "Hello\rBcc: x@evil.example"]
)
def test_subject_with_line_break_is_folded_and_cannot_add_headers(branded, smtp, subject):
    agency, contact = branded
    queue_sign_in(agency, contact, subject=subject)
    db.session.commit()
    assert mail_rows()[0].subject == "Hello Bcc: x@evil.example"
    assert deliver_mail() == 1
    [received] = smtp.inbox.wait_for(1)
    assert received["message"]["Bcc"] is None and received["to"] == [contact.email]
    assert received["message"]["Subject"] == "Hello Bcc: x@evil.example"


@pytest.mark.parametrize(
    "recipient",
    [
        "a@b.example\r\nBcc: x@evil.example",
        "a@b.example\nBcc: x@evil.example",
        "a@b.example, x@evil.example",
        "not an address",
        "",
    ],
)
def test_injected_or_invalid_recipient_is_refused(branded, recipient):
    agency, _ = branded
    with pytest.raises(ServiceError) as refused:
        send_mail(
            agency,
            "sign_in",
            recipient,
            "Hello",
            "configured",
            body="Sign in below.",
            button_label="Sign in",
            url=SIGN_IN_URL,
        )
    assert refused.value.field == "to"
    db.session.commit()
    assert mail_rows() == []


def test_one_bad_recipient_in_a_list_refuses_the_whole_message(branded):
    agency, contact = branded
    with pytest.raises(ServiceError) as refused:
        send_mail(
            agency,
            "sign_in",
            [contact.email, "a@b.example\r\nBcc: x@evil.example"],
            "Hello",
            "configured",
            contact=contact,
            url=SIGN_IN_URL,
            minutes=30,
        )
    assert refused.value.field == "to"
    db.session.commit()
    assert mail_rows() == []


def test_sender_name_with_line_break_cannot_inject_headers(ctx, smtp):
    # The sender name is agency configuration, not a form field of this call: it must not be able
    # to add headers, nor make the message unsendable.
    agency = make_agency(email_sender_name="Evil\r\nBcc: x@evil.example")
    contact = make_contact(make_company(agency), email="clara@acme.example")
    queue_sign_in(agency, contact)
    db.session.commit()

    assert deliver_mail() == 1
    [received] = smtp.inbox.wait_for(1)
    assert received["to"] == ["clara@acme.example"]
    assert received["message"]["Bcc"] is None
    assert "\n" not in received["message"]["From"] and "\r" not in received["message"]["From"]
    assert received["message"]["From"].addresses[0].display_name == "Evil Bcc: x@evil.example"
    assert mail_rows()[0].status == "sent"


def test_a_row_with_bad_headers_does_not_block_or_duplicate_the_rest(branded, smtp):
    # A row written before validation existed (or by hand) must fail on its own: the rows around it
    # are delivered once, and the next pass does not send them again.
    agency, contact = branded
    first = queue_sign_in(agency, contact, subject="First")
    poisoned = queue_sign_in(agency, contact, subject="Poisoned")
    last = queue_sign_in(agency, contact, subject="Last")
    db.session.commit()
    poisoned.sender = '"Evil\r\nBcc: x@evil.example" <portal@localhost>'
    db.session.commit()
    ids = first.id, poisoned.id, last.id

    assert deliver_mail() == 2
    assert deliver_mail() == 0

    assert sorted(m["message"]["Subject"] for m in smtp.inbox.messages) == ["First", "Last"]
    first, poisoned, last = (reload(i) for i in ids)
    assert (first.status, last.status) == ("sent", "sent")
    # It can never be sent, so it fails at once and waits, visible, for an admin.
    assert (poisoned.status, poisoned.attempts) == ("failed", 1)
    assert poisoned.last_error.startswith("BadHeaderError")


def test_smtp_down_then_up_loses_nothing(make_app):
    port = free_port()  # nothing listens here yet
    other = make_app(MAIL_PORT=port)
    with other.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency), email="clara@acme.example")
        row_id = queue_sign_in(agency, contact, subject="Survives the outage").id
        db.session.commit()

        assert deliver_mail() == 0
        row = reload(row_id)
        assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
        assert row.last_error

        server = SmtpServer(port=port).start()
        try:
            assert deliver_mail() == 1  # MAIL_BACKOFF_SECONDS is 0 under test: due again at once
            [received] = server.inbox.wait_for(1)
            assert received["message"]["Subject"] == "Survives the outage"
            row = reload(row_id)
            assert (row.status, row.attempts) == ("sent", 2)
            assert deliver_mail() == 0
            assert len(server.inbox.messages) == 1
        finally:
            server.stop()


def test_refused_recipient_fails_alone(make_app, refusing_smtp):
    controller, inbox = refusing_smtp
    other = make_app(MAIL_PORT=controller.port, MAIL_MAX_ATTEMPTS=2)
    with other.app_context():
        agency = make_agency()
        company = make_company(agency)
        good = make_contact(company, email="clara@acme.example")
        gone = make_contact(company, email="left@refused.example")
        ids = [queue_sign_in(agency, contact, subject=f"To {contact.email}").id for contact in (good, gone, good)]
        db.session.commit()

        assert deliver_mail() == 2
        assert sorted(m["to"][0] for m in inbox.wait_for(2)) == ["clara@acme.example", "clara@acme.example"]
        first, refused, last = (reload(i) for i in ids)
        assert (first.status, last.status) == ("sent", "sent")
        assert (refused.status, refused.attempts) == ("pending", 1)
        assert refused.last_error.startswith("SMTPRecipientsRefused") and "550" in refused.last_error

        assert deliver_mail() == 0
        refused = reload(ids[1])
        assert (refused.status, refused.attempts) == ("failed", 2)
        assert len(inbox.messages) == 2


def test_a_message_refused_for_good_fails_alone_and_the_rest_go_out(make_app):
    inbox = ContentRefusingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        other = make_app(MAIL_PORT=controller.port)
        with other.app_context():
            agency = make_agency()
            contact = make_contact(make_company(agency), email="clara@acme.example")
            subjects = ["First", "Refuse me", *[f"After {n}" for n in range(10)]]
            ids = [queue_sign_in(agency, contact, subject=subject).id for subject in subjects]
            db.session.commit()

            assert deliver_mail() == 11
            assert sorted(m["message"]["Subject"] for m in inbox.wait_for(11)) == sorted(
                s for s in subjects if s != "Refuse me"
            )
            refused = reload(ids[1])
            # 5xx: retrying cannot help, so it is given up at once and listed for the admins.
            assert (refused.status, refused.attempts) == ("failed", 1) and "554" in refused.last_error
            assert {reload(i).status for i in ids if i != ids[1]} == {"sent"}
            assert deliver_mail() == 0 and len(inbox.messages) == 11
    finally:
        controller.stop()


def test_backoff_grows_exponentially(make_app):
    base = 60
    other = make_app(MAIL_PORT=free_port(), MAIL_BACKOFF_SECONDS=base, MAIL_MAX_ATTEMPTS=10)
    with other.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency))
        row_id = queue_sign_in(agency, contact).id
        db.session.commit()

        delays = []
        for attempt in range(1, 5):
            before = utcnow()
            deliver_mail()
            after = utcnow()
            row = reload(row_id)
            assert (row.status, row.attempts) == ("pending", attempt)
            expected = timedelta(seconds=base * 2 ** (attempt - 1))
            next_at = as_utc(row.next_attempt_at)
            assert before + expected <= next_at <= after + expected
            delays.append(expected.total_seconds())

            # Not due yet: a pass now leaves it alone.
            deliver_mail()
            assert reload(row_id).attempts == attempt
            # Make it due (as if the delay had passed) for the next round.
            row = reload(row_id)
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
        assert delays == [60, 120, 240, 480]


def test_failed_mail_is_listed_for_admins_and_retry_requeues_it(app, make_app, client, smtp):
    other = make_app(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=3)
    with other.app_context():
        agency = make_agency()
        admin = make_user(agency, "admin")
        recruiter = make_user(agency)
        contact = make_contact(make_company(agency), email="clara@acme.example")
        row_id = queue_sign_in(agency, contact, subject="Will fail for now").id
        db.session.commit()
        for attempt in range(1, 4):
            deliver_mail()
            assert reload(row_id).attempts == attempt
        row = reload(row_id)
        assert (row.status, row.attempts) == ("failed", 3)
        assert "Connection" in row.last_error
        # Failed rows are left alone: no further attempts.
        deliver_mail()
        assert reload(row_id).attempts == 3
        login_as(client, admin)
        recruiter_client = app.test_client()
        login_as(recruiter_client, recruiter)

    page = client.get("/admin/outbox")
    assert page.status_code == 200
    row_html = outbox_row(page.get_data(as_text=True), row_id)
    assert "<td>Will fail for now</td>" in row_html and "<td>clara@acme.example</td>" in row_html
    assert "<td>failed</td>" in row_html and "<td>3</td>" in row_html and "ConnectionRefusedError" in row_html
    assert f'action="/admin/outbox/{row_id}/retry"' in row_html and "Retry</button>" in row_html

    assert client.post(f"/admin/outbox/{row_id}/retry").status_code == 400  # no CSRF token
    response = client.post(f"/admin/outbox/{row_id}/retry", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/outbox")

    row_html = outbox_row(client.get("/admin/outbox").get_data(as_text=True), row_id)
    assert "<td>pending</td>" in row_html and "Retry</button>" not in row_html
    with app.app_context():
        row = reload(row_id)
        assert (row.status, row.attempts) == ("pending", 0)
        assert deliver_mail() == 1  # SMTP is up for the main app
        assert reload(row_id).status == "sent"
    assert smtp.inbox.wait_for(1)[0]["message"]["Subject"] == "Will fail for now"

    # Recruiters do not see the outbox.
    assert recruiter_client.get("/admin/outbox").status_code == 404


def test_outbox_page_and_retry_are_scoped_to_the_admins_agency(app, client):
    with app.app_context():
        mine, theirs = make_agency(), make_agency()
        admin = make_user(mine, "admin")
        contact = make_contact(make_company(theirs), email="someone@other.example")
        row = queue_sign_in(theirs, contact, subject="Another agency's mail")
        row.status, row.attempts, row.last_error = "failed", 8, "SMTPServerDisconnected: gone"
        db.session.commit()
        row_id = row.id
        login_as(client, admin)

    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "Another agency&#39;s mail" not in html and "Another agency's mail" not in html
    assert "Nothing waiting" in html
    response = client.post(f"/admin/outbox/{row_id}/retry", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404
    with app.app_context():
        assert reload(row_id).status == "failed"


def test_outbox_requires_sign_in(client):
    response = client.get("/admin/outbox")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


def test_dev_mail_viewer_lists_messages_with_clickable_links(make_app, smtp):
    # Development: mail is not delivered, yet readable in the browser.
    dev = make_app(MAIL_DELIVER=False, DEV_MAIL_VIEWER=True)
    with dev.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency), name="Clara Client", email="clara@acme.example")
        row_id = queue_sign_in(agency, contact, subject="Sign in <now>").id
        db.session.commit()
        assert deliver_mail() == 0
        assert reload(row_id).status == "pending"
    assert smtp.inbox.messages == []

    browser = dev.test_client()
    listing = browser.get("/dev/mail")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert f'href="/dev/mail/{row_id}"' in html
    assert "Sign in &lt;now&gt;" in html and "<now>" not in html
    assert "clara@acme.example" in html

    shown = browser.get(f"/dev/mail/{row_id}")
    assert shown.status_code == 200
    body = shown.get_data(as_text=True)
    assert f'<a href="{SIGN_IN_URL}"' in body
    assert "Hello Clara Client" in body
    assert browser.get(f"/dev/mail/{row_id + 1000}").status_code == 404


def test_dev_mail_viewer_is_404_when_disabled(make_app):
    prod_like = make_app(DEV_MAIL_VIEWER=False)
    with prod_like.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency))
        row_id = queue_sign_in(agency, contact).id
        db.session.commit()
    browser = prod_like.test_client()
    assert browser.get("/dev/mail").status_code == 404
    assert browser.get(f"/dev/mail/{row_id}").status_code == 404


class LaterInbox(Inbox):
    """An SMTP server that refuses a message for now (451) the first time it sees its subject."""

    def __init__(self):
        super().__init__()
        self.deferred: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        subject = str(message["Subject"])
        if subject.startswith("Later") and subject not in self.deferred:
            self.deferred.append(subject)
            return "451 4.3.0 Greylisted, try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_message_refused_for_now_is_retried_after_its_back_off_and_delivered_once(make_app):
    inbox = LaterInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        other = make_app(MAIL_PORT=controller.port, MAIL_BACKOFF_SECONDS=60)
        with other.app_context():
            agency = make_agency()
            contact = make_contact(make_company(agency), email="clara@acme.example")
            subjects = ["First", "Later please", "Third", "Fourth"]
            ids = dict(zip(subjects, (queue_sign_in(agency, contact, subject=s).id for s in subjects), strict=True))
            db.session.commit()
            start = utcnow()

            # 4xx refuses that message only: the others go out in the same pass.
            assert deliver_mail(now=start) == 3
            later = reload(ids["Later please"])
            assert (later.status, later.attempts, later.lease_until) == ("pending", 1, None)
            assert "451" in later.last_error
            assert as_utc(later.next_attempt_at) == start + timedelta(seconds=60)

            # Not due before its back-off has passed ...
            assert deliver_mail(now=start + timedelta(seconds=59)) == 0
            # ... then delivered, once.
            assert deliver_mail(now=start + timedelta(seconds=60)) == 1
            assert deliver_mail(now=start + timedelta(hours=1)) == 0
            received = Counter(str(m["message"]["Subject"]) for m in inbox.messages)
            assert received == Counter(subjects)
            later = reload(ids["Later please"])
            assert (later.status, later.attempts) == ("sent", 2)
    finally:
        controller.stop()


def test_a_message_being_sent_is_not_sent_again_until_its_lease_runs_out(make_app, smtp):
    # A worker claimed the first message and died before the server answered (no SMTP happened
    # here: the claim is what such a worker leaves behind).
    other = make_app(MAIL_LEASE_SECONDS=120)
    with other.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency), email="clara@acme.example")
        ids = [queue_sign_in(agency, contact, subject=f"Message {n}").id for n in range(3)]
        db.session.commit()
        start = utcnow()
        with unit_of_work():
            dead = mail_service.claim_next_mail(now=start)
        assert dead is not None and dead.id == ids[0]
        row = reload(ids[0])
        assert (row.status, row.attempts, as_utc(row.lease_until)) == ("sending", 1, start + timedelta(seconds=120))

        # Another worker sends the rest and leaves the claimed one alone while the lease is live.
        assert deliver_mail(now=start) == 2
        assert deliver_mail(now=start + timedelta(seconds=119)) == 0
        assert reload(ids[0]).status == "sending"
        assert sorted(str(m["message"]["Subject"]) for m in smtp.inbox.messages) == ["Message 1", "Message 2"]

        # Past the lease, the dead worker's message is taken over and sent.
        assert deliver_mail(now=start + timedelta(seconds=120)) == 1
        row = reload(ids[0])
        assert (row.status, row.attempts, row.lease_until) == ("sent", 2, None)
        received = Counter(str(m["message"]["Subject"]) for m in smtp.inbox.messages)
        assert received == Counter({"Message 0": 1, "Message 1": 1, "Message 2": 1})

        # The first worker was only slow, not dead: its late failure does not undo the takeover.
        with unit_of_work():
            mail_service.record_delivery(dead, mail_service.Delivery("server_gone", "SMTPServerDisconnected"))
        assert reload(ids[0]).status == "sent"


def test_a_message_whose_workers_keep_dying_is_failed_not_sent_forever(make_app, smtp):
    other = make_app(MAIL_LEASE_SECONDS=120, MAIL_MAX_ATTEMPTS=2)
    with other.app_context():
        agency = make_agency()
        contact = make_contact(make_company(agency), email="clara@acme.example")
        row_id = queue_sign_in(agency, contact, subject="Kills its workers").id
        db.session.commit()
        start = utcnow()
        for n in range(2):  # two workers claim it in turn and die
            with unit_of_work():
                assert mail_service.claim_next_mail(now=start + timedelta(seconds=121 * n)).id == row_id

        assert deliver_mail(now=start + timedelta(seconds=242)) == 0
        row = reload(row_id)
        assert (row.status, row.attempts, row.lease_until) == ("failed", 2, None)
        assert "stopped before the server answered" in row.last_error
        assert smtp.inbox.messages == []


def test_withdraw_refuses_a_message_being_sent_even_when_the_caller_saw_it_pending(branded, smtp):
    agency, contact = branded
    row = queue_sign_in(agency, contact)
    db.session.commit()
    assert row.status == "pending"
    # A worker claims it behind this session's back (its copy of the row still says pending).
    db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == row.id)
        .values(status="sending", lease_until=utcnow() + timedelta(minutes=2), attempts=1)
        .execution_options(synchronize_session=False)
    )
    assert row.status == "pending"

    assert mail_service.withdraw(row) is False
    db.session.commit()
    assert row.status == "sending"
    assert [r.status for r in mail_rows()] == ["sending"]


def test_withdraw_deletes_a_pending_message(branded, smtp):
    agency, contact = branded
    row = queue_sign_in(agency, contact)
    db.session.commit()
    assert mail_service.withdraw(row) is True
    db.session.commit()
    assert mail_rows() == []
    assert deliver_mail() == 0 and smtp.inbox.messages == []


@pytest.mark.parametrize("status", ["pending", "sending", "sent"])
def test_retry_changes_only_a_failed_message(branded, status):
    agency, contact = branded
    row = queue_sign_in(agency, contact)
    row.status, row.attempts = status, 1
    db.session.commit()
    assert mail_service.retry(row) is False
    db.session.commit()
    assert (reload(row.id).status, reload(row.id).attempts) == (status, 1)


def test_outbox_page_shows_a_message_being_sent_without_a_retry_button(app, client, smtp):
    with app.app_context():
        agency = make_agency()
        admin = make_user(agency, "admin")
        contact = make_contact(make_company(agency), email="clara@acme.example")
        row_id = queue_sign_in(agency, contact, subject="On its way").id
        db.session.commit()
        with unit_of_work():
            assert mail_service.claim_next_mail().id == row_id
        login_as(client, admin)

    row_html = outbox_row(client.get("/admin/outbox").get_data(as_text=True), row_id)
    assert "<td>sending <small>(until " in row_html and "<td>1</td>" in row_html
    assert "Retry</button>" not in row_html
    # A forged retry of a message being sent changes nothing.
    client.post(f"/admin/outbox/{row_id}/retry", data={"csrf_token": csrf_token(client)})
    with app.app_context():
        assert (reload(row_id).status, reload(row_id).attempts) == ("sending", 1)
    assert smtp.inbox.messages == []

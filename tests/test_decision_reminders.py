"""Client decision deadlines (issue 15): a share left untouched reminds the client's contacts the
working day before its "please decide by" and the first working day after it (each in the
contact's zone, at most one e-mail a day), and asks the job owner to chase on the first working
day after the grace (in the owner's zone), once each, even with two workers. The clock is moved by
passing ``now``; the calendar is built around a Monday a few weeks from the test's clock, so the
suite passes on any day and in any season."""

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Agency,
    AgencyHoliday,
    Alert,
    Application,
    ClientContact,
    MailOutbox,
    SharedProfile,
    Task,
    User,
    utcnow,
)
from portal.services import client_actions, decision_reminders, scheduled, sharing
from portal.services.interviews import format_in_zone
from portal.services.working_days import end_of_day, local_date
from portal.worker import deliver_mail
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_job,
    make_user,
)

KIND = "client.decision_reminder"
LONDON, NEW_YORK, TOKYO = "Europe/London", "America/New_York", "Asia/Tokyo"


@dataclass
class Scene:
    """An agency whose clients have 3 working days to decide, chased 1 working day later, with the
    Wednesday of the share's week a holiday. The job owner works in London; the client's contacts
    in New York and Tokyo; another client's contact must never hear of this client's candidates."""

    agency_id: int
    owner_id: int
    new_york_id: int
    tokyo_id: int
    other_client_id: int
    application_id: int
    other_application_id: int
    monday: date  # the share's day, in London
    shared_at: datetime

    @property
    def thursday(self) -> date:
        return self.monday + timedelta(days=3)

    @property
    def friday(self) -> date:
        return self.monday + timedelta(days=4)

    @property
    def next_monday(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def next_tuesday(self) -> date:
        return self.monday + timedelta(days=8)


def build_scene() -> Scene:
    today = utcnow().date()
    monday = today + timedelta(days=21 - today.weekday())
    agency = make_agency(
        "deadlines", name="Deadline Recruiting", feedback_due_working_days=3, feedback_chase_grace_days=1
    )
    owner = make_user(agency, name="Olu Owner", timezone=LONDON)
    company, other_company = make_company(agency, name="Hudson Widgets"), make_company(agency, name="Other Co")
    new_york = make_contact(company, name="Nia Newyork", timezone=NEW_YORK, timezone_source="contact")
    tokyo = make_contact(company, name="Taro Tokyo", timezone=TOKYO, timezone_source="contact")
    other_client = make_contact(other_company, name="Oskar Other", timezone=NEW_YORK, timezone_source="contact")
    job = make_job(company, owner, title="Widget Engineer")
    other_job = make_job(other_company, owner, title="Secret Gadgeteer")
    application = make_application(job, make_candidate(agency, first_name="Kavya", last_name="Rao"), shared=False)
    other = make_application(other_job, make_candidate(agency, first_name="Zed", last_name="Elsewhere"), shared=False)
    db.session.add(AgencyHoliday(agency_id=agency.id, day=monday + timedelta(days=2), name="Founders' day"))
    db.session.flush()
    shared_at = datetime.combine(monday, time(10, 0), tzinfo=ZoneInfo(LONDON)).astimezone(UTC)
    for app in (application, other):
        sharing.share_candidate(app, owner, consent_override_reason="Agreed on the phone", now=shared_at)
    db.session.commit()
    return Scene(
        agency.id,
        owner.id,
        new_york.id,
        tokyo.id,
        other_client.id,
        application.id,
        other.id,
        monday,
        shared_at,
    )


@pytest.fixture
def scene(ctx) -> Scene:
    return build_scene()


def hourly(scene: Scene, days: int = 10, every: int = 1):
    """Every ``every`` hours from the share for ``days`` days: a worker's passes, compressed."""
    return [scene.shared_at + timedelta(hours=h) for h in range(0, days * 24, every)]


def run_passes(nows) -> dict[tuple[str, str], list[datetime]]:
    """Run one pass at each instant; return when each reminder was queued, by recipient."""
    sent: dict[tuple[str, str], list[datetime]] = {}
    seen = 0
    for now in nows:
        scheduled.run_pass(now=now, group="reminders")
        rows = list(db.session.scalars(select(MailOutbox).where(MailOutbox.kind == KIND).order_by(MailOutbox.id)))
        for row in rows[seen:]:
            sent.setdefault((row.recipients[0], KIND), []).append(now)
        seen = len(rows)
    return sent


def reminder_days(sent, contact: ClientContact, zone: str) -> list[date]:
    return [local_date(now, zone) for now in sent.get((contact.email, KIND), [])]


def chase_tasks(application_id: int) -> list[Task]:
    query = select(Task).where(Task.type == "chase_feedback", Task.application_id == application_id)
    return list(db.session.scalars(query))


def test_sharing_sets_please_decide_by_in_working_days_in_the_owners_zone(scene):
    profile = db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == scene.application_id))
    # Monday + 3 working days, the Wednesday a holiday: the Friday, at the close of London's day.
    assert profile.feedback_due_at == end_of_day(scene.friday, LONDON).astimezone(UTC)


def test_a_job_can_give_its_client_more_days(scene):
    application = db.session.get(Application, scene.application_id)
    application.job.feedback_due_working_days = 6
    sharing.unshare_candidate(application, application.job.owner, now=scene.shared_at)
    sharing.share_candidate(application, application.job.owner, consent_override_reason="Agreed", now=scene.shared_at)
    # Tue, Thu, Fri, Mon, Tue, Wed (Wednesday of week one is the holiday).
    assert application.shared_profile.feedback_due_at == end_of_day(scene.monday + timedelta(days=9), LONDON)


def test_an_untouched_share_reminds_each_contact_before_and_after_and_the_owner_chases_once(scene, smtp):
    new_york = db.session.get(ClientContact, scene.new_york_id)
    tokyo = db.session.get(ClientContact, scene.tokyo_id)
    other_client = db.session.get(ClientContact, scene.other_client_id)
    sent = run_passes(hourly(scene))

    # The working day before Friday is Thursday; the first one after it is the next Monday; each
    # read in the contact's own zone, and Tokyo's Monday only once London's Friday has ended.
    assert reminder_days(sent, new_york, NEW_YORK) == [scene.thursday, scene.next_monday]
    assert reminder_days(sent, tokyo, TOKYO) == [scene.thursday, scene.next_monday]
    first_tokyo, first_new_york = sent[(tokyo.email, KIND)][0], sent[(new_york.email, KIND)][0]
    assert local_date(first_tokyo - timedelta(hours=1), TOKYO) < scene.thursday  # the first pass of its day
    assert local_date(first_new_york - timedelta(hours=1), NEW_YORK) < scene.thursday

    # The owner is asked to chase on the first working day after Friday + 1 working day (Monday),
    # at the first pass of that Tuesday in London; once.
    (task,) = chase_tasks(scene.application_id)
    (alert,) = db.session.scalars(
        select(Alert).where(Alert.kind == "chase_feedback", Alert.application_id == scene.application_id)
    )
    assert task.title == "Chase client feedback: Kavya Rao for Widget Engineer"
    assert task.assignee_id == scene.owner_id and alert.user_id == scene.owner_id
    assert task.application_id == scene.application_id
    assert "Hudson Widgets has not decided on Kavya Rao" in alert.message
    assert alert.link == f"/agency/tasks/{task.id}"
    task_made = task.due_at - timedelta(days=1)  # a chase task is due a day after the pass made it
    first_pass_of_tuesday = next(now for now in hourly(scene) if now >= _start_of(scene.next_tuesday, LONDON))
    assert task_made == first_pass_of_tuesday and local_date(task_made, LONDON) == scene.next_tuesday

    # The other client's contact hears only of their own candidate.
    assert reminder_days(sent, other_client, NEW_YORK) == [scene.thursday, scene.next_monday]

    # The real SMTP server receives the branded digests, times in each reader's zone.
    # Six reminders, and the owner's two alert mails (they chose immediate alerts): one per share.
    assert deliver_mail(batch_size=50) == 8
    received = smtp.inbox.wait_for(8)
    owner_email = db.session.get(User, scene.owner_id).email
    assert len([m for m in received if m["to"] == [owner_email]]) == 2
    to_new_york = [m["message"] for m in received if m["to"] == [new_york.email]]
    before, after = (m.get_body(preferencelist=("plain",)).get_content() for m in to_new_york)
    due_at = end_of_day(scene.friday, LONDON)
    assert f"Please decide by {format_in_zone(due_at, NEW_YORK)}" in before
    assert f"Overdue: your decision was due by {format_in_zone(due_at, NEW_YORK)}" in after
    assert "Kavya Rao" in before and "Zed Elsewhere" not in before and "Secret Gadgeteer" not in before
    assert f"?to={scene.application_id}" in before
    assert "/reminders/unsubscribe/" in before
    assert to_new_york[0]["Subject"] == "1 candidate(s) awaiting your decision"
    html = to_new_york[0].get_body(preferencelist=("html",)).get_content()
    assert "Deadline Recruiting" in html and f"?to={scene.application_id}" in html
    (to_other,) = [m["message"] for m in received if m["to"] == [other_client.email]][:1]
    other_text = to_other.get_body(preferencelist=("plain",)).get_content()
    assert "Zed Elsewhere" in other_text and "Kavya Rao" not in other_text


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_a_second_pass_at_the_same_moment_does_nothing_again(scene):
    thursday_noon = datetime.combine(scene.thursday, time(12, 0), tzinfo=UTC)  # Thursday in New York and Tokyo
    first = scheduled.run_pass(now=thursday_noon, group="reminders")
    again = scheduled.run_pass(now=thursday_noon + timedelta(minutes=1), group="reminders")
    assert first["client reminders"]["sent"] == 3
    assert again["client reminders"] == {"sent": 0, "snoozed": 0, "unsubscribed": 0, "already sent today": 3}


def test_two_workers_running_the_passes_together_send_each_reminder_and_chase_once(make_app):
    workers = [make_app(), make_app()]
    with workers[0].app_context():
        scene = build_scene()
        nows = hourly(scene, every=3)
        db.session.remove()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(worker_app):
        try:
            with worker_app.app_context():
                for now in nows:
                    start.wait(30)
                    scheduled.run_pass(now=now, group="reminders")
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=worker, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    with workers[0].app_context():
        reminders = list(db.session.scalars(select(MailOutbox).where(MailOutbox.kind == KIND)))
        assert len(reminders) == 6  # three contacts, before and after
        assert len({tuple(r.recipients) for r in reminders}) == 3
        # One chase per share: this client's and the other client's.
        assert db.session.scalar(select(func.count()).select_from(Task).where(Task.type == "chase_feedback")) == 2
        assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "chase_feedback")) == 2
        db.session.remove()


def test_a_snoozed_contact_gets_none_until_the_snooze_ends(scene):
    new_york = db.session.get(ClientContact, scene.new_york_id)
    tokyo = db.session.get(ClientContact, scene.tokyo_id)
    decision_reminders.set_reminder_preference(
        new_york, "snoozed", scene.next_monday + timedelta(days=30), now=scene.shared_at
    )
    decision_reminders.set_reminder_preference(tokyo, "snoozed", scene.next_monday, now=scene.shared_at)
    db.session.commit()
    sent = run_passes(hourly(scene, every=2))
    assert reminder_days(sent, new_york, NEW_YORK) == []
    assert reminder_days(sent, tokyo, TOKYO) == [scene.next_monday]  # reminders start again that day
    assert len(chase_tasks(scene.application_id)) == 1  # the owner still chases


def test_an_unsubscribed_contact_gets_none(scene, client):
    new_york = db.session.get(ClientContact, scene.new_york_id)
    link = decision_reminders.unsubscribe_url(new_york)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and b"Stop reminder e-mails?" in page.data
    db.session.expire_all()
    assert db.session.get(ClientContact, scene.new_york_id).reminders == "on"  # a GET changes nothing
    from tests.conftest import csrf_token

    done = client.post("/" + path, data={"csrf_token": csrf_token(client)})
    assert done.status_code == 200 and b"You are unsubscribed" in done.data
    db.session.expire_all()
    sent = run_passes(hourly(scene, every=2))
    assert reminder_days(sent, db.session.get(ClientContact, scene.new_york_id), NEW_YORK) == []
    assert len(sent[(db.session.get(ClientContact, scene.tokyo_id).email, KIND)]) == 2


@pytest.mark.parametrize("decision", ["reject", "request_interview", "request_hire"])
def test_deciding_takes_the_candidate_out_of_reminders_and_the_chase(scene, decision):
    application = db.session.get(Application, scene.application_id)
    new_york = db.session.get(ClientContact, scene.new_york_id)
    tuesday = scene.shared_at + timedelta(days=1)
    if decision == "reject":
        client_actions.reject(new_york, application, now=tuesday)
    elif decision == "request_hire":
        client_actions.request_hire(new_york, application, now=tuesday)
    else:
        slot = client_actions.SlotInput(day=scene.next_monday + timedelta(days=7), start=time(10, 0), minutes=60)
        client_actions.request_interview(
            new_york, application, interview_format="video", timezone_name=NEW_YORK, slots=[slot], now=tuesday
        )
    db.session.commit()
    sent = run_passes(hourly(scene, every=2))
    assert reminder_days(sent, new_york, NEW_YORK) == []  # nothing else of theirs awaits a decision
    assert chase_tasks(scene.application_id) == []
    assert len(chase_tasks(scene.other_application_id)) == 1
    # The other client's candidate still runs its course.
    assert len(sent[(db.session.get(ClientContact, scene.other_client_id).email, KIND)]) == 2


def test_a_reminder_lists_everything_awaiting_the_contact_across_the_companys_jobs(scene):
    application = db.session.get(Application, scene.application_id)
    agency = db.session.get(Agency, scene.agency_id)
    gizmo = make_job(application.job.company, application.job.owner, title="Gizmo Lead")
    second_job_application = make_application(
        gizmo, make_candidate(agency, first_name="Ola", last_name="Second"), shared=False
    )
    later = scene.shared_at + timedelta(days=2)  # shared Wednesday: due the next Tuesday
    sharing.share_candidate(second_job_application, application.job.owner, consent_override_reason="Agreed", now=later)
    db.session.commit()
    new_york = db.session.get(ClientContact, scene.new_york_id)
    items = decision_reminders.reminder_items(
        new_york, decision_reminders.awaiting_review(new_york), scene.shared_at + timedelta(days=3)
    )
    assert [(i.name, i.job_title) for i in items] == [("Kavya Rao", "Widget Engineer"), ("Ola Second", "Gizmo Lead")]


@pytest.mark.parametrize(
    ("choice", "until", "field"),
    [("sometimes", None, "reminders"), ("snoozed", None, "snoozed_until"), ("snoozed", -1, "snoozed_until")],
)
def test_a_reminder_choice_is_validated(scene, choice, until, field):
    new_york = db.session.get(ClientContact, scene.new_york_id)
    day = None if until is None else local_date(scene.shared_at, NEW_YORK) + timedelta(days=until)
    with pytest.raises(decision_reminders.ServiceError) as refused:
        decision_reminders.set_reminder_preference(new_york, choice, day, now=scene.shared_at)
    assert refused.value.field == field
    assert new_york.reminders == "on"


def test_reminders_paused_reads_the_contacts_local_date():
    contact = ClientContact(reminders="snoozed", reminders_snoozed_until=date(2030, 1, 10))
    assert decision_reminders.reminders_paused(contact, date(2030, 1, 9))
    assert not decision_reminders.reminders_paused(contact, date(2030, 1, 10))
    assert decision_reminders.reminders_paused(ClientContact(reminders="off"), date(2030, 1, 10))
    assert not decision_reminders.reminders_paused(ClientContact(reminders="on"), date(2030, 1, 10))

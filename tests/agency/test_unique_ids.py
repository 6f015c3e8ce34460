"""The agency's candidate page repeats a form per interview card and per client thread: every
element id stays unique and every label still names its own field, as a page and after a card is
swapped back with an error (issue 13)."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from portal.extensions import db
from portal.models import Comment
from tests.conftest import csrf_token, login_as
from tests.factories import make_application, make_interview, make_job

HX = {"HX-Request": "true"}
FIRST = datetime(2031, 3, 10, 14, 0, tzinfo=UTC)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.label_targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "label" and values.get("for"):
            self.label_targets.append(values["for"])


def ids_of(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    return parser


def assert_unique_ids(html: str) -> None:
    found = ids_of(html)
    assert [name for name, count in found.ids.items() if count > 1] == []
    assert [target for target in found.label_targets if target not in found.ids] == []


def test_several_interviews_and_threads_make_no_duplicate_ids(app, desk):
    other = make_application(make_job(desk.job.company, desk.recruiter, title="Gadget Engineer"), desk.candidate)
    interviews = [
        make_interview(desk.application, desk.recruiter, FIRST),
        make_interview(desk.application, desk.recruiter, FIRST + timedelta(days=1)),
        make_interview(other, desk.recruiter, FIRST + timedelta(days=2)),
    ]
    for application in (desk.application, other):
        db.session.add(
            Comment(
                agency_id=application.agency_id,
                application_id=application.id,
                author_contact_id=desk.contact.id,
                body="Can she start in May?",
            )
        )
    db.session.commit()
    client = app.test_client()
    login_as(client, desk.recruiter)

    page = client.get(f"/agency/candidates/{desk.candidate.id}").get_data(as_text=True)
    for interview in interviews:
        assert f'id="interview-{interview.id}-starts-at"' in page
    for application in (desk.application, other):
        assert f'id="client-comments-{application.id}-body"' in page
    assert_unique_ids(page)

    # A refused reschedule swaps the card back with its error: the ids stay the card's own.
    card = client.post(
        f"/agency/interviews/{interviews[1].id}/reschedule",
        data={"csrf_token": csrf_token(client), "starts_at": "", "timezone": "Europe/London"},
        headers=HX,
    )
    assert card.status_code == 422
    html = card.get_data(as_text=True)
    assert f'aria-describedby="interview-{interviews[1].id}-starts-at-error"' in html
    assert_unique_ids(html)
    # The cancel confirm step, shown inside the card.
    confirm = client.get(f"/agency/interviews/{interviews[0].id}/cancel", headers=HX).get_data(as_text=True)
    assert "Yes, cancel the interview" in confirm
    assert_unique_ids(confirm)
    assert 'id="csrf_token"' not in confirm  # a page-wide id, repeated by every card

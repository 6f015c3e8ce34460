"""The candidate's scheduling page: the times the client proposed or accepted, in the zone the
candidate reads them in (their browser's, detected by ``static/js/schedule.js`` and changeable;
their recorded zone without JavaScript).

The candidate never signs in: the signed, expiring link is the credential. A GET only shows the
times (mail scanners follow links); choosing one is a POST with the page's CSRF token that first
asks to confirm the time, then books it through the same conflict rules as a recruiter's
confirmation. "None of these work" tells the job owner.
"""

from flask import Blueprint, abort, render_template, request

from ...forms import EmptyForm
from ...models import Agency, as_utc, utcnow
from ...scoping import agency_or_404
from ...services import interview_answers, interviews
from ...services.timezones import zone_choices
from ...unit_of_work import attempt

bp = Blueprint("schedule", __name__, url_prefix="/<slug>/schedule")


def _link_or_404(slug: str, schedule_token: str) -> tuple[Agency, interviews.SelfScheduleLink]:
    """The agency named in the URL and what its link turned out to be; a 404 for anything else."""
    agency = agency_or_404(slug)
    link = interviews.check_self_schedule_token(agency.id, schedule_token)
    if link is None:
        abort(404)
    return agency, link


def _zone_name(link: interviews.SelfScheduleLink) -> str:
    """The zone asked for (``zone`` in the query or the form) when it is a real one, else the
    candidate's recorded zone."""
    asked = request.values.get("zone", "")
    if asked in zone_choices():
        return asked
    return interviews.zone(link.application.candidate.timezone).key


def _offered(link: interviews.SelfScheduleLink, zone_name: str) -> list:
    """(slot, local start, local end) for each bookable future time, in ``zone_name``."""
    now = utcnow()
    return [
        (
            slot,
            as_utc(slot.starts_at).astimezone(interviews.zone(zone_name)),
            as_utc(slot.ends_at).astimezone(interviews.zone(zone_name)),
        )
        for slot in interviews.self_schedulable_slots(link.request)
        if as_utc(slot.starts_at) > now
    ]


def _page(agency: Agency, link: interviews.SelfScheduleLink, status: int = 200, **extra):
    zone_name = _zone_name(link)
    return render_template(
        "schedule/show.html",
        brand=agency,
        link=link,
        application=link.application,
        owner=link.application.job.owner,
        zone_name=zone_name,
        zones=zone_choices(),
        slots=_offered(link, zone_name),
        form=EmptyForm(),
        **extra,
    ), status


@bp.get("/<schedule_token>")
def show(slug: str, schedule_token: str):
    """The bookable times in the candidate's zone (changes nothing)."""
    agency, link = _link_or_404(slug, schedule_token)
    return _page(agency, link, status=410 if link.state == "expired" else 200)


@bp.post("/<schedule_token>")
def choose(slug: str, schedule_token: str):
    """First the confirm step for the chosen time; with ``confirmed`` set, book it, with the same
    conflict rules as the recruiter's confirmation."""
    agency, link = _link_or_404(slug, schedule_token)
    if link.state != "ok":
        return _page(agency, link, status=410 if link.state == "expired" else 409)
    slot_id = request.form.get("slot_id", "")
    chosen = next((row for row in _offered(link, _zone_name(link)) if str(row[0].id) == slot_id), None)
    if chosen is None:
        return _page(agency, link, status=422, error="Choose one of the times.")
    if not request.form.get("confirmed"):
        return _page(agency, link, chosen=chosen)
    with attempt() as outcome:
        interview = interviews.confirm_interview(
            link.request, None, slot_id=chosen[0].id, location=link.location, meeting_link=link.meeting_link
        )
    if isinstance(outcome.refusal, interviews.SchedulingConflict):
        return _page(agency, link, status=422, error="That time is no longer free. Please choose another one.")
    if outcome.refusal is not None:
        return _page(agency, link, status=422, error=outcome.refusal.message)
    return _page(agency, link, confirmed=interview)


@bp.post("/<schedule_token>/none")
def none_work(slug: str, schedule_token: str):
    """ "None of these work": the job owner is told, with the candidate's optional note."""
    agency, link = _link_or_404(slug, schedule_token)
    if link.state != "ok":
        return _page(agency, link, status=410 if link.state == "expired" else 409)
    with attempt() as outcome:
        interview_answers.candidate_asks_for_other_times(link, request.form.get("note", ""))
    if outcome.refusal is not None:
        return _page(agency, link, status=422, none_error=outcome.refusal.message, note=request.form.get("note", ""))
    return _page(agency, link, asked_for_others=True)

"""The candidate's scheduling page: the client's proposed times in the candidate's own zone.

The candidate never signs in: the signed, expiring link is the credential. A GET only shows the
times (mail scanners follow links); choosing one is a POST with the page's CSRF token, and it
goes through the same conflict rules as a recruiter's confirmation.
"""

from flask import Blueprint, abort, render_template, request

from ...forms import EmptyForm
from ...models import Agency, as_utc
from ...scoping import agency_or_404
from ...services import interviews
from ...unit_of_work import attempt

bp = Blueprint("schedule", __name__, url_prefix="/<slug>/schedule")


def _link_or_404(slug: str, schedule_token: str) -> tuple[Agency, interviews.SelfScheduleLink]:
    """The agency named in the URL and what its link turned out to be; a 404 for anything else."""
    agency = agency_or_404(slug)
    link = interviews.check_self_schedule_token(agency.id, schedule_token)
    if link is None:
        abort(404)
    return agency, link


def _page(agency: Agency, link: interviews.SelfScheduleLink, status: int = 200, **extra):
    candidate = link.application.candidate
    zone_name = interviews.zone(candidate.timezone).key
    slots = [
        (
            slot,
            as_utc(slot.starts_at).astimezone(interviews.zone(zone_name)),
            as_utc(slot.ends_at).astimezone(interviews.zone(zone_name)),
        )
        for slot in link.request.proposed_slots
    ]
    return render_template(
        "schedule/show.html",
        brand=agency,
        link=link,
        application=link.application,
        zone_name=zone_name,
        slots=slots,
        form=EmptyForm(),
        **extra,
    ), status


@bp.get("/<schedule_token>")
def show(slug: str, schedule_token: str):
    """The proposed times in the candidate's zone (changes nothing)."""
    agency, link = _link_or_404(slug, schedule_token)
    return _page(agency, link, status=410 if link.state == "expired" else 200)


@bp.post("/<schedule_token>")
def choose(slug: str, schedule_token: str):
    """Book the chosen time, with the same conflict rules as the recruiter's confirmation."""
    agency, link = _link_or_404(slug, schedule_token)
    if link.state != "ok":
        return _page(agency, link, status=410 if link.state == "expired" else 409)
    slot_id = request.form.get("slot_id", "")
    if not slot_id.isdigit():
        return _page(agency, link, status=422, error="Choose one of the times.")
    with attempt() as outcome:
        interview = interviews.confirm_interview(
            link.request, None, slot_id=int(slot_id), location=link.location, meeting_link=link.meeting_link
        )
    if isinstance(outcome.refusal, interviews.SchedulingConflict):
        return _page(agency, link, status=422, error="That time is no longer free. Please choose another one.")
    if outcome.refusal is not None:
        return _page(agency, link, status=422, error=outcome.refusal.message)
    return _page(agency, link, confirmed=interview)

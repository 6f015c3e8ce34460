"""The candidate's scheduling page: the client's proposed times in the candidate's own zone.

The candidate never signs in: the signed, expiring link is the credential. A GET only shows the
times (mail scanners follow links); choosing one is a POST with the page's CSRF token, and it
goes through the same conflict rules as a recruiter's confirmation.
"""

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from ...extensions import db
from ...forms import EmptyForm
from ...models import Agency, Application, as_utc
from ...services import ServiceError, interviews

bp = Blueprint("schedule", __name__, url_prefix="/<slug>/schedule")


def _link_or_404(slug: str, schedule_token: str):
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    link = interviews.check_self_schedule_token(agency.id, schedule_token) if agency else None
    if link is None:
        abort(404)
    application = db.session.get(Application, link.request.application_id)
    return agency, link, application


def _page(agency, link, application, status=200, **extra):
    candidate = application.candidate
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
        application=application,
        zone_name=zone_name,
        slots=slots,
        form=EmptyForm(),
        **extra,
    ), status


@bp.get("/<schedule_token>")
def show(slug: str, schedule_token: str):
    """The proposed times in the candidate's zone (changes nothing)."""
    agency, link, application = _link_or_404(slug, schedule_token)
    return _page(agency, link, application, status=410 if link.state == "expired" else 200)


@bp.post("/<schedule_token>")
def choose(slug: str, schedule_token: str):
    """Book the chosen time, with the same conflict rules as the recruiter's confirmation."""
    agency, link, application = _link_or_404(slug, schedule_token)
    if link.state != "ok":
        return _page(agency, link, application, status=410 if link.state == "expired" else 409)
    form = EmptyForm()
    slot_id = request.form.get("slot_id", "")
    try:
        if not form.validate_on_submit() or not slot_id.isdigit():
            raise ServiceError("Choose one of the times.", field="slot")
        interview = interviews.confirm_interview(
            link.request, None, slot_id=int(slot_id), location=link.location, meeting_link=link.meeting_link
        )
    except interviews.SchedulingConflict:
        db.session.rollback()
        return _page(
            agency, link, application, status=422, error="That time is no longer free. Please choose another one."
        )
    except ServiceError as exc:
        db.session.rollback()
        return _page(agency, link, application, status=422, error=exc.message)
    return _page(agency, link, application, confirmed=interview)

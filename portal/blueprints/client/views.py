"""Client contact pages (spec section C): home, job, candidate, and the actions on a candidate."""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import ClassVar

from flask import Blueprint, abort, flash, make_response, request, session, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ...forms import EmptyForm
from ...htmx import is_htmx, redirect_for, render
from ...models import Application, Job, as_utc, utcnow
from ...scoping import (
    get_company_application_or_404,
    get_job_or_404,
    get_shared_application_or_404,
    own_company_has_logo,
    own_company_logo_or_404,
)
from ...services import ServiceError, client_overview
from ...services import client_actions as actions
from ...services.client_overview import REJECTED_GROUP, Progress, progress_by_job, ratings_for, recent_activity
from ...unit_of_work import attempt, unit_of_work
from .forms import CommentForm, HireForm, InterviewForm, RatingForm, RejectReasonForm

bp = Blueprint("client", __name__, url_prefix="/<slug>/portal")

# A new "visit" starts after this much quiet; "new since your last visit" counts from its start.
VISIT_GAP = timedelta(minutes=30)
# last_visit_at is written at most this often: a write on every click would serialise page views.
LAST_VISIT_PRECISION = timedelta(minutes=5)


@bp.before_request
@login_required
def _only_contacts_of_this_agency():
    """Client pages are for the agency's own contacts; anyone else gets a 404."""
    if not current_user.is_contact or current_user.agency.slug != request.view_args.get("slug"):
        abort(404)
    _track_visit()


class CandidateUrls:
    """URLs of one candidate's views, built from a single ``url_for`` per request: the job page
    needs eight per card, and hundreds of ``url_for`` calls were a third of its render time.
    tests/client/test_client_views.py checks every entry against ``url_for``."""

    SUFFIXES: ClassVar[dict[str, str]] = {
        "candidate": "",
        "resume": "/resume",
        "rate": "/rating",
        "comment": "/comments",
        "request_interview": "/interview",
        "hire": "/hire",
        "reject": "/reject",
        "undo_reject": "/undo-reject",
        "reject_reason": "/reject-reason",
    }

    def __init__(self, slug: str):
        self.prefix = url_for("client.candidate", slug=slug, application_id=0)[:-1]

    def of(self, endpoint: str, application_id: int) -> str:
        return f"{self.prefix}{application_id}{self.SUFFIXES[endpoint]}"


@bp.context_processor
def _helpers():
    slug = (request.view_args or {}).get("slug")
    if not (slug and current_user.is_authenticated and current_user.is_contact):
        return {}  # an error page for someone turned away: nothing client-specific to show
    return {
        "status_label": actions.status_label,
        "formats": actions.FORMATS,
        "urls": CandidateUrls(slug),
        "co_brand_logo_url": url_for("client.company_logo", slug=slug) if own_company_has_logo() else None,
    }


@bp.get("/company-logo")
def company_logo(slug: str):
    """The contact's own company logo, shown beside the agency's (B2 co-branding). Served only to
    that company's contacts: company ids would otherwise reveal who the agency's clients are."""
    response = make_response(own_company_logo_or_404())
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/")
def index(slug: str):
    """C3: greeting, open jobs with at least one shared candidate, counts per job."""
    progress = progress_by_job(current_user, _baseline())
    jobs = client_overview.open_jobs(current_user, list(progress))
    return render("client/index.html", jobs=jobs, progress=progress)


@bp.get("/jobs/<int:job_id>")
def job(slug: str, job_id: int):
    """C4: header with the owner's details, progress, recent activity, cards by stage (the first
    CARDS_PER_GROUP of each stage; the rest load as the contact scrolls)."""
    job = get_job_or_404(job_id)
    applications, totals = client_overview.card_batch(current_user, job, CARDS_PER_GROUP)
    by_stage: dict = defaultdict(list)
    rejected = []
    for application in applications:
        (rejected if application.client_status == "rejected_by_client" else by_stage[application.stage]).append(
            application
        )
    progress = progress_by_job(current_user, _baseline(), [job.id]).get(job.id, Progress())
    return render(
        "client/job.html",
        job=job,
        owner=job.owner,
        by_stage=by_stage,
        rejected=rejected,
        totals=totals,
        rejected_group=REJECTED_GROUP,
        per_group=CARDS_PER_GROUP,
        progress=progress,
        activity=recent_activity(job.id, job.agency_id),
        days_open=(utcnow() - as_utc(job.opened_at)).days,
        **_card_context(job, applications),
    )


@bp.get("/jobs/<int:job_id>/cards")
def job_cards(slug: str, job_id: int):
    """The next batch of one stage's cards (htmx, loaded when "Show more" scrolls into view)."""
    job = get_job_or_404(job_id)
    group = request.args.get("group", type=int)
    offset = max(request.args.get("offset", 0, type=int), 0)
    if group is None or not is_htmx():
        return redirect_for(url_for("client.job", slug=slug, job_id=job.id))
    applications, totals = client_overview.card_batch(current_user, job, CARDS_PER_GROUP, group, offset)
    return render(
        "client/job.html",
        "client/_more_cards.html",
        job=job,
        applications=applications,
        group=group,
        shown=offset + len(applications),
        total=totals.get(group, 0),
        per_group=CARDS_PER_GROUP,
        **_card_context(job, applications),
    )


# Cards rendered per stage at once: a job page with hundreds of shared candidates stays fast, and
# nobody reviews the 60th card before scrolling to it.
CARDS_PER_GROUP = 25


def _card_context(job: Job, applications: list[Application]) -> dict:
    """What the card macro needs for these applications, in a fixed number of queries."""
    ids = [a.id for a in applications]
    reasons = actions.rejection_reasons(job.agency_id)
    return {
        "ratings": ratings_for(current_user, ids),
        "anonymous": actions.anonymous_ids(ids),
        "reason_forms": {
            a.id: _reason_form(a, reasons, formdata=None)
            for a in applications
            if a.client_status == "rejected_by_client"
        },
        "undo_until": None,
    }


@bp.get("/candidates/<int:application_id>")
def candidate(slug: str, application_id: int):
    """C5: the prepared profile, resume and video links, rating, comments, actions."""
    application = get_shared_application_or_404(application_id)
    return render("client/candidate.html", **_candidate_context(application))


@bp.get("/candidates/<int:application_id>/resume")
def resume(slug: str, application_id: int):
    """The shared resume, inline or as a download, only for contacts of that job (never static)."""
    application = get_shared_application_or_404(application_id)
    row = None if _withheld(application) else client_overview.shared_resume(application)
    if row is None:
        abort(404)
    response = make_response(row.content)
    response.headers["Content-Type"] = "application/pdf"
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{_safe_filename(application)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/candidates/<int:application_id>/rating")
def rate(slug: str, application_id: int):
    """C6: save, change or clear the contact's stars; the widget and counters update in place."""
    application = get_company_application_or_404(application_id)
    form = RatingForm()
    if not form.validate_on_submit():
        return _rating_response(
            application, error=" ".join(form.stars.errors) or "Choose from 1 to 5 stars.", status=422
        )
    with attempt() as outcome:
        actions.ensure_actionable(application)
        summary = actions.rate(current_user, application, None if request.form.get("clear") else form.stars.data)
    if outcome.refused:
        refusal = outcome.refusal
        return _rating_response(application, error=refusal.message, status=409 if refusal.field is None else 422)
    return _rating_response(application, summary=summary)


@bp.post("/candidates/<int:application_id>/comments")
def comment(slug: str, application_id: int):
    """C6: add to the comment thread."""
    application = get_company_application_or_404(application_id)
    form = CommentForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            actions.ensure_actionable(application)
            actions.add_comment(current_user, application, form.body.data)
        if outcome.refused:
            form.body.errors = [outcome.refusal.message]
        else:
            form = CommentForm(formdata=None)
    status = 422 if form.errors else 200
    return render(
        "client/candidate.html",
        "client/_comments.html",
        status=status,
        **_candidate_context(application, comment_form=form),
    )


@bp.route("/candidates/<int:application_id>/interview", methods=["GET", "POST"])
def request_interview(slug: str, application_id: int):
    """C7: propose times; "Add another time" re-renders the form with one more row."""
    application = get_company_application_or_404(application_id)
    form = InterviewForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone
    if request.method == "POST" and "add_slot" in request.form:
        if len(form.slots) < actions.MAX_SLOTS:
            form.slots.append_entry()
        return render(
            "client/interview.html",
            "client/_interview_form.html",
            application=application,
            form=form,
            display_name=actions.client_facing_name(application),
        )
    refused = False
    if form.validate_on_submit():
        with attempt() as outcome:
            actions.ensure_actionable(application)
            actions.request_interview(
                current_user,
                application,
                interview_format=form.format.data,
                timezone_name=form.timezone.data,
                notes=form.notes.data or "",
                slots=[actions.SlotInput(s.day.data, s.start.data, s.minutes.data) for s in form.slots],
            )
        if not outcome.refused:
            flash("Interview requested. Your recruiter will confirm a time.")
            return redirect_for(url_for("client.candidate", slug=slug, application_id=application.id))
        refused = _attach_error(form, outcome.refusal)
    status = 422 if refused or form.errors else 200
    return render(
        "client/interview.html",
        "client/_interview_form.html",
        status=status,
        application=application,
        form=form,
        display_name=actions.client_facing_name(application),
    )


@bp.route("/candidates/<int:application_id>/hire", methods=["GET", "POST"])
def hire(slug: str, application_id: int):
    """C8: confirm step with optional start date and note."""
    application = get_company_application_or_404(application_id)
    form = HireForm()
    refused = False
    if form.validate_on_submit():
        with attempt() as outcome:
            actions.ensure_actionable(application)
            actions.request_hire(current_user, application, start_date=form.start_date.data, note=form.note.data or "")
        if not outcome.refused:
            flash(f"Hire requested for {application.candidate.name}. Your recruiter will be in touch.")
            return redirect_for(url_for("client.candidate", slug=slug, application_id=application.id))
        refused = _attach_error(form, outcome.refusal)
    status = 422 if refused or form.errors else 200
    return render(
        "client/hire.html",
        "client/_hire_form.html",
        status=status,
        application=application,
        form=form,
        display_name=actions.client_facing_name(application),
    )


@bp.post("/candidates/<int:application_id>/reject")
def reject(slug: str, application_id: int):
    """C9: one click; the card shows "Rejected by client" with Undo and the reason form."""
    return _decide(application_id, actions.reject)


@bp.post("/candidates/<int:application_id>/undo-reject")
def undo_reject(slug: str, application_id: int):
    """C9: Undo within the window restores the previous status."""
    return _decide(application_id, actions.undo_reject)


@bp.post("/candidates/<int:application_id>/reject-reason")
def reject_reason(slug: str, application_id: int):
    """C9: the optional reason and comment after a reject."""
    application = get_company_application_or_404(application_id)
    form = _reason_form(application)
    if form.validate_on_submit():
        with attempt() as outcome:
            actions.ensure_actionable(application)
            actions.explain_reject(
                current_user, application, reason_id=form.reason_id.data, comment=form.comment.data or ""
            )
        if not outcome.refused:
            return _decision_response(application, saved="Thanks: your reason was sent to the recruiter.")
        _attach_error(form, outcome.refusal)
    return _decision_response(application, reason_form=form, status=422)


def _decide(application_id: int, action):
    application = get_company_application_or_404(application_id)
    with attempt() as outcome:
        actions.ensure_actionable(application)
        action(current_user, application)
    if outcome.refused:
        return _decision_response(application, error=outcome.refusal.message, status=409)
    return _decision_response(application)


def _decision_response(
    application: Application,
    *,
    error: str | None = None,
    saved: str | None = None,
    reason_form: RejectReasonForm | None = None,
    status: int = 200,
):
    """The decision block (status + actions) and, on the job page, the progress counters (OOB)."""
    context = {
        "a": application,
        "error": error,
        "saved": saved,
        "reason_form": reason_form or _reason_form(application, formdata=None),
        "on": request.form.get("on"),
        "undo_until": actions.undo_deadline(application),
        "action_form": EmptyForm(),
    }
    if request.form.get("on") == "job":
        context["progress"] = progress_by_job(current_user, _baseline(), [application.job_id]).get(
            application.job_id, Progress()
        )
        context["job"] = application.job
    if not is_htmx():
        return redirect_for(url_for("client.candidate", slug=current_user.agency.slug, application_id=application.id))
    return render("client/candidate.html", "client/_decision_response.html", status=status, **context)


def _rating_response(application: Application, *, summary=None, error: str | None = None, status: int = 200):
    if not is_htmx():
        return redirect_for(url_for("client.candidate", slug=current_user.agency.slug, application_id=application.id))
    summary = summary or actions.rating_summary(application, current_user)
    context = {"a": application, "rating": summary, "error": error, "on": request.form.get("on")}
    if request.form.get("on") == "job":
        context["progress"] = progress_by_job(current_user, _baseline(), [application.job_id]).get(
            application.job_id, Progress()
        )
        context["job"] = application.job
    return render("client/candidate.html", "client/_rating_response.html", status=status, **context)


def _candidate_context(application: Application, comment_form: CommentForm | None = None) -> dict:
    profile = application.shared_profile
    withheld = _withheld(application)
    hidden = {name.lower() for name in (profile.hidden_fields or [])}
    if withheld:
        hidden |= actions.IDENTIFYING_FIELDS
    video = client_overview.shared_video(profile)
    reason_form = _reason_form(application, formdata=None)
    revealed = application.client_status == "hired"
    return {
        "a": application,
        "job": application.job,
        "profile": profile,
        "fields": [f for f in (profile.fields or []) if (f.get("key") or f.get("label", "")).lower() not in hidden],
        "show_email": revealed or "email" not in hidden,
        "show_phone": revealed or "phone" not in hidden,
        "withheld": withheld,
        "video": video,
        "rating": actions.rating_summary(application, current_user),
        "comments": actions.comments_for(application),
        "comment_form": comment_form or CommentForm(formdata=None),
        "reason_form": reason_form,
        "undo_until": actions.undo_deadline(application),
        "action_form": EmptyForm(),
        "display_name": actions.client_facing_name(application),
    }


def _withheld(application: Application) -> bool:
    """A blind share before any interview request: identity and resume stay hidden (A2a)."""
    return application.id in actions.anonymous_ids([application.id])


def _safe_filename(application: Application) -> str:
    name = "".join(ch for ch in application.candidate.name if ch.isalnum() or ch in " -_").strip() or "candidate"
    return f"{name} - resume.pdf"


def _reason_form(application: Application, reasons=None, **kwargs) -> RejectReasonForm:
    """The reason form of one card: prefixed, so many cards on a page keep unique field ids."""
    form = RejectReasonForm(
        prefix=f"app{application.id}", reason_id=application.reason_id, comment=application.outcome_comment, **kwargs
    )
    reasons = reasons if reasons is not None else actions.rejection_reasons(application.agency_id)
    form.reason_id.choices = [SelectChoice("", "Choose a reason")] + [SelectChoice(r.id, r.label) for r in reasons]
    return form


def _attach_error(form, exc: ServiceError) -> bool:
    """Show a service refusal next to the field it names (``slots-1-start``, or a field's short
    name in a prefixed form), else at the top of the form. Returns True so callers can answer
    422: WTForms caches ``form.errors`` during validation, so it would not see this error."""
    fields = {}
    for field in form:
        for entry in getattr(field, "entries", ()):
            for sub in entry.form:
                fields[sub.name] = sub
        fields[field.name] = fields[field.short_name] = field
    target = fields.get(exc.field or "")
    if target is None:
        form.form_errors.append(exc.message)
    else:
        target.errors = [*list(target.errors), exc.message]
    return True


def _track_visit() -> None:
    """Start a new visit after VISIT_GAP of quiet: its start is the "new since" baseline."""
    now = utcnow()
    last = as_utc(current_user.last_visit_at)
    if last is None or now - last > VISIT_GAP or "visit_baseline" not in session:
        session["visit_baseline"] = last.isoformat() if last else ""
    if last is None or now - last > LAST_VISIT_PRECISION:
        with unit_of_work():
            client_overview.record_visit(current_user, now)


def _baseline() -> datetime | None:
    value = session.get("visit_baseline")
    return datetime.fromisoformat(value) if value else None

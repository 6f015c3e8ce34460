"""What a contact does to a shared candidate (C6–C10): rate, comment, request an interview, hire,
reject (with Undo and a reason). Each answers with the part of the page it changed."""

from flask import flash, request, url_for
from flask_login import current_user

from ...htmx import is_htmx, redirect_for, render
from ...models import Application
from ...ratelimit import Wait, retry_after, throttle
from ...scoping import get_company_application_or_404
from ...services import ServiceError, interview_answers
from ...services import client_actions as actions
from ...services.client_actions import RatingSummary
from ...unit_of_work import attempt
from . import bp
from .candidates import candidate_context
from .forms import CommentForm, HireForm, InterviewForm, RatingForm, RejectReasonForm, renumber_slots
from .gone import refuse_if_gone
from .partials import comments_context, decision_context, progress_context, rating_context, reason_form_for

TOO_FAST = "You are going faster than the portal allows. Nothing was saved."


def _too_fast(setting: str = "CLIENT_ACTION_RATE") -> Wait | None:
    """How long this contact must wait, having used up the rate in ``setting`` (None: go ahead);
    the caller answers 429 in place with :func:`_slow_down`."""
    return throttle("comment" if setting == "CLIENT_COMMENT_RATE" else "action", setting)


def _slow_down(wait: Wait) -> str:
    """The in-place message of a throttled action: nothing saved, and when to try again."""
    return f"{TOO_FAST} {wait.words}"


@bp.post("/candidates/<int:application_id>/rating")
def rate(slug: str, application_id: int):
    """C6: save, change or clear the contact's stars; the widget and counters update in place."""
    application = get_company_application_or_404(application_id)
    form = RatingForm()
    if not form.validate_on_submit():
        return _rating_response(
            application, error=" ".join(form.stars.errors) or "Choose from 1 to 5 stars.", status=422
        )
    if wait := _too_fast():
        return retry_after(_rating_response(application, error=_slow_down(wait), status=429), wait)
    with attempt() as outcome:
        actions.ensure_actionable(application)
        summary = actions.rate(current_user, application, None if request.form.get("clear") else form.stars.data)
    refuse_if_gone(outcome.refusal)
    if (refusal := outcome.refusal) is not None:
        return _rating_response(application, error=refusal.message, status=409 if refusal.field is None else 422)
    return _rating_response(application, summary=summary)


@bp.post("/candidates/<int:application_id>/comments")
def comment(slug: str, application_id: int):
    """C6: add to the comment thread."""
    application = get_company_application_or_404(application_id)
    form = CommentForm()
    status, wait = 200, None
    if not form.validate_on_submit():
        status = 422
    elif wait := _too_fast("CLIENT_COMMENT_RATE"):
        form.body.errors = [_slow_down(wait)]
        status = 429
    else:
        with attempt() as outcome:
            actions.ensure_actionable(application)
            actions.add_comment(current_user, application, form.body.data)
        refuse_if_gone(outcome.refusal)
        if outcome.refusal is not None:
            form.body.errors = [outcome.refusal.message]
            status = 422
        else:
            form = CommentForm(formdata=None)
    context = comments_context(application, form) if is_htmx() else candidate_context(application, form)
    response = render("client/candidate.html", "client/_comments.html", status=status, **context)
    return retry_after(response, wait) if wait else response


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
        return _form_page(
            "client/interview.html",
            "client/_interview_form.html",
            application,
            form,
            focus=f"slots-{len(form.slots) - 1}-day",
        )
    if request.method == "POST" and "remove_slot" in request.form:
        removed = request.form.get("remove_slot", type=int)
        kept = renumber_slots(form, drop=removed)
        focus = f"slots-{min(removed or 0, kept - 1)}-day" if kept else "add-slot"
        return _form_page("client/interview.html", "client/_interview_form.html", application, form, focus=focus)
    if request.method == "POST":
        # Rows left empty (both date and start blank) are not proposals: drop them before
        # validating, so an extra row never blocks the request and errors name the right row.
        renumber_slots(form, drop_empty=True)
    refused = False
    if form.validate_on_submit() and (wait := _too_fast()):
        form.form_errors.append(_slow_down(wait))
        page = _form_page("client/interview.html", "client/_interview_form.html", application, form, 429)
        return retry_after(page, wait)
    if form.validate_on_submit():
        # Once an interview is booked, the same form asks for a further round (issue 13).
        further = interview_answers.is_further_round(application)
        ask = interview_answers.request_further_round if further else actions.request_interview
        with attempt() as outcome:
            actions.ensure_actionable(application)
            ask(
                current_user,
                application,
                interview_format=form.format.data,
                timezone_name=form.timezone.data,
                notes=form.notes.data or "",
                slots=[actions.SlotInput(s.day.data, s.start.data, s.minutes.data) for s in form.slots],
            )
        refuse_if_gone(outcome.refusal)
        if outcome.refusal is None:
            flash("Interview requested. Your recruiter will confirm a time.")
            return redirect_for(url_for("client.candidate", slug=slug, application_id=application.id))
        refused = _attach_error(form, outcome.refusal)
    status = 422 if refused or form.errors else 200
    return _form_page("client/interview.html", "client/_interview_form.html", application, form, status)


@bp.route("/candidates/<int:application_id>/hire", methods=["GET", "POST"])
def hire(slug: str, application_id: int):
    """C8: confirm step with optional start date and note."""
    application = get_company_application_or_404(application_id)
    form = HireForm()
    refused = False
    if form.validate_on_submit() and (wait := _too_fast()):
        form.form_errors.append(_slow_down(wait))
        return retry_after(_form_page("client/hire.html", "client/_hire_form.html", application, form, 429), wait)
    if form.validate_on_submit():
        with attempt() as outcome:
            actions.ensure_actionable(application)
            actions.request_hire(current_user, application, start_date=form.start_date.data, note=form.note.data or "")
        refuse_if_gone(outcome.refusal)
        if outcome.refusal is None:
            flash(f"Hire requested for {actions.client_facing_name(application)}. Your recruiter will be in touch.")
            return redirect_for(url_for("client.candidate", slug=slug, application_id=application.id))
        refused = _attach_error(form, outcome.refusal)
    status = 422 if refused or form.errors else 200
    return _form_page("client/hire.html", "client/_hire_form.html", application, form, status)


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
    form = reason_form_for(application)
    if form.validate_on_submit() and (wait := _too_fast()):
        response = _decision_response(application, reason_form=form, error=_slow_down(wait), status=429)
        return retry_after(response, wait)
    if form.validate_on_submit():
        with attempt() as outcome:
            actions.ensure_actionable(application)
            actions.explain_reject(
                current_user, application, reason_id=form.reason_id.data, comment=form.comment.data or ""
            )
        refuse_if_gone(outcome.refusal)
        if outcome.refusal is None:
            return _decision_response(application, saved="Thanks: your reason was sent to the recruiter.")
        _attach_error(form, outcome.refusal)
    return _decision_response(application, reason_form=form, status=422)


def _decide(application_id: int, action):
    """Reject or undo: one click, answered with the decision block."""
    application = get_company_application_or_404(application_id)
    if wait := _too_fast():
        return retry_after(_decision_response(application, error=_slow_down(wait), status=429), wait)
    with attempt() as outcome:
        actions.ensure_actionable(application)
        action(current_user, application)
    refuse_if_gone(outcome.refusal)
    if outcome.refusal is not None:
        return _decision_response(application, error=outcome.refusal.message, status=409)
    name = actions.client_facing_name(application)
    if action is actions.reject:
        # Keyboard users land on Undo (one Tab-free step), and hear what happened.
        return _decision_response(
            application,
            focus=f"undo-{application.id}",
            announce=f"{name} rejected. Undo is available for {int(actions.UNDO_WINDOW.total_seconds())} seconds.",
        )
    return _decision_response(
        application,
        focus=f"reject-{application.id}",
        announce=f"Reject undone: {name} is back to {actions.status_label(application.client_status)}.",
    )


def _decision_response(
    application: Application,
    *,
    error: str | None = None,
    saved: str | None = None,
    reason_form: RejectReasonForm | None = None,
    status: int = 200,
    focus: str | None = None,
    announce: str | None = None,
):
    """The decision block (status + actions) and, on the job page, the progress counters (OOB).
    After a refusal focus goes to the status line (the control pressed may be gone)."""
    if not is_htmx():
        if error:
            flash(error)
        return redirect_for(url_for("client.candidate", slug=current_user.agency.slug, application_id=application.id))
    on = request.form.get("on")
    if error and not (reason_form and reason_form.errors):
        focus = f"status-{application.id}"
    context = decision_context(
        application, on=on, error=error, saved=saved, reason_form=reason_form, focus=focus, announce=announce or saved
    )
    if on == "job":
        context |= progress_context(application.job)
    return render("client/candidate.html", "client/_decision_response.html", status=status, **context)


def _rating_response(
    application: Application, *, summary: RatingSummary | None = None, error: str | None = None, status: int = 200
):
    """The rating widget and, on the job page, the progress counters (OOB)."""
    if not is_htmx():
        if error:
            flash(error)
        return redirect_for(url_for("client.candidate", slug=current_user.agency.slug, application_id=application.id))
    on = request.form.get("on")
    context = rating_context(application, summary=summary, on=on, error=error)
    if on == "job":
        context |= progress_context(application.job)
    return render("client/candidate.html", "client/_rating_response.html", status=status, **context)


def _form_page(page: str, partial: str, application: Application, form, status: int = 200, focus: str | None = None):
    """The interview or hire form: alone for htmx, else on its page, which names the candidate.
    ``focus``: the id of the control that keyboard focus moves to after the swap (portal.js)."""
    page_only = {} if is_htmx() else {"display_name": actions.client_facing_name(application)}
    return render(page, partial, status=status, application=application, form=form, focus=focus, **page_only)


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

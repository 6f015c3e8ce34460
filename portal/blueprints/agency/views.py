"""Recruiter pages (spec section A): jobs and the shortlist board, sharing, tasks, interview
scheduling, alerts, timelines and candidate feedback. Views parse a form, call one service and
render; every refusal renders in place (422) with nothing half-saved."""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from ...forms import EmptyForm
from ...htmx import redirect_for, render, toast
from ...models import (
    Application,
    ClientContact,
    Interview,
    InterviewRequest,
    Job,
    Task,
    utcnow,
)
from ...scoping import (
    client_companies,
    colleagues,
    get_application_or_404,
    get_candidate_or_404,
    get_interview_or_404,
    get_interview_request_or_404,
    get_job_or_404,
    get_own_alert_or_404,
    get_scoped_or_404,
    get_task_or_404,
)
from ...services import ServiceError, candidate_messages, interviews, pipeline, pipeline_config, sharing
from ...services import alerts as alert_service
from ...services import auth as auth_service
from ...services import tasks as task_service
from ...services.activity import timeline
from ...unit_of_work import attempt, unit_of_work
from .forms import (
    BulkForm,
    ChecklistForm,
    ConfirmForm,
    FeedbackForm,
    JobForm,
    OutcomeForm,
    ProposeForm,
    ReassignForm,
    RescheduleForm,
    SendOnlineForm,
    ShareForm,
    SkipForm,
    StageForm,
    TaskCommentForm,
    choices,
    form_errors,
)

bp = Blueprint("agency", __name__, url_prefix="/agency")


@bp.before_request
@login_required
def _only_staff():
    """The workspace is for agency staff only."""
    if not current_user.is_staff:
        abort(404)


@bp.context_processor
def _helpers():
    return {"is_overdue": task_service.is_overdue, "outcome_labels": pipeline.OUTCOME_LABELS}


def _refusal(page: str, partial: str, exc: ServiceError | None = None, form=None, **context):
    """Re-render the form region in place with the refusal, as a 422; nothing was saved."""
    if exc is not None and form is not None and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    return render(page, partial, status=422, form=form, error=exc.message if exc else None, **context)


@bp.get("/")
def index():
    """Jobs the user may see, with how many candidates are shared on each."""
    return render(
        "agency/index.html",
        jobs=pipeline.job_list(current_user),
        shared=sharing.shared_count_by_job(current_user.agency_id),
    )


def _job_form(job: Job | None = None) -> JobForm:
    form = JobForm(obj=job) if job is not None and request.method == "GET" else JobForm()
    companies, users = client_companies(), colleagues()
    form.company_id.choices = choices([("", "Choose…")] + [(c.id, c.name) for c in companies])
    form.owner_id.choices = choices([("", "Choose…")] + [(u.id, u.name) for u in users])
    form.team_ids.choices = choices((u.id, u.name) for u in users)
    if request.method == "GET":
        if job is not None:
            form.team_ids.data = [u.id for u in job.hiring_team]
        else:
            form.owner_id.data = current_user.id
    return form


def _job_input(form: JobForm) -> pipeline.JobInput:
    return pipeline.JobInput(
        title=form.title.data or "",
        company_id=form.company_id.data,
        owner_id=form.owner_id.data,
        location=form.location.data,
        description=form.description.data,
        requisition_id=form.requisition_id.data,
        confidential=form.confidential.data,
        status=form.status.data or "open",
        team_ids=tuple(form.team_ids.data or ()),
    )


@bp.route("/jobs/new", methods=["GET", "POST"])
def new_job():
    """Create a job (A1)."""
    form = _job_form()
    if request.method == "GET":
        return render("agency/job_form.html", "agency/_job_form.html", form=form, job=None)
    if not form.validate_on_submit():
        return _refusal("agency/job_form.html", "agency/_job_form.html", form=form, job=None)
    with attempt() as outcome:
        job = pipeline.create_job(current_user, _job_input(form))
    if outcome.refused:
        return _refusal("agency/job_form.html", "agency/_job_form.html", outcome.refusal, form=form, job=None)
    return redirect_for(url_for("agency.job", job_id=job.id))


@bp.route("/jobs/<int:job_id>/edit", methods=["GET", "POST"])
def edit_job(job_id: int):
    """Edit a job (A1)."""
    job = get_job_or_404(job_id)
    form = _job_form(job)
    if request.method == "GET":
        return render("agency/job_form.html", "agency/_job_form.html", form=form, job=job)
    if not form.validate_on_submit():
        return _refusal("agency/job_form.html", "agency/_job_form.html", form=form, job=job)
    with attempt() as outcome:
        pipeline.update_job(job, current_user, _job_input(form))
    if outcome.refused:
        return _refusal("agency/job_form.html", "agency/_job_form.html", outcome.refusal, form=form, job=job)
    return redirect_for(url_for("agency.job", job_id=job.id))


def _job_context(job: Job, **extra) -> dict:
    return {
        "job": job,
        "contacts": sharing.job_contacts(job),
        "form": EmptyForm(),
        "board": pipeline.job_board(job),
        "stages": pipeline_config.stages(job.agency_id),
        "timeline": timeline(current_user, job_id=job.id),
        "bulk_form": extra.pop("bulk_form", None) or BulkForm(),
        "online_form": extra.pop("online_form", None) or SendOnlineForm(),
        **extra,
    }


@bp.get("/jobs/<int:job_id>")
def job(job_id: int):
    """A job: contacts with link buttons, the shortlist board by stage, and the timeline."""
    return render("agency/job.html", **_job_context(get_job_or_404(job_id)))


@bp.post("/applications/<int:application_id>/stage")
def move_stage(application_id: int):
    """Move a candidate between stages without a reload; the board re-renders with the card in
    its new column."""
    application = get_application_or_404(application_id)
    form = StageForm()
    error = None
    if form.validate_on_submit():
        with attempt() as outcome:
            pipeline.move_stage(application, form.stage_id.data, current_user)
        error = outcome.refusal.message if outcome.refused else None
    else:
        error = "Choose one of the agency's stages."
    job = application.job
    message = None if error else f"Moved {application.candidate.name} to {application.stage.name}."
    return make_response(
        render_template("agency/_board.html", **_job_context(job, error=error, message=message)), 422 if error else 200
    )


@bp.route("/applications/<int:application_id>/outcome", methods=["GET", "POST"])
def outcome(application_id: int):
    """Close an application with an outcome and a reason (A6)."""
    application = get_application_or_404(application_id)
    form = OutcomeForm()
    context = {"application": application, "reasons": pipeline.closing_reasons(application.agency_id)}
    if request.method == "GET":
        return render("agency/outcome.html", "agency/_outcome_form.html", form=form, **context)
    if not form.validate_on_submit():
        return _refusal("agency/outcome.html", "agency/_outcome_form.html", form=form, **context)
    with attempt() as closing:
        pipeline.close_application(
            application, form.outcome.data, current_user, reason_id=form.reason_id.data, comment=form.comment.data
        )
    if closing.refused:
        return _refusal("agency/outcome.html", "agency/_outcome_form.html", closing.refusal, form=form, **context)
    return redirect_for(url_for("agency.candidate", candidate_id=application.candidate_id))


def _share_context(application: Application, form: ShareForm) -> dict:
    resumes = sharing.candidate_resumes(application.candidate_id)
    videos = sharing.candidate_video_resumes(application.candidate_id)
    form.resume_id.choices = choices([("", "No resume file")] + [(r.id, r.filename) for r in resumes])
    form.video_resume_id.choices = choices([("", "No video")] + [(v.id, v.title) for v in videos])
    return {"application": application, "guards": sharing.share_guards(application, current_user), "form": form}


@bp.route("/applications/<int:application_id>/share", methods=["GET", "POST"])
def share(application_id: int):
    """Prepare and share one candidate: guards first, then the profile from the template."""
    application = get_application_or_404(application_id)
    form = ShareForm()
    if request.method == "GET":
        profile = application.shared_profile
        if profile is not None and profile.fields:
            fields, hidden = profile.fields, profile.hidden_fields or []
        else:
            fields, hidden = sharing.profile_from_template(application)
        for item in [*fields, {"label": "", "value": ""}]:
            form.fields.append_entry(
                {"label": item["label"], "value": item["value"], "hidden": item["label"] in hidden}
            )
        if profile is not None:
            form.resume_id.data, form.video_resume_id.data = profile.resume_id, profile.video_resume_id
        return render("agency/share.html", "agency/_share_form.html", **_share_context(application, form))
    context = _share_context(application, form)
    if not form.validate_on_submit():
        return _refusal("agency/share.html", "agency/_share_form.html", **context)
    entries = [entry.form for entry in form.fields if (entry.form.label.data or "").strip()]
    fields = [{"label": e.label.data, "value": e.value.data} for e in entries]
    hidden = [e.label.data.strip() for e in entries if e.hidden.data]
    with attempt() as outcome:
        sharing.share_candidate(
            application,
            current_user,
            fields=fields,
            hidden_fields=hidden,
            resume_id=form.resume_id.data,
            video_resume_id=form.video_resume_id.data,
            consent_override_reason=form.consent_override_reason.data,
            blind=form.blind.data,
        )
    if outcome.refused:
        context.pop("form")
        return _refusal("agency/share.html", "agency/_share_form.html", outcome.refusal, form=form, **context)
    return toast(
        redirect_for(url_for("agency.job", job_id=application.job_id)), f"{application.candidate.name} is shared."
    )


@bp.post("/applications/<int:application_id>/unshare")
def unshare(application_id: int):
    """Remove one candidate from the client's page at once; the card re-renders."""
    application = get_application_or_404(application_id)
    with attempt() as outcome:
        sharing.unshare_candidate(application, current_user)
    error = outcome.refusal.message if outcome.refused else None
    response = make_response(
        render_template(
            "agency/_application.html",
            application=application,
            stages=pipeline_config.stages(application.agency_id),
            error=error,
        ),
        422 if error else 200,
    )
    return toast(response, error or f"{application.candidate.name} is no longer shared.", "error" if error else "info")


@bp.post("/jobs/<int:job_id>/bulk")
def bulk(job_id: int):
    """Share or unshare the selected candidates of the shortlist (all or nothing)."""
    job = get_job_or_404(job_id)
    form = BulkForm()
    error = message = None
    if not form.validate_on_submit():
        error = "Select at least one candidate."
    else:
        with attempt() as outcome:
            if form.action.data == "unshare":
                done = sharing.bulk_unshare(job, form.application_ids.data, current_user)
                message = f"Unshared {len(done)} candidate(s)."
            else:
                done = sharing.bulk_share(
                    job,
                    form.application_ids.data,
                    current_user,
                    consent_override_reason=form.consent_override_reason.data,
                )
                message = f"Shared {len(done)} candidate(s)."
        if outcome.refused:
            error, message = outcome.refusal.message, None
    return make_response(
        render_template("agency/_board.html", **_job_context(job, bulk_form=form, error=error, message=message)),
        422 if error else 200,
    )


@bp.post("/jobs/<int:job_id>/send-online")
def send_online(job_id: int):
    """Email the chosen contacts the landing link and the newly shared candidates."""
    job = get_job_or_404(job_id)
    form = SendOnlineForm()
    error, message = None, None
    if not form.validate_on_submit():
        error = "Choose at least one contact."
    else:
        with attempt() as outcome:
            count = sharing.send_online(job, form.contact_ids.data, current_user)
            message = f"Sent to {count} contact(s)."
        if outcome.refused:
            error, message = outcome.refusal.message, None
    return make_response(
        render_template(
            "agency/_send_online.html",
            **_job_context(job, online_form=form, online_error=error, online_message=message),
        ),
        422 if error else 200,
    )


@bp.get("/candidates/<int:candidate_id>")
def candidate(candidate_id: int):
    """A candidate: applications on visible jobs, interviews, and the timeline."""
    person = get_candidate_or_404(candidate_id)
    applications = pipeline.candidate_applications(current_user, person)
    interview_rows = interviews.interviews_for_applications([a.id for a in applications])
    return render(
        "agency/candidate.html",
        candidate=person,
        applications=applications,
        interviews=interview_rows,
        timeline=timeline(current_user, candidate_id=person.id),
        reschedule_form=RescheduleForm(timezone=current_user.timezone),
        form=EmptyForm(),
    )


@bp.route("/applications/<int:application_id>/feedback", methods=["GET", "POST"])
def feedback(application_id: int):
    """Compose and send kind feedback to the candidate from the agency's template (A8)."""
    application = get_application_or_404(application_id)
    draft = candidate_messages.compose_feedback(application)
    if request.method == "GET":
        form = FeedbackForm(subject=draft.subject, body=draft.body)
        return render(
            "agency/feedback.html", "agency/_feedback_form.html", form=form, application=application, draft=draft
        )
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _refusal(
            "agency/feedback.html", "agency/_feedback_form.html", form=form, application=application, draft=draft
        )
    with attempt() as outcome:
        candidate_messages.send_feedback(application, current_user, form.subject.data, form.body.data)
    if outcome.refused:
        return _refusal(
            "agency/feedback.html",
            "agency/_feedback_form.html",
            outcome.refusal,
            form=form,
            application=application,
            draft=draft,
        )
    return toast(
        redirect_for(url_for("agency.candidate", candidate_id=application.candidate_id)),
        "Feedback sent to the candidate.",
    )


@bp.get("/tasks")
def tasks():
    """The signed-in recruiter's inbox: open tasks by due date, overdue highlighted."""
    return render(
        "agency/tasks.html",
        tasks=task_service.tasks_for_inbox(current_user),
        now=utcnow(),
        title="Your tasks",
        workload=None,
    )


@bp.get("/tasks/team")
def team_tasks():
    """Agency-wide: every recruiter's open and overdue tasks (the head of the agency's view)."""
    if not current_user.is_admin:
        abort(404)  # counts include confidential jobs' tasks: for the agency's admins only
    return render(
        "agency/tasks.html",
        tasks=task_service.open_tasks_for_agency(current_user),
        now=utcnow(),
        title="Everyone's open tasks",
        workload=task_service.agency_workload(current_user.agency_id),
    )


def _task_context(task: Task, **extra) -> dict:
    application = task_service.task_application(task)
    request_row = task_service.task_interview_request(task)
    owner = application.job.owner if application else current_user
    reassign_form = extra.pop("reassign_form", None) or ReassignForm()
    reassign_form.assignee_id.choices = choices((u.id, u.name) for u in colleagues())
    reassign_form.assignee_id.data = reassign_form.assignee_id.data or task.assignee_id
    comments = task_service.task_comments(task)
    return {
        "task": task,
        "application": application,
        "interview_request": request_row,
        "owner": owner,
        "slots": interviews.slots_in_zones(request_row, owner) if request_row else [],
        "assignee": task_service.task_assignee(task),
        "comments": comments,
        "form": EmptyForm(),
        "reassign_form": reassign_form,
        "comment_form": extra.pop("comment_form", None) or TaskCommentForm(),
        "skip_form": extra.pop("skip_form", None) or SkipForm(),
        "confirm_form": extra.pop("confirm_form", None) or ConfirmForm(),
        "propose_form": extra.pop("propose_form", None) or ProposeForm(timezone=owner.timezone),
        "missing": task_service.missing_for_completion(task) if task.status == "open" else [],
        "now": utcnow(),
        **extra,
    }


@bp.get("/tasks/<int:task_id>")
def task(task_id: int):
    """One task: checklist, completion, skip, reassign, comments, and scheduling for interviews.
    As a fragment: the status region (refreshed when scheduling completes the task)."""
    return render("agency/task.html", "agency/_task_status.html", **_task_context(get_task_or_404(task_id)))


def _task_region(task: Task, region: str, status: int = 200, **extra):
    """Re-render one region of the task page (status, checklist, assign, comments, schedule)."""
    return render("agency/task.html", f"agency/_task_{region}.html", status=status, **_task_context(task, **extra))


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int):
    """Complete the task, or show in place exactly what is missing."""
    task = get_task_or_404(task_id)
    with attempt() as outcome:
        task_service.complete_task(task, current_user)
    if outcome.refused:
        return _task_region(task, "status", 422, status_error=outcome.refusal.message)
    return _task_region(task, "status")


@bp.post("/tasks/<int:task_id>/skip")
def skip_task(task_id: int):
    """Close a feedback task without a message, with a reason."""
    task = get_task_or_404(task_id)
    form = SkipForm()
    if not form.validate_on_submit():
        return _task_region(
            task, "status", 422, skip_form=form, status_error="Say why the feedback is skipped (at least 5 characters)."
        )
    with attempt() as outcome:
        task_service.skip_task(task, current_user, form.reason.data)
    if outcome.refused:
        return _task_region(task, "status", 422, skip_form=form, status_error=outcome.refusal.message)
    return _task_region(task, "status")


@bp.post("/tasks/<int:task_id>/reassign")
def reassign_task(task_id: int):
    """Give the task to a colleague."""
    task = get_task_or_404(task_id)
    form = ReassignForm()
    if not form.validate_on_submit():
        return _task_region(
            task, "assign", 422, reassign_form=form, assign_error=form_errors(form, "Choose an active colleague.")
        )
    with attempt() as outcome:
        task_service.reassign_task(task, current_user, form.assignee_id.data)
    if outcome.refused:
        return _task_region(task, "assign", 422, reassign_form=form, assign_error=outcome.refusal.message)
    return _task_region(task, "assign", assign_message="Reassigned.")


@bp.post("/tasks/<int:task_id>/comments")
def comment_task(task_id: int):
    """Add a comment to the task."""
    task = get_task_or_404(task_id)
    form = TaskCommentForm()
    if not form.validate_on_submit():
        return _task_region(task, "comments", 422, comment_form=form, comment_error=form_errors(form))
    with attempt() as outcome:
        task_service.comment_on_task(task, current_user, form.body.data)
    if outcome.refused:
        return _task_region(task, "comments", 422, comment_form=form, comment_error=outcome.refusal.message)
    return _task_region(task, "comments", comment_form=TaskCommentForm(formdata=None))


@bp.post("/tasks/<int:task_id>/checklist/<int:item_id>")
def checklist_item(task_id: int, item_id: int):
    """Tick or untick a checklist line."""
    task = get_task_or_404(task_id)
    form = ChecklistForm()
    if not form.validate_on_submit():
        return _task_region(task, "status", 422, status_error=form_errors(form, "Tick or untick the item."))
    with attempt() as outcome:
        task_service.set_checklist_item(task, item_id, bool(form.done.data))
    if outcome.refused:
        return _task_region(task, "status", 422, status_error=outcome.refusal.message)
    return _task_region(task, "status")


def _schedule_region(row: InterviewRequest, status: int = 200, **extra):
    task = task_service.task_for_interview_request(row.id)
    if task is None:
        return make_response(
            render_template("partials/error.html", message=extra.get("schedule_error") or "No task."), status
        )
    return _task_region(task, "schedule", status, **extra)


@bp.post("/interview-requests/<int:request_id>/confirm")
def confirm_interview(request_id: int):
    """Confirm a proposed slot (or a suggested window): conflict-checked, then invitations."""
    row = get_interview_request_or_404(request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _schedule_region(row, 422, confirm_form=form, schedule_error=form_errors(form))
    try:
        starts_at = datetime.fromisoformat(form.starts_at.data).astimezone(UTC) if form.starts_at.data else None
    except ValueError:
        return _schedule_region(row, 422, confirm_form=form, schedule_error="Choose one of the proposed times.")
    slot_id = int(form.slot_id.data) if (form.slot_id.data or "").isdigit() else None
    with attempt() as outcome:
        interview = interviews.confirm_interview(
            row,
            current_user,
            slot_id=slot_id,
            starts_at=starts_at,
            location=form.location.data,
            meeting_link=form.meeting_link.data,
        )
    if outcome.refused:
        return _schedule_region(
            row,
            422,
            confirm_form=form,
            schedule_error=outcome.refusal.message,
            suggestions=_suggestions(outcome.refusal),
        )
    when = interviews.format_in_zone(interview.starts_at, current_user.timezone)
    response = _schedule_region(row, schedule_message=f"Interview confirmed for {when}; invitations are on their way.")
    response.headers["HX-Trigger"] = "task-changed"
    return response


@bp.post("/interview-requests/<int:request_id>/self-schedule")
def send_self_schedule_link(request_id: int):
    """Email the candidate a link to choose one of the proposed times themselves."""
    row = get_interview_request_or_404(request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _schedule_region(row, 422, confirm_form=form, schedule_error=form_errors(form))
    with attempt() as outcome:
        interviews.send_self_schedule_link(
            row, current_user, location=form.location.data, meeting_link=form.meeting_link.data
        )
    if outcome.refused:
        return _schedule_region(row, 422, confirm_form=form, schedule_error=outcome.refusal.message)
    return _schedule_region(row, schedule_message="The candidate was emailed a link to choose a time.")


def _suggestions(refusal: ServiceError) -> list[datetime]:
    """The free start times a scheduling conflict offers instead; none for other refusals."""
    return refusal.suggestions if isinstance(refusal, interviews.SchedulingConflict) else []


def _local_to_utc(value: datetime | None, zone_name: str) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=interviews.zone(zone_name)).astimezone(UTC)


@bp.post("/interview-requests/<int:request_id>/propose")
def propose_times(request_id: int):
    """Send other times back to the client."""
    row = get_interview_request_or_404(request_id)
    form = ProposeForm()
    if not form.validate_on_submit():
        return _schedule_region(row, 422, propose_form=form, propose_error=form_errors(form, "Check the times."))
    starts = [_local_to_utc(f.data, form.timezone.data) for f in (form.first, form.second, form.third) if f.data]
    with attempt() as outcome:
        interviews.propose_times(row, current_user, starts, timedelta(minutes=form.minutes.data), form.timezone.data)
    if outcome.refused:
        return _schedule_region(row, 422, propose_form=form, propose_error=outcome.refusal.message)
    return _schedule_region(row, propose_message="The new times were sent to the client.")


def _interview_card(row: Interview, status: int = 200, **extra):
    return make_response(
        render_template(
            "agency/_interview.html",
            interview=row,
            form=EmptyForm(),
            reschedule_form=extra.pop("reschedule_form", None)
            or RescheduleForm(formdata=None, timezone=current_user.timezone),
            **extra,
        ),
        status,
    )


@bp.post("/interviews/<int:interview_id>/reschedule")
def reschedule_interview(interview_id: int):
    """Move an interview; everyone gets an updated invitation (same UID, higher SEQUENCE)."""
    row = get_interview_or_404(interview_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        return _interview_card(row, 422, reschedule_form=form, error="Choose the new time.")
    with attempt() as outcome:
        interviews.reschedule_interview(row, current_user, _local_to_utc(form.starts_at.data, form.timezone.data))
    if outcome.refused:
        return _interview_card(
            row,
            422,
            reschedule_form=form,
            error=outcome.refusal.message,
            suggestions=_suggestions(outcome.refusal),
        )
    return _interview_card(row, message="Moved; updated invitations are on their way.")


@bp.post("/interviews/<int:interview_id>/cancel")
def cancel_interview(interview_id: int):
    """Cancel an interview; everyone gets a cancellation (METHOD:CANCEL, same UID)."""
    row = get_interview_or_404(interview_id)
    with attempt() as outcome:
        interviews.cancel_interview(row, current_user)
    if outcome.refused:
        return _interview_card(row, 422, error=outcome.refusal.message)
    return _interview_card(row, message="Cancelled; everyone has been told.")


@bp.get("/alerts")
def alerts():
    """The user's alerts, unread first."""
    return render(
        "agency/alerts.html",
        "agency/_alert_list.html",
        alerts=alert_service.recent_alerts(current_user),
        form=EmptyForm(),
        unread=alert_service.unread_count(current_user),
    )


@bp.get("/alerts/badge")
def alert_badge():
    """The unread count, polled by the nav badge (htmx ``every 15s``)."""
    return make_response(render_template("agency/_alert_badge.html", unread=alert_service.unread_count(current_user)))


@bp.post("/alerts/<int:alert_id>/read")
def read_alert(alert_id: int):
    """Mark one alert read."""
    alert = get_own_alert_or_404(alert_id)
    with unit_of_work():
        alert_service.mark_read(current_user, alert.id)
    return _alert_list_response()


@bp.post("/alerts/read-all")
def read_all_alerts():
    """Mark every alert read."""
    with unit_of_work():
        alert_service.mark_read(current_user)
    return _alert_list_response()


def _alert_list_response():
    response = render(
        "agency/alerts.html",
        "agency/_alert_list.html",
        alerts=alert_service.recent_alerts(current_user),
        form=EmptyForm(),
        unread=alert_service.unread_count(current_user),
    )
    response.headers["HX-Trigger"] = "alerts-changed"
    return response


@bp.post("/jobs/<int:job_id>/contacts/<int:contact_id>/link")
def copy_link(job_id: int, contact_id: int):
    """Reveal one contact's landing link for copying (a POST: it may create the token)."""
    job, contact = _job_and_contact(job_id, contact_id)
    if contact.company_id != job.company_id or not contact.active:
        return _link_result(contact, "That contact cannot receive links for this job.", ok=False)
    with unit_of_work():
        url = auth_service.landing_link(contact, job)
    return _link_result(contact, "Copy this link and send it to the contact.", url=url)


@bp.post("/jobs/<int:job_id>/contacts/<int:contact_id>/send-link")
def send_link(job_id: int, contact_id: int):
    """Email one contact the landing link for this job."""
    job, contact = _job_and_contact(job_id, contact_id)
    with attempt() as outcome:
        auth_service.email_landing_link(contact, job, current_user)
    if outcome.refused:
        return _link_result(contact, outcome.refusal.message, ok=False)
    return _link_result(contact, f"Link emailed to {contact.email}.")


def _job_and_contact(job_id: int, contact_id: int):
    job = get_job_or_404(job_id)
    contact = get_scoped_or_404(ClientContact, contact_id)
    return job, contact


def _link_result(contact: ClientContact, message: str, ok: bool = True, url: str | None = None):
    response = make_response(
        render_template("agency/_link_result.html", contact=contact, message=message, ok=ok, url=url),
        200 if ok else 422,
    )
    return toast(response, message, "info" if ok else "error")

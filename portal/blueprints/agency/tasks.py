"""Tasks (A3): the recruiter's inbox, the agency-wide view, and one task's page with its regions
(status and checklist, scheduling, assignee, comments). A handler re-renders only the region it
changed, from that region's context function; without htmx it gets the whole page."""

from flask import abort, current_app, request
from flask_login import current_user

from ...forms import EmptyForm
from ...htmx import is_htmx, render
from ...models import InterviewRequest, Task, utcnow
from ...ratelimit import retry_after, throttle
from ...scoping import colleagues, get_task_or_404
from ...services import interview_answers, interviews
from ...services import tasks as task_service
from ...unit_of_work import attempt
from . import bp
from .client_comments import has_thread, thread_context
from .forms import (
    ChecklistForm,
    ConfirmForm,
    ProposeForm,
    ReassignForm,
    SkipForm,
    TaskCommentForm,
    choices,
    form_errors,
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


def _status_context(task: Task, *, skip_form: SkipForm | None = None, status_error: str | None = None) -> dict:
    """What ``agency/_task_status.html`` needs: the checklist, what is still missing, the skip form."""
    return {
        "task": task,
        "form": EmptyForm(),
        "skip_form": skip_form or SkipForm(),
        "missing": task_service.missing_for_completion(task) if task.status == "open" else [],
        "status_error": status_error,
    }


def _assign_context(task: Task, *, reassign_form: ReassignForm | None = None, **messages) -> dict:
    """What ``agency/_task_assign.html`` needs: the assignee and the colleagues to choose from.
    ``messages``: ``assign_error`` or ``assign_message``."""
    form = reassign_form or ReassignForm()
    form.assignee_id.choices = choices((u.id, u.name) for u in colleagues())
    form.assignee_id.data = form.assignee_id.data or task.assignee_id
    return {"task": task, "assignee": task_service.task_assignee(task), "reassign_form": form, **messages}


def _comments_context(task: Task, *, comment_form: TaskCommentForm | None = None, comment_error=None) -> dict:
    """What ``agency/_task_comments.html`` needs: the newest page of comments and the form."""
    return {
        **_comment_items_context(task),
        "comment_form": comment_form or TaskCommentForm(),
        "comment_error": comment_error,
    }


def _comment_items_context(task: Task, before_id: int | None = None) -> dict:
    """What ``agency/_task_comment_items.html`` needs: one page of comments before ``before_id``."""
    size = current_app.config["COMMENTS_PAGE_SIZE"]
    comments, has_earlier = task_service.task_comments_page(task, size, before_id=before_id)
    return {"task": task, "comments": comments, "has_earlier": has_earlier, "before": before_id}


def schedule_context(
    request_row: InterviewRequest,
    *,
    confirm_form: ConfirmForm | None = None,
    propose_form: ProposeForm | None = None,
    **messages,
) -> dict:
    """What ``agency/_task_schedule.html`` needs: the proposed slots in the job owner's zone and
    the proposer's, with their clashes. ``messages``: ``schedule_error``, ``schedule_message``,
    ``suggestions``, ``propose_error``, ``propose_message``."""
    owner = interviews.request_owner(request_row)
    return {
        "interview_request": request_row,
        "owner": owner,
        "slots": interviews.slots_in_zones(request_row, owner),
        "confirm_form": confirm_form or ConfirmForm(),
        "propose_form": propose_form or ProposeForm(timezone=owner.timezone),
        "suggestion_views": interview_answers.suggestions_in_zones,
        "declined": interview_answers.declined_times(request_row),
        **messages,
    }


def _page_context(task: Task) -> dict:
    """The whole task page: every region with nothing submitted, and the candidate's comment
    thread with the client when the candidate was shared."""
    request_row = task_service.task_interview_request(task)
    application = task_service.task_application(task)
    return {
        "thread": thread_context(application) if application and has_thread(application) else None,
        **_status_context(task),
        **(schedule_context(request_row) if request_row else {"interview_request": None}),
        **_assign_context(task),
        **_comments_context(task),
        "application": task_service.task_application(task),
        "now": utcnow(),
    }


def task_region(task: Task, region: str, region_context: dict, status: int = 200):
    """Re-render one region of the task page (status, schedule, assign, comments) from its own
    context; a request without htmx gets the whole page with that region in it."""
    context = region_context if is_htmx() else {**_page_context(task), **region_context}
    return render("agency/task.html", f"agency/_task_{region}.html", status=status, **context)


@bp.get("/tasks/<int:task_id>")
def task(task_id: int):
    """One task: checklist, completion, skip, reassign, comments, and scheduling for interviews.
    As a fragment: the status region (refreshed when scheduling completes the task)."""
    task = get_task_or_404(task_id)
    return task_region(task, "status", _status_context(task))


@bp.get("/tasks/<int:task_id>/comments/earlier")
def earlier_task_comments(task_id: int):
    """The page of comments before comment ``before`` ("Show earlier comments")."""
    task = get_task_or_404(task_id)
    items = _comment_items_context(task, request.args.get("before", type=int))
    context = items if is_htmx() else {**_page_context(task), **items}
    return render("agency/task.html", "agency/_task_comment_items.html", **context)


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int):
    """Complete the task, or show in place exactly what is missing."""
    task = get_task_or_404(task_id)
    with attempt() as outcome:
        task_service.complete_task(task, current_user)
    if outcome.refusal is not None:
        return task_region(task, "status", _status_context(task, status_error=outcome.refusal.message), 422)
    return task_region(task, "status", _status_context(task))


@bp.post("/tasks/<int:task_id>/skip")
def skip_task(task_id: int):
    """Close a feedback task without a message, with a reason."""
    task = get_task_or_404(task_id)
    form = SkipForm()
    if not form.validate_on_submit():
        error = "Say why the feedback is skipped (at least 5 characters)."
        return task_region(task, "status", _status_context(task, skip_form=form, status_error=error), 422)
    with attempt() as outcome:
        task_service.skip_task(task, current_user, form.reason.data)
    if outcome.refusal is not None:
        error = outcome.refusal.message
        return task_region(task, "status", _status_context(task, skip_form=form, status_error=error), 422)
    return task_region(task, "status", _status_context(task))


@bp.post("/tasks/<int:task_id>/reassign")
def reassign_task(task_id: int):
    """Give the task to a colleague."""
    task = get_task_or_404(task_id)
    form = ReassignForm()
    if not form.validate_on_submit():
        error = form_errors(form, "Choose an active colleague.")
        return task_region(task, "assign", _assign_context(task, reassign_form=form, assign_error=error), 422)
    with attempt() as outcome:
        task_service.reassign_task(task, current_user, form.assignee_id.data)
    if outcome.refusal is not None:
        error = outcome.refusal.message
        return task_region(task, "assign", _assign_context(task, reassign_form=form, assign_error=error), 422)
    return task_region(task, "assign", _assign_context(task, assign_message="Reassigned."))


@bp.post("/tasks/<int:task_id>/comments")
def comment_task(task_id: int):
    """Add a comment to the task."""
    task = get_task_or_404(task_id)
    form = TaskCommentForm()
    if not form.validate_on_submit():
        error = form_errors(form)
        return task_region(task, "comments", _comments_context(task, comment_form=form, comment_error=error), 422)
    if wait := throttle("comment", "STAFF_COMMENT_RATE"):
        error = f"You are going faster than the portal allows. Nothing was saved. {wait.words}"
        context = _comments_context(task, comment_form=form, comment_error=error)
        return retry_after(task_region(task, "comments", context, 429), wait)
    with attempt() as outcome:
        task_service.comment_on_task(task, current_user, form.body.data)
    if outcome.refusal is not None:
        error = outcome.refusal.message
        return task_region(task, "comments", _comments_context(task, comment_form=form, comment_error=error), 422)
    return task_region(task, "comments", _comments_context(task, comment_form=TaskCommentForm(formdata=None)))


@bp.post("/tasks/<int:task_id>/checklist/<int:item_id>")
def checklist_item(task_id: int, item_id: int):
    """Tick or untick a checklist line."""
    task = get_task_or_404(task_id)
    form = ChecklistForm()
    if not form.validate_on_submit():
        error = form_errors(form, "Tick or untick the item.")
        return task_region(task, "status", _status_context(task, status_error=error), 422)
    with attempt() as outcome:
        task_service.set_checklist_item(task, item_id, bool(form.done.data))
    if outcome.refusal is not None:
        return task_region(task, "status", _status_context(task, status_error=outcome.refusal.message), 422)
    return task_region(task, "status", _status_context(task))

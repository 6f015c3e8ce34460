"""A candidate's comment thread with the client (C6), from the agency's side: read it on the
candidate's page and the task, page back through it, answer in it."""

from flask import current_app, request, url_for
from flask_login import current_user

from ...htmx import is_htmx, redirect_for, render
from ...models import Application
from ...ratelimit import retry_after, throttle
from ...scoping import get_application_or_404
from ...services import client_actions, client_comments
from ...unit_of_work import attempt
from . import bp
from .forms import ClientReplyForm, show_refusal

TOO_FAST = "You are going faster than the portal allows. Nothing was saved."


def thread_context(
    application: Application,
    *,
    before_id: int | None = None,
    form: ClientReplyForm | None = None,
    error: str | None = None,
    message: str | None = None,
) -> dict:
    """What ``agency/_client_comments.html`` needs for one application: a page of the thread
    (oldest first, ``COMMENTS_PAGE_SIZE`` long, ending before ``before_id``), whether the client
    can read a reply now, and the reply form."""
    comments, has_earlier = client_actions.comments_page(
        application, current_app.config["COMMENTS_PAGE_SIZE"], before_id=before_id
    )
    return {
        "a": application,
        "comments": comments,
        "has_earlier": has_earlier,
        "before": before_id,
        "shared": client_comments.is_shared_now(application),
        "form": form or reply_form(application, formdata=None),
        "error": error,
        "message": message,
    }


def reply_form(application: Application, **kwargs) -> ClientReplyForm:
    """The reply form of one application's thread; prefixed, so several threads on one page
    (a candidate on several jobs) keep their fields' ids apart."""
    return ClientReplyForm(prefix=f"reply-{application.id}", **kwargs)


def has_thread(application: Application) -> bool:
    """Whether the candidate's page shows a client thread for this application: it was shared."""
    return application.shared_profile is not None


@bp.get("/applications/<int:application_id>/client-comments")
def client_thread(application_id: int):
    """The thread, or (``before``) the page of it before that comment ("Show earlier comments")."""
    application = get_application_or_404(application_id)
    before = request.args.get("before", type=int)
    thread = thread_context(application, before_id=before)
    if before is not None and is_htmx():
        return render("agency/client_thread.html", "agency/_client_comment_items.html", thread=thread)
    return render("agency/client_thread.html", "agency/_client_comments.html", thread=thread)


@bp.post("/applications/<int:application_id>/client-comments")
def reply_to_client(application_id: int):
    """Answer the client in the thread; the thread re-renders in place with the reply in it."""
    application = get_application_or_404(application_id)
    form = reply_form(application)
    if not form.validate_on_submit():
        error = " ".join(form.body.errors) or "Write a reply first."
        return _thread_response(application, form, error, 422)
    if wait := throttle("comment", "STAFF_COMMENT_RATE"):
        return retry_after(_thread_response(application, form, f"{TOO_FAST} {wait.words}", 429), wait)
    with attempt() as outcome:
        client_comments.reply_to_client(current_user, application, form.body.data)
    if outcome.refusal is not None:
        return _thread_response(application, form, show_refusal(form, outcome.refusal), 422)
    if not is_htmx():
        return redirect_for(url_for("agency.client_thread", application_id=application.id))
    return _thread_response(application, reply_form(application, formdata=None), None, 200, message="Reply posted.")


def _thread_response(application: Application, form: ClientReplyForm, error, status: int, message=None):
    thread = thread_context(application, form=form, error=error, message=message)
    return render("agency/client_thread.html", "agency/_client_comments.html", status=status, thread=thread)

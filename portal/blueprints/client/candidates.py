"""A shared candidate's page (C5) and their resume."""

from flask import abort, request
from flask_login import current_user

from ...downloads import VIEWABLE, file_response
from ...htmx import is_htmx, render
from ...models import Application
from ...resume_files import LABELS, extension_for
from ...scoping import get_shared_application_or_404
from ...services import client_actions as actions
from ...services.client_overview import neighbours, shared_resume, shared_video
from ...services.client_profile import client_profile
from . import bp
from .forms import CommentForm
from .interviews import client_interview_context
from .partials import comments_context, decision_context, earlier_comments_context, rating_context
from .seen import record_seen


@bp.get("/candidates/<int:application_id>")
def candidate(slug: str, application_id: int):
    """C5: the prepared profile, resume and video links, rating, comments, actions."""
    application = get_shared_application_or_404(application_id)
    response = render("client/candidate.html", **candidate_context(application))
    record_seen(application, "profile")
    return response


@bp.get("/candidates/<int:application_id>/comments/earlier")
def earlier_comments(slug: str, application_id: int):
    """C6: the page of the thread before comment ``before`` ("Show earlier comments")."""
    application = get_shared_application_or_404(application_id)
    before = request.args.get("before", type=int)
    context = earlier_comments_context(application, before)
    if not is_htmx():
        context = {**candidate_context(application), **context}
    return render("client/candidate.html", "client/_comment_items.html", **context)


@bp.get("/candidates/<int:application_id>/resume")
def resume(slug: str, application_id: int):
    """The shared resume, inline or as a download, only for contacts of that job (never static)."""
    application = get_shared_application_or_404(application_id)
    row = None if _withheld(application) else shared_resume(application)
    if row is None:
        abort(404)
    filename = _safe_filename(application) + extension_for(row.content_type)
    download = bool(request.args.get("download"))
    response = file_response(row.content, row.content_type, filename, download=download)
    # A type no browser shows (a Word file) is always a download, whatever the link asked for.
    inline = not download and row.content_type in VIEWABLE
    record_seen(application, "resume_view" if inline else "resume_download", resume_id=row.id)
    return response


def candidate_context(application: Application, comment_form: CommentForm | None = None) -> dict:
    """client/candidate.html: the profile as the client may see it, and every partial on the page."""
    profile = application.shared_profile
    if profile is None:
        abort(404)  # never shared: outside the client's scope (scoping.py joins the profile anyway)
    withheld = _withheld(application)
    resume = None if withheld else shared_resume(application, with_content=False)
    display_name = actions.client_facing_name(application)
    previous_id, next_id = neighbours(current_user, application)
    return {
        "previous_id": previous_id,
        "next_id": next_id,
        **decision_context(application),
        **rating_context(application, name=display_name),
        **comments_context(application, comment_form),
        **client_interview_context(application),
        "job": application.job,
        "profile": profile,
        "view": client_profile(application, anonymous=withheld),
        "withheld": withheld,
        "video": shared_video(profile),
        "resume": resume,
        "resume_label": LABELS.get(resume.content_type, "file") if resume else None,
        "resume_viewable": resume is not None and resume.content_type in VIEWABLE,
        "display_name": display_name,
    }


def _withheld(application: Application) -> bool:
    """A blind share before any interview request: identity and resume stay hidden (A2a)."""
    return application.id in actions.anonymous_ids([application.id])


def _safe_filename(application: Application) -> str:
    name = "".join(ch for ch in application.candidate.name if ch.isalnum() or ch in " -_").strip() or "candidate"
    return f"{name} - resume"

"""A candidate's files on their page: upload a resume, add a video resume link, and open a resume
(staff of the agency who may see the candidate only)."""

from flask import request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ...downloads import VIEWABLE, file_response
from ...errors import render_error
from ...htmx import is_htmx, redirect_for, render, toast
from ...models import Candidate
from ...resume_files import LABELS
from ...scoping import get_candidate_or_404, get_resume_or_404
from ...services import ServiceError, candidate_files, sharing
from ...unit_of_work import attempt
from . import bp
from .file_forms import ResumeUploadForm, VideoResumeForm
from .forms import show_refusal


def files_context(
    candidate: Candidate,
    *,
    upload_form: ResumeUploadForm | None = None,
    video_form: VideoResumeForm | None = None,
    error: str | None = None,
    message: str | None = None,
) -> dict:
    """What ``agency/_candidate_files.html`` shows: the resumes and videos, newest first, and the
    two forms (as submitted, with their errors, after a refusal)."""
    return {
        "resumes": sharing.candidate_resumes(candidate.id),
        "videos": sharing.candidate_video_resumes(candidate.id),
        "resume_labels": LABELS,
        "viewable": VIEWABLE,
        "upload_form": upload_form or ResumeUploadForm(formdata=None),
        "video_form": video_form or VideoResumeForm(formdata=None),
        "files_error": error,
        "files_message": message,
    }


def _answer(candidate: Candidate, refusal: ServiceError | None, message: str, **forms):
    """The files section again: in place (422, the error beside its field) after a refusal; after a
    success the fresh section for htmx, else back to the candidate's page with a toast."""
    if refusal is not None:
        context = files_context(candidate, error=refusal.message, **forms)
        return render(
            "agency/candidate_files.html", "agency/_candidate_files.html", status=422, candidate=candidate, **context
        )
    if is_htmx():
        return render("agency/_candidate_files.html", candidate=candidate, **files_context(candidate, message=message))
    return toast(redirect_for(url_for("agency.candidate", candidate_id=candidate.id)), message)


def _expired(form: FlaskForm) -> ServiceError:
    errors = " ".join(error for errors in form.errors.values() for error in errors)
    return ServiceError(errors or "The form expired: reload the page and try again.")


@bp.post("/candidates/<int:candidate_id>/resumes")
def upload_resume(candidate_id: int):
    """Upload a resume (PDF or DOCX, at most 10 MB; judged from its content, not its name)."""
    person = get_candidate_or_404(candidate_id)
    form = ResumeUploadForm()
    if not form.validate_on_submit():
        return _answer(person, _expired(form), "", upload_form=form)
    storage = form.resume.data
    if storage is None or not getattr(storage, "filename", None):
        refusal = ServiceError("Resume: choose a PDF or Word (.docx) file to upload.", field="resume")
        show_refusal(form, refusal)
        return _answer(person, refusal, "", upload_form=form)
    filename, content = storage.filename, storage.read()
    with attempt() as outcome:
        candidate_files.add_resume(person, current_user, filename, content)
    show_refusal(form, outcome.refusal)
    return _answer(person, outcome.refusal, "Resume uploaded.", upload_form=form)


@bp.post("/candidates/<int:candidate_id>/videos")
def add_video(candidate_id: int):
    """Add a link to a video resume (https only), with an optional title."""
    person = get_candidate_or_404(candidate_id)
    form = VideoResumeForm()
    if not form.validate_on_submit():
        return _answer(person, _expired(form), "", video_form=form)
    with attempt() as outcome:
        candidate_files.add_video_resume(person, current_user, form.video_url.data or "", form.video_title.data or "")
    show_refusal(form, outcome.refusal)
    return _answer(person, outcome.refusal, "Video resume link added.", video_form=form)


@bp.get("/resumes/<int:resume_id>")
def resume(resume_id: int):
    """A resume as stored: viewed in the browser (PDF, text) or downloaded (``?download=1``)."""
    row = get_resume_or_404(resume_id)
    return file_response(row.content, row.content_type, row.filename, download=bool(request.args.get("download")))


@bp.errorhandler(413)
def _too_large(exc):
    """A body over MAX_CONTENT_LENGTH never reaches the resume checks: say what the limit is."""
    return render_error(413, "File too large", "Resumes can be at most 10 MB: choose a smaller PDF or Word file.")

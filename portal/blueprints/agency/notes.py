"""Notes on candidates and jobs (issue 14): the agency's own remarks, shown with who wrote them
and when (in the reader's zone) and on the page's timeline. Clients never see them."""

from flask import url_for
from flask_login import current_user

from ...htmx import is_htmx, redirect_for, render, toast
from ...scoping import get_candidate_or_404, get_job_or_404
from ...services import notes
from ...unit_of_work import attempt
from . import bp
from .candidates import candidate_page
from .forms import NoteForm, show_refusal
from .jobs import job_page


@bp.post("/candidates/<int:candidate_id>/notes")
def add_candidate_note(candidate_id: int):
    """Add a note to a candidate; the page reloads with it on the list and the timeline."""
    person = get_candidate_or_404(candidate_id)
    form = NoteForm()
    error = None
    if form.validate_on_submit():
        with attempt() as outcome:
            notes.add_candidate_note(person, current_user, form.body.data)
        if outcome.refusal is None:
            return toast(redirect_for(url_for("agency.candidate", candidate_id=person.id)), "Note added.")
        error = show_refusal(form, outcome.refusal)
    if is_htmx():
        action = url_for("agency.add_candidate_note", candidate_id=person.id)
        return _section(form, notes.candidate_notes(person), action, error)
    return candidate_page(person, status=422, note_form=form, note_error=error)


@bp.post("/jobs/<int:job_id>/notes")
def add_job_note(job_id: int):
    """Add a note to a job; the page reloads with it on the list and the timeline."""
    job = get_job_or_404(job_id)
    form = NoteForm()
    error = None
    if form.validate_on_submit():
        with attempt() as outcome:
            notes.add_job_note(job, current_user, form.body.data)
        if outcome.refusal is None:
            return toast(redirect_for(url_for("agency.job", job_id=job.id)), "Note added.")
        error = show_refusal(form, outcome.refusal)
    if is_htmx():
        return _section(form, notes.job_notes(job), url_for("agency.add_job_note", job_id=job.id), error)
    return job_page(job, status=422, note_form=form, note_error=error)


def _section(form: NoteForm, items, action: str, error):
    """The notes section alone, refusal in place (what the form's htmx request swaps)."""
    return render("agency/_notes.html", status=422, note_form=form, notes=items, notes_action=action, note_error=error)

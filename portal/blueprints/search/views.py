"""Recruiter search at ``/search`` (S5) and the staff's import page at ``/search/import`` (S6).

An admin's import reaches the whole agency; a recruiter's only their jobs and the people they may
see (the importer refuses the other rows without naming what they reach)."""

from flask import Blueprint, abort, current_app, request
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from ...htmx import is_htmx, render, toast
from ...services import ServiceError, importer, saved_searches
from ...services import search as search_service
from ...unit_of_work import attempt, batch_unit_of_work
from .forms import ImportForm, SavedSearchForm, SearchForm, ShortlistForm, choices

bp = Blueprint("search", __name__, url_prefix="/search")


@bp.before_request
@login_required
def _only_staff():
    """Search is for agency staff only; contacts never see it."""
    if not current_user.is_staff:
        abort(404)


def search_context(args: MultiDict):
    """The search page's context for the query ``args`` (checked like any typed URL), and its status."""
    form = SearchForm(args)
    form.load_choices(current_user)
    result, status = None, 200
    if form.validate():
        try:
            result = search_service.search_candidates(current_user, form.criteria())
        except ServiceError as exc:
            if exc.field is None:
                raise  # search refusals always name the filter at fault
            getattr(form, exc.field).errors = [exc.message]
            status = 422
    else:
        status = 422
    shortlist = ShortlistForm()
    shortlist.job_id.choices = choices([("", "Choose a job"), *search_service.job_choices(current_user)])
    return {
        "form": form,
        "result": result,
        "shortlist": shortlist,
        "page_args": _page_args,
        "facets_oob": is_htmx(),
        "facet_options": search_service.facet_options,
    }, status


def saved_context(form: SavedSearchForm | None = None, message: str | None = None) -> dict:
    """What ``search/_saved.html`` needs: the user's saved searches and the save form (whose
    hidden query is this page's, for browsers without JavaScript)."""
    form = form or SavedSearchForm(formdata=None, query=request.query_string.decode("utf-8", "replace"))
    return {"saved_searches": saved_searches.saved_searches(current_user), "save_form": form, "saved_message": message}


def _page_args(page: int) -> dict:
    """The current query string with another page number (repeatable keys kept as lists)."""
    args = {key: request.args.getlist(key) for key in request.args if key != "page"}
    return {**args, "page": page}


@bp.get("")
def index():
    """The search page and, for htmx, its results fragment (the URL is the bookmarkable query)."""
    context, status = search_context(request.args)
    # A history restore after a cache miss wants the whole page, not the fragment.
    if request.headers.get("HX-History-Restore-Request") == "true" or not is_htmx():
        return render("search/index.html", status=status, **context, **saved_context())
    return render("search/index.html", "search/_results.html", status=status, **context)


@bp.post("/shortlist")
def shortlist():
    """Bulk "Add to a job's shortlist": applications at the first stage, idempotent."""
    form = ShortlistForm()
    form.job_id.choices = choices([("", "Choose a job"), *search_service.job_choices(current_user)])
    if not form.validate_on_submit():
        return _shortlist_result("Choose a job from the list.", ok=False)
    with attempt() as outcome:
        created = search_service.add_to_shortlist(current_user, form.job_id.data, form.candidate.data or [])
    if outcome.refusal is not None:
        return _shortlist_result(outcome.refusal.message, ok=False)
    count = len(set(form.candidate.data))
    message = f"Added {created} candidate(s) to the shortlist" + (
        f"; {count - created} already on it." if count - created else "."
    )
    return _shortlist_result(message)


def _shortlist_result(message: str, ok: bool = True):
    response = render(
        "search/_shortlist_result.html",
        "search/_shortlist_result.html",
        status=200 if ok else 422,
        message=message,
        ok=ok,
    )
    return toast(response, message, "info" if ok else "error")


@bp.get("/import")
def import_form():
    """The upload page for past applicants (all staff; a recruiter's file reaches only what they see)."""
    return render("search/import.html", form=ImportForm(), report=None)


@bp.post("/import")
def import_upload():
    """Import an uploaded CSV or JSON file; bad rows are reported, good rows kept, and changes to
    people already here listed; a recruiter's rows reach only their jobs and the people they see."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render("search/import.html", "search/_import_result.html", status=422, form=form, report=None)
    upload = form.file.data
    try:
        # A batch of rows per unit of work: clients keep working while a long file imports.
        report = importer.import_file(
            current_user.agency,
            upload.filename or "",
            upload.read(),
            batch=batch_unit_of_work,
            batch_size=current_app.config["IMPORT_BATCH_SIZE"],
            by_user=current_user._get_current_object(),
            override_suppression=form.add_erased.data,
        )
    except ServiceError as refusal:  # the whole file, before any row was written
        form.file.errors = [refusal.message]
        return render("search/import.html", "search/_import_result.html", status=422, form=form, report=None)
    return render(
        "search/import.html",
        "search/_import_result.html",
        form=ImportForm(formdata=None),
        report=report,
        htmx=is_htmx(),
    )

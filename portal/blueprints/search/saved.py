"""Saved searches on the search page (issue 14 item 6): save the search on screen under a name,
re-run one from the list (a link to its query string), delete one. Only the user's own."""

from urllib.parse import parse_qsl

from flask import make_response, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ...htmx import is_htmx, redirect_for, render, toast
from ...services import saved_searches
from ...unit_of_work import attempt
from .forms import SavedSearchForm
from .views import bp, saved_context, search_context


def _saved(status: int = 200, **context):
    html = render_template("search/_saved.html", **saved_context(**context))
    return make_response(html, status)


def _refused(form: SavedSearchForm):
    """The refusal in place: the list's fragment for htmx, else the whole search page again."""
    if is_htmx():
        return _saved(422, form=form)
    context, _ = search_context(MultiDict(parse_qsl(form.query.data or "")))
    return render("search/index.html", status=422, **context, **saved_context(form=form))


def _submitted_search(form: SavedSearchForm) -> list[tuple[str, str]]:
    """The search to save: the search form's fields as they stand (htmx includes them), else, from
    a browser without JavaScript, the query string the page was rendered with."""
    if is_htmx():
        return [(key, value) for key, value in request.form.items(multi=True) if key in saved_searches.SEARCH_KEYS]
    return parse_qsl(form.query.data or "")


@bp.post("/saved")
def save():
    """Save the search on screen under a name; the list re-renders with it."""
    form = SavedSearchForm()
    if not form.validate_on_submit():
        return _refused(form)
    with attempt() as outcome:
        saved = saved_searches.save_search(current_user, form.name.data or "", _submitted_search(form))
    if outcome.refusal is not None:
        form.name.errors = [outcome.refusal.message]
        return _refused(form)
    if not is_htmx():
        return redirect_for(url_for("search.index") + "?" + saved.query)
    message = f"Saved “{saved.name}”."
    return toast(_saved(message=message, form=SavedSearchForm(formdata=None, query=saved.query)), message)


@bp.post("/saved/<int:saved_id>/delete")
def delete_saved(saved_id: int):
    """Delete one of the user's saved searches (someone else's is not there: 404)."""
    if saved_searches.get_saved_search(current_user, saved_id) is None:
        return make_response("", 404)
    with attempt() as outcome:
        deleted = saved_searches.delete_saved_search(current_user, saved_id)
    if outcome.refusal is not None:
        return _saved(422, message=outcome.refusal.message)
    if not is_htmx():
        return redirect_for(url_for("search.index"))
    message = f"Deleted “{deleted.name}”."
    return toast(_saved(message=message), message)

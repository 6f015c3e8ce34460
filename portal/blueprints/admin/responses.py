"""How admin views answer a change: htmx swaps the refreshed partial in, a plain post goes back
to the section (303), so a reload never submits twice."""

from flask import url_for

from ...htmx import is_htmx, redirect_for


def after_change(endpoint: str, render_partial, **values):
    """htmx gets the refreshed partial; a plain post is redirected to the section."""
    if is_htmx():
        return render_partial()
    return redirect_for(url_for(endpoint, **values))

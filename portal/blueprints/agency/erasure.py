"""Erase a candidate (issue 16, admins only): a confirmation page naming what will go, then a POST
that erases in one unit of work and keeps the placeholder (``portal.services.erasure``)."""

from typing import Any

from flask import abort, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from ...htmx import redirect_for, render, toast
from ...scoping import get_candidate_or_404
from ...services import erasure
from ...unit_of_work import attempt
from . import bp


class EraseForm(FlaskForm):
    """The admin confirms they understand the erasure cannot be undone."""

    understood = BooleanField(
        "I understand: this cannot be undone",
        validators=[DataRequired("Tick the box to confirm that this cannot be undone.")],
    )


@bp.route("/candidates/<int:candidate_id>/erase", methods=["GET", "POST"])
def erase_candidate(candidate_id: int):
    """ "Erase candidate": GET shows what will go and what stays; POST erases (admins only)."""
    if not current_user.is_admin:
        abort(404)
    person = get_candidate_or_404(candidate_id)
    form = EraseForm()
    context: dict[str, Any] = {"candidate": person, "form": form, "counts": erasure.erasure_counts(person)}
    if request.method == "GET" or person.erased_at is not None:
        return render("agency/erase.html", status=200 if request.method == "GET" else 422, **context)
    if not form.validate_on_submit():
        return render("agency/erase.html", status=422, **context)
    with attempt() as outcome:
        erasure.erase_candidate(person, current_user)
    if outcome.refusal is not None:
        return render("agency/erase.html", status=422, error=outcome.refusal.message, **context)
    return toast(
        redirect_for(url_for("agency.candidate", candidate_id=person.id)),
        f"Erased: only the placeholder {erasure.placeholder(person.id)} is left.",
    )

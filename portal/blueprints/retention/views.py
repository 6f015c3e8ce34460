"""The page behind a candidate's retention link ("Keep or delete my details").

The candidate never signs in: the signed link is the credential. A GET only shows the question
(mail scanners and link previews follow links, and must not answer for anyone); keeping or
deleting is a POST with the page's CSRF token. A forged or foreign link, or one of a person whose
details are already deleted, shows a page that says so (and names nobody).
"""

from flask import Blueprint, current_app, render_template, request

from ...extensions import limiter
from ...forms import EmptyForm
from ...models import Agency, Candidate
from ...scoping import agency_or_404
from ...services import retention
from ...unit_of_work import attempt

bp = Blueprint("retention", __name__, url_prefix="/<slug>/retention")


def _page(agency: Agency, candidate: Candidate, status: int = 200, **extra):
    return render_template(
        "retention/show.html",
        brand=agency,
        candidate=candidate,
        zone_name=candidate.timezone,
        form=EmptyForm(),
        **extra,
    ), status


def _invalid(agency: Agency):
    return render_template("retention/invalid.html", brand=agency), 404


@bp.get("/<retention_token>")
def show(slug: str, retention_token: str):
    """The question and the two answers (changes nothing)."""
    agency = agency_or_404(slug)
    candidate = retention.check_answer_link(agency.id, retention_token)
    if candidate is None:
        return _invalid(agency)
    return _page(agency, candidate)


@bp.post("/<retention_token>")
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_IP"])
def answer(slug: str, retention_token: str):
    """Keep (``answer=keep``) or delete (``answer=delete``) the details."""
    agency = agency_or_404(slug)
    candidate = retention.check_answer_link(agency.id, retention_token)
    if candidate is None:
        return _invalid(agency)
    with attempt() as outcome:
        choice = retention.answer(candidate, request.form.get("answer", ""))
    if outcome.refusal is not None:
        return _page(agency, candidate, status=422, error=outcome.refusal.message)
    if choice == "delete":
        return render_template("retention/deleted.html", brand=agency), 200
    return _page(agency, candidate, kept=True)

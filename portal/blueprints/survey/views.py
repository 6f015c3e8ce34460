"""The page behind the survey link in a candidate's final e-mail: "How were you treated?".

The candidate never signs in: the signed link is the credential. A GET only shows the question
(mail scanners and link previews follow links and must not answer for anyone); the answer is a
POST with the page's CSRF token. One answer per application; a forged, foreign or expired link
shows a page that says so. Nothing here is ever shown to the client.
"""

from flask import Blueprint, current_app, render_template, request

from ...extensions import limiter
from ...forms import EmptyForm
from ...models import Agency
from ...scoping import agency_or_404
from ...services import survey
from ...unit_of_work import attempt

bp = Blueprint("survey", __name__, url_prefix="/<slug>/survey")


def _page(agency: Agency, link: survey.SurveyLink, status: int = 200, **extra):
    return render_template(
        "survey/show.html",
        brand=agency,
        link=link,
        question=survey.QUESTION,
        scores=survey.SCORES,
        form=EmptyForm(),
        **extra,
    ), status


def _invalid(agency: Agency):
    return render_template("survey/invalid.html", brand=agency), 404


@bp.get("/<survey_token>")
def show(slug: str, survey_token: str):
    """The question and the comment box (changes nothing)."""
    agency = agency_or_404(slug)
    link = survey.check_survey_link(agency, survey_token)
    if link is None:
        return _invalid(agency)
    return _page(agency, link, status=410 if link.state == "expired" else 200)


@bp.post("/<survey_token>")
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_IP"])
def answer(slug: str, survey_token: str):
    """Record the score (``score`` 1–5) and the optional ``comment``."""
    agency = agency_or_404(slug)
    link = survey.check_survey_link(agency, survey_token)
    if link is None:
        return _invalid(agency)
    if link.state == "expired":
        return _page(agency, link, status=410)
    if link.state == "answered":
        return _page(agency, link, status=409, error=survey.ALREADY_ANSWERED)
    score, comment = request.form.get("score", ""), request.form.get("comment", "")
    with attempt() as outcome:
        survey.record_answer(link, score, comment)
    if outcome.refusal is not None:
        refusal = outcome.refusal
        status = 409 if refusal.message == survey.ALREADY_ANSWERED else 422
        extra = {"error": refusal.message, "field": refusal.field, "score": score, "comment": comment}
        return _page(agency, link, status=status, **extra)
    link.state = "answered"
    return _page(agency, link, answered=True)

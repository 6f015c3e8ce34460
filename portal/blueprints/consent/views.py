"""The page behind a candidate's consent link ("Ask the candidate").

The candidate never signs in: the signed link is the credential. A GET only shows the request
(mail scanners and link previews follow links, and must not consent for anyone); agreeing or
declining is a POST with the page's CSRF token. Until the link expires the candidate may change
the answer; a forged, foreign or expired link shows a page that says so.
"""

from flask import Blueprint, current_app, render_template, request

from ...extensions import limiter
from ...forms import EmptyForm
from ...models import Agency
from ...scoping import agency_or_404
from ...services import consent
from ...unit_of_work import attempt

bp = Blueprint("consent", __name__, url_prefix="/<slug>/consent")


def _page(agency: Agency, link: consent.ConsentLink, status: int = 200, **extra):
    return render_template(
        "consent/show.html",
        brand=agency,
        link=link,
        shared=consent.what_is_shared(link),
        zone_name=link.candidate.timezone,
        form=EmptyForm(),
        **extra,
    ), status


def _invalid(agency: Agency):
    return render_template("consent/invalid.html", brand=agency), 404


@bp.get("/<consent_token>")
def show(slug: str, consent_token: str):
    """The request: which client, what they would see, and the current answer (changes nothing)."""
    agency = agency_or_404(slug)
    link = consent.check_consent_link(agency.id, consent_token)
    if link is None:
        return _invalid(agency)
    return _page(agency, link, status=410 if link.state == "expired" else 200)


@bp.post("/<consent_token>")
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_IP"])
def answer(slug: str, consent_token: str):
    """Agree (``answer=given``) or decline (``answer=declined``)."""
    agency = agency_or_404(slug)
    link = consent.check_consent_link(agency.id, consent_token)
    if link is None:
        return _invalid(agency)
    if link.state != "ok":
        return _page(agency, link, status=410)
    with attempt() as outcome:
        consent.answer_consent(link, request.form.get("answer", ""))
    if outcome.refusal is not None:
        return _page(agency, link, status=422, error=outcome.refusal.message)
    return _page(agency, link, answered=True)

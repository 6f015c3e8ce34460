"""A job's page (C4): header, progress, recent activity and the shared candidates by stage."""

from collections import defaultdict

from flask import request, url_for
from flask_login import current_user

from ...htmx import is_htmx, redirect_for, render
from ...models import Application, as_utc, utcnow
from ...scoping import get_job_or_404
from ...services.client_overview import REJECTED_GROUP, card_batch, recent_activity
from . import bp
from .partials import cards_context, progress_context

# Cards rendered per stage at once: a job page with hundreds of shared candidates stays fast, and
# nobody reviews the 60th card before scrolling to it.
CARDS_PER_GROUP = 25


# The job page's filters (``?show=``): all shared candidates, or only those awaiting this
# company's review (neither rejected, nor asked to interview, nor hired).
FILTERS: dict[str, str | None] = {"all": None, "awaiting": "awaiting_review"}


def _show() -> str:
    """The filter in the query string; anything unknown shows everyone."""
    show = request.args.get("show", "all")
    return show if show in FILTERS else "all"


@bp.get("/jobs/<int:job_id>")
def job(slug: str, job_id: int):
    """C4: header with the owner's details, progress, recent activity, cards by stage (the first
    CARDS_PER_GROUP of each stage; the rest load as the contact scrolls)."""
    job = get_job_or_404(job_id)
    show = _show()
    applications, totals = card_batch(current_user, job, CARDS_PER_GROUP, status=FILTERS[show])
    by_stage: dict = defaultdict(list)
    rejected: list[Application] = []
    for application in applications:
        (rejected if application.client_status == "rejected_by_client" else by_stage[application.stage]).append(
            application
        )
    return render(
        "client/job.html",
        owner=job.owner,
        by_stage=by_stage,
        rejected=rejected,
        totals=totals,
        rejected_group=REJECTED_GROUP,
        show=show,
        activity=recent_activity(job.id, job.agency_id),
        days_open=(utcnow() - as_utc(job.opened_at)).days,
        **progress_context(job),
        **cards_context(job, applications),
    )


@bp.get("/jobs/<int:job_id>/cards")
def job_cards(slug: str, job_id: int):
    """The next batch of one stage's cards (htmx, loaded when "Show more" scrolls into view)."""
    job = get_job_or_404(job_id)
    group = request.args.get("group", type=int)
    offset = max(request.args.get("offset", 0, type=int), 0)
    if group is None or not is_htmx():
        return redirect_for(url_for("client.job", slug=slug, job_id=job.id))
    show = _show()
    applications, totals = card_batch(current_user, job, CARDS_PER_GROUP, group, offset, status=FILTERS[show])
    return render(
        "client/job.html",
        "client/_more_cards.html",
        job=job,
        show=show,
        applications=applications,
        group=group,
        shown=offset + len(applications),
        total=totals.get(group, 0),
        **cards_context(job, applications),
    )

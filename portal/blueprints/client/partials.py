"""The context of each swappable part of the client pages, one function per partial: an htmx
handler builds only the part it returns, and the pages compose the same functions."""

import math
from datetime import datetime
from typing import ClassVar

from flask import current_app, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ...models import Application, Job, utcnow
from ...services import client_actions as actions
from ...services.client_actions import RatingSummary
from ...services.client_overview import Progress, progress_by_job, ratings_for
from .forms import CommentForm, RejectReasonForm
from .visits import baseline


class CandidateUrls:
    """URLs of one candidate's views, built from a single ``url_for`` per request: the job page
    needs eight per card, and hundreds of ``url_for`` calls were a third of its render time.
    tests/client/test_client_views.py checks every entry against ``url_for``."""

    SUFFIXES: ClassVar[dict[str, str]] = {
        "candidate": "",
        "resume": "/resume",
        "rate": "/rating",
        "comment": "/comments",
        "earlier_comments": "/comments/earlier",
        "request_interview": "/interview",
        "hire": "/hire",
        "reject": "/reject",
        "undo_reject": "/undo-reject",
        "reject_reason": "/reject-reason",
    }

    def __init__(self, slug: str):
        self.prefix = url_for("client.candidate", slug=slug, application_id=0)[:-1]

    def of(self, endpoint: str, application_id: int) -> str:
        """The URL of ``endpoint`` (a key of SUFFIXES) for one application."""
        return f"{self.prefix}{application_id}{self.SUFFIXES[endpoint]}"


def decision_context(
    application: Application,
    *,
    on: str | None = None,
    error: str | None = None,
    saved: str | None = None,
    reason_form: RejectReasonForm | None = None,
    focus: str | None = None,
    announce: str | None = None,
    now: datetime | None = None,
) -> dict:
    """client/_decision.html: the status, the actions it allows, Undo (with the seconds it has
    left, counted down by portal.js) and the reason form. ``on`` is "job" for a card on the job
    page; ``focus`` and ``announce`` say where keyboard focus goes and what the live region says
    after the swap."""
    now = now or utcnow()
    undo_until = actions.undo_deadline(application, now)
    return {
        "a": application,
        "on": on,
        "error": error,
        "saved": saved,
        "reason_form": reason_form or reason_form_for(application, formdata=None),
        "undo_until": undo_until,
        "undo_seconds": math.ceil((undo_until - now).total_seconds()) if undo_until else None,
        "focus": focus,
        "announce": announce,
    }


def rating_context(
    application: Application,
    *,
    summary: RatingSummary | None = None,
    name: str | None = None,
    on: str | None = None,
    error: str | None = None,
) -> dict:
    """client/_rating.html: the contact's stars and everyone's average; ``summary`` and ``name``
    (as the client sees the candidate) when the caller has them already."""
    return {
        "a": application,
        "rating": summary or actions.rating_summary(application, current_user),
        "name": name or actions.client_facing_name(application),
        "on": on,
        "error": error,
    }


def comments_context(application: Application, form: CommentForm | None = None) -> dict:
    """client/_comments.html: the newest page of the thread, oldest first, and the form to add to it."""
    return {**earlier_comments_context(application), "comment_form": form or CommentForm(formdata=None)}


def earlier_comments_context(application: Application, before_id: int | None = None) -> dict:
    """client/_comment_items.html: one page of the thread ending before comment ``before_id``."""
    comments, has_earlier = actions.comments_page(
        application, current_app.config["COMMENTS_PAGE_SIZE"], before_id=before_id
    )
    return {"a": application, "comments": comments, "has_earlier": has_earlier, "before": before_id}


def progress_context(job: Job) -> dict:
    """client/_progress.html: the job's counters for this contact ("new" since this visit began)."""
    progress = progress_by_job(current_user, baseline(), [job.id]).get(job.id, Progress())
    return {"job": job, "progress": progress}


def cards_context(job: Job, applications: list[Application]) -> dict:
    """What the card macro of client/_macros.html needs for these applications, in a fixed number
    of queries however many there are."""
    ids = [a.id for a in applications]
    reasons = actions.rejection_reasons(job.agency_id)
    return {
        "ratings": ratings_for(current_user, ids),
        "anonymous": actions.anonymous_ids(ids),
        "reason_forms": {
            a.id: reason_form_for(a, reasons, formdata=None)
            for a in applications
            if a.client_status == "rejected_by_client"
        },
    }


def reason_form_for(application: Application, reasons=None, **kwargs) -> RejectReasonForm:
    """The reason form of one card: prefixed, so many cards on a page keep unique field ids."""
    form = RejectReasonForm(
        prefix=f"app{application.id}", reason_id=application.reason_id, comment=application.outcome_comment, **kwargs
    )
    reasons = reasons if reasons is not None else actions.rejection_reasons(application.agency_id)
    form.reason_id.choices = [SelectChoice("", "Choose a reason")] + [SelectChoice(r.id, r.label) for r in reasons]
    return form

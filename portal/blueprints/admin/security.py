"""The security log for admins (issue 12, SPEC P4): sign-ins, failures, links, account changes."""

from flask import request
from flask_login import current_user

from ...htmx import render
from ...models import SECURITY_EVENT_KINDS
from ...services import security_log
from . import bp


@bp.get("/security")
def security():
    """The agency's security events, newest first, 50 a page, optionally of one kind."""
    kind = request.args.get("kind") or None
    if kind not in SECURITY_EVENT_KINDS:
        kind = None
    page = request.args.get("page", 1, type=int) or 1
    events = security_log.agency_events(current_user.agency_id, kind=kind, page=page)
    return render(
        "admin/security.html", "admin/_security_events.html", events=events, kind=kind, kinds=SECURITY_EVENT_KINDS
    )

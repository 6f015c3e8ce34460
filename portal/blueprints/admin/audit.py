"""The audit log for admins (issue 16): staff actions that touched personal data, filtered by
query-string keys (action, actor, from, to, candidate) and exportable as CSV (``format=csv``)."""

from flask import make_response, request
from flask_login import current_user

from ...downloads import content_disposition
from ...htmx import render
from ...services import audit_log
from ...templating import viewer_zone
from . import bp
from .forms import AuditFilterForm


@bp.get("/audit")
def audit():
    """The agency's audit entries, newest first, 50 a page; bad filters are shown in place (422)."""
    form = AuditFilterForm(request.args)
    form.load_choices(list(audit_log.ACTION_LABELS.items()), audit_log.actor_choices(current_user.agency_id))
    zone_name = viewer_zone()
    if not form.validate():
        return render(
            "admin/audit.html", "admin/_audit_entries.html", status=422, form=form, entries=None, filter_args={}
        )
    filters = form.filters(zone_name)
    if request.args.get("format") == "csv":
        response = make_response(audit_log.audit_csv(current_user.agency_id, filters))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        response.headers["Content-Disposition"] = content_disposition("attachment", "audit-log.csv")
        response.headers["Cache-Control"] = "private, no-store"
        return response
    page = request.args.get("page", 1, type=int) or 1
    entries = audit_log.audit_page(current_user.agency_id, filters, page=page)
    return render(
        "admin/audit.html",
        "admin/_audit_entries.html",
        form=form,
        entries=entries,
        filter_args={key: value for key, value in request.args.items() if key in _FILTER_KEYS and value},
        labels=audit_log.ACTION_LABELS,
        detail_text=audit_log.detail_text,
    )


_FILTER_KEYS = ("action", "actor", "from", "to", "candidate")

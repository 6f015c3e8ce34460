"""Subject access (issue 16): an admin's "Export everything we hold" on the candidate page."""

from flask import Response, abort, stream_with_context
from flask_login import current_user

from ...downloads import content_disposition
from ...models import utcnow
from ...scoping import get_candidate_or_404
from ...services import subject_access
from ...unit_of_work import unit_of_work
from . import bp


@bp.post("/candidates/<int:candidate_id>/export")
def export_candidate(candidate_id: int):
    """A ZIP of every row and file the agency holds about the candidate, with a README; the
    export is recorded in the audit log. Admins only (a POST, so no prefetcher exports)."""
    if not current_user.is_admin:
        abort(404)  # as the other admin-only actions: recruiters are not told it exists
    person = get_candidate_or_404(candidate_id)
    now = utcnow()
    with unit_of_work():
        export = subject_access.export_candidate(person, current_user, now=now)
    response = Response(stream_with_context(subject_access.zip_chunks(export, now=now)), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition("attachment", export.filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

"""Agency administration (spec B1, B2) and the mail outbox for admins (M1). Only the agency's
admins reach these pages; everyone else gets a 404, as if the pages did not exist.

Each section is one page that includes its partial; htmx requests get the partial back, plain
form posts are redirected (303) after a change. A refusal re-renders the form with status 422 and
the message on the field at fault; nothing is saved. One module per resource registers its routes
on ``bp``.
"""

from flask import Blueprint, abort
from flask_login import current_user, login_required

from ...errors import render_error

bp = Blueprint("admin", __name__, url_prefix="/admin")

SECTIONS = [
    ("admin.branding_edit", "Branding"),
    ("admin.users", "Users"),
    ("admin.companies", "Clients"),
    ("admin.stages", "Pipeline stages"),
    ("admin.reasons", "Reasons"),
    ("admin.deadlines", "Decision deadlines"),
    ("admin.profile_templates", "Profile templates"),
    ("admin.email_templates", "Email templates"),
    ("admin.outbox", "Mail outbox"),
    ("admin.security", "Security log"),
    ("admin.audit", "Audit log"),
    ("admin.retention_policy", "Retention"),
]


@bp.before_request
@login_required
def _only_admins():
    """Admin pages exist only for the agency's admins."""
    if not (current_user.is_staff and current_user.is_admin):
        abort(404)


@bp.context_processor
def _sections():
    return {"admin_sections": SECTIONS}


@bp.errorhandler(413)
def _too_large(exc):
    """A body over MAX_CONTENT_LENGTH never reaches the logo checks: say what the limit is."""
    return render_error(
        413,
        "File too large",
        "That upload is larger than the server accepts. "
        "Logos can be at most 2 MB: choose a smaller PNG, JPEG or WebP file.",
    )


# The resource modules register their routes on ``bp``, so they can only be imported once it exists.
from . import audit, branding, clients, deadlines, home, outbox, people, pipeline, retention, security, templates  # noqa: E402, F401

"""The mail outbox (M1): what has not gone out, and a retry for what failed."""

from flask import url_for

from ...forms import EmptyForm
from ...htmx import redirect_for, render
from ...models import MailOutbox
from ...scoping import get_scoped_or_404, unsent_mail
from ...services import mail as mail_service
from ...unit_of_work import unit_of_work
from . import bp


@bp.get("/outbox")
def outbox():
    """Messages not yet sent or failed for good, newest first, with the last error."""
    return render("admin/outbox.html", messages=unsent_mail(), form=EmptyForm())


@bp.post("/outbox/<int:message_id>/retry")
def retry(message_id: int):
    """Queue a failed message again."""
    message = get_scoped_or_404(MailOutbox, message_id)
    with unit_of_work():
        mail_service.retry(message)
    return redirect_for(url_for("admin.outbox"))

"""The mail outbox (M1): what has not gone out, and a retry for what failed."""

from flask import abort, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...forms import EmptyForm
from ...htmx import redirect_for, render
from ...models import MailOutbox
from ...services import mail as mail_service
from . import bp


@bp.get("/outbox")
def outbox():
    """Messages not yet sent or failed for good, newest first, with the last error."""
    messages = db.session.scalars(
        select(MailOutbox)
        .where(MailOutbox.agency_id == current_user.agency_id, MailOutbox.status != "sent")
        .order_by(MailOutbox.id.desc())
        .limit(200)
    ).all()
    return render("admin/outbox.html", messages=messages, form=EmptyForm())


@bp.post("/outbox/<int:message_id>/retry")
def retry(message_id: int):
    """Queue a failed message again."""
    message = db.session.scalar(
        select(MailOutbox).where(MailOutbox.id == message_id, MailOutbox.agency_id == current_user.agency_id)
    )
    if message is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    mail_service.retry(message)
    db.session.commit()
    return redirect_for(url_for("admin.outbox"))

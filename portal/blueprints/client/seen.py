"""Recording what a contact looked at (issue 16 item 4) from pages that otherwise only read."""

import logging

from flask import request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ...models import Application, utcnow
from ...services import profile_views
from ...unit_of_work import is_lock_timeout, unit_of_work

log = logging.getLogger(__name__)


def record_seen(application: Application, kind: str, *, resume_id: int | None = None) -> None:
    """Record that the signed-in contact saw ``application`` (``kind``: profile, resume_view,
    resume_download), in a unit of work of its own.

    Called after the response is built, so the write lock is taken for one INSERT and its
    commit, never while the page renders. The record is worth less than the page: a database
    too busy to take it (or refusing it) is logged and the page is served all the same."""
    if request.method != "GET":
        return  # a HEAD fetches no page and no file
    application_id = application.id
    try:
        with unit_of_work():
            profile_views.record_profile_view(
                current_user._get_current_object(), application, kind, resume_id=resume_id, now=utcnow()
            )
    except SQLAlchemyError as error:
        if is_lock_timeout(error):
            log.warning("The %s of application %s was not recorded: the database was busy.", kind, application_id)
        else:
            log.exception("The %s of application %s was not recorded.", kind, application_id)

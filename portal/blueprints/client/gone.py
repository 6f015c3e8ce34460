"""The answer to an action on a candidate who is no longer shared: the refusal and nothing else."""

from flask import abort

from ...htmx import render
from ...services import ServiceError
from ...services.client_actions import NoLongerShared


def gone(message: str):
    """Only ``message`` (C10), never the candidate's name or profile (A2): 409, in place for htmx
    (an alert there, so no toast repeats it)."""
    return render("client/gone.html", "client/_gone.html", status=409, message=message)


def refuse_if_gone(refusal: ServiceError | None) -> None:
    """Turn an unshare that happened during the action into the message-only answer."""
    if isinstance(refusal, NoLongerShared):
        abort(gone(refusal.message))

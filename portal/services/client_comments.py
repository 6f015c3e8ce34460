"""The agency's side of a candidate's comment thread with the client (C6): the agency reads the
client's comments beside the candidate and the task, and answers in the same thread. A reply is
read by the contacts of the job's client company, on the candidate's portal page, which shows
only while the candidate is shared with them."""

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Application, ClientContact, Comment, User
from . import ServiceError
from .activity import record_for
from .client_actions import client_facing_name, post_to_thread
from .mail import absolute_url, send_mail


def is_shared_now(application: Application) -> bool:
    """Whether the job's contacts can read the thread right now (the candidate is shared)."""
    profile = application.shared_profile
    return profile is not None and profile.unshared_at is None


def reply_to_client(user: User, application: Application, body: str, *, now: datetime | None = None) -> Comment:
    """Answer the client in the candidate's thread, as ``user``, and e-mail each contact who took
    part in the thread (one message each). Refused while the candidate is not shared: nobody at
    the client could read it."""
    if not is_shared_now(application):
        raise ServiceError(
            "This candidate is not shared with the client, so they can't read a reply. Nothing was sent.",
            field="body",
        )
    comment = post_to_thread(application, user, body, now=now)
    body = comment.body
    shown = client_facing_name(application)
    for contact in thread_participants(application):
        send_mail(
            contact.agency,
            "client.comment_reply",
            contact.email,
            f"{user.name} replied about {shown}: {application.job.title}",
            "agency_notice",
            greeting=contact.name,
            paragraphs=[
                f"{user.name} ({user.agency.title}) replied in the comments on {shown} for {application.job.title}:",
                *[p.strip() for p in body.split("\n\n") if p.strip()],
            ],
            url=absolute_url("client.candidate", slug=contact.agency.slug, application_id=application.id),
            label="Open the comments",
        )
    record_for(
        application,
        "agency.replied_to_client",
        f"{user.name} replied in the comments on {client_facing_name(application)}",
        actor=user,
        client_visible=True,
        now=now,
    )
    return comment


def thread_participants(application: Application) -> list[ClientContact]:
    """The active contacts of the job's client company who commented in the thread: the people
    in the conversation, told of a reply (the rest of the company reads it on the page)."""
    commented = select(Comment.author_contact_id).where(
        Comment.application_id == application.id, Comment.author_contact_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(ClientContact)
            .where(
                ClientContact.id.in_(commented),
                ClientContact.company_id == application.job.company_id,
                ClientContact.active.is_(True),
            )
            .order_by(ClientContact.id)
        )
    )

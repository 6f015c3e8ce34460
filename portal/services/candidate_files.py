"""A candidate's files: uploaded resumes (PDF, DOCX) and video resume links (A2, C5).

An upload is judged by its content (``portal.resume_files``), its text is stored for search (the
search outbox picks the new row up with the rest of the transaction) and it is recorded on the
timeline. Several resumes per candidate, newest first; the share form offers each of them.
"""

import re
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import urlsplit

from ..extensions import db
from ..models import Candidate, Resume, User, VideoResume, as_utc, utcnow
from ..resume_files import LABELS, UnreadableResume, extension_for, read_resume
from . import ServiceError
from .activity import record

HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def add_resume(
    candidate: Candidate, by_user: User, filename: str, content: bytes, *, now: datetime | None = None
) -> Resume:
    """Store an uploaded resume for ``candidate``: a PDF or DOCX (judged from the bytes) of at most
    10 MB, neither encrypted nor damaged, with its text extracted for search. Refusals name the
    field ``resume``."""
    now = as_utc(now or utcnow())
    try:
        upload = read_resume(content)
    except UnreadableResume as refusal:
        raise ServiceError(f"Resume: {refusal}", field="resume") from refusal
    name = stored_filename(filename, upload.content_type)
    resume = Resume(
        agency_id=candidate.agency_id,
        candidate_id=candidate.id,
        filename=name,
        content_type=upload.content_type,
        content=content,
        text=upload.text,
        uploaded_at=now,
    )
    db.session.add(resume)
    db.session.flush()
    record(
        candidate.agency_id,
        "resume.uploaded",
        f"Uploaded the resume {name} ({LABELS[upload.content_type]}) for {candidate.name}",
        actor=by_user,
        candidate_id=candidate.id,
        resume_id=resume.id,
        now=now,
    )
    return resume


def stored_filename(filename: str, content_type: str) -> str:
    """The name a file is kept under: the chosen name without any folder, ending in the extension
    of its real type ("cv.png" that is a PDF becomes "cv.pdf")."""
    base = PureWindowsPath(PurePosixPath(filename or "").name).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    stem = base.rsplit(".", 1)[0].strip() if "." in base else base
    extension = extension_for(content_type)
    return f"{(stem or 'resume')[: 255 - len(extension)]}{extension}"


def add_video_resume(
    candidate: Candidate, by_user: User, url: str, title: str = "", *, now: datetime | None = None
) -> VideoResume:
    """Add a link to a video resume: an https address on a named host (no credentials in it); the
    title is optional (the host stands in). Refusals name the field ``video_url``."""
    now = as_utc(now or utcnow())
    url = check_video_url(url)
    title = " ".join((title or "").split())[:200] or f"Video resume ({urlsplit(url).hostname})"
    video = VideoResume(agency_id=candidate.agency_id, candidate_id=candidate.id, url=url, title=title, created_at=now)
    db.session.add(video)
    db.session.flush()
    record(
        candidate.agency_id,
        "video_resume.added",
        f"Added the video resume “{title}” for {candidate.name}",
        actor=by_user,
        candidate_id=candidate.id,
        video_resume_id=video.id,
        now=now,
    )
    return video


def check_video_url(url: str) -> str:
    """``url`` trimmed when it is a plain https link to a named host, else a ``ServiceError``."""
    url = (url or "").strip()
    if not url:
        raise ServiceError("Video resume link: enter the https:// address of the video.", field="video_url")
    if len(url) > 1000 or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ServiceError("Video resume link: this is not a web address.", field="video_url")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() != "https":
        raise ServiceError(
            "Video resume link: only secure https:// links are accepted (not http:, javascript: or others).",
            field="video_url",
        )
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port_ok = parts.port is None or parts.port > 0
    except (ValueError, UnicodeError):
        host, port_ok = "", False
    if not HOST.match(host) or not port_ok or parts.username is not None or parts.password is not None:
        raise ServiceError(
            "Video resume link: this is not a web address (https://host.example/path).", field="video_url"
        )
    return url

"""Headers for files served to a browser."""

import unicodedata
from urllib.parse import quote

from flask import Response, make_response


def content_disposition(disposition: str, filename: str) -> str:
    """``Content-Disposition`` for ``filename`` whatever its script (RFC 6266): a plain ASCII
    ``filename`` for old clients and ``filename*`` in UTF-8 for the rest. A header value is
    Latin-1 on the wire, so "Łukasz Wójcik - resume.pdf" or "王伟 - resume.pdf" written as is
    made the download fail with a 500."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(ch for ch in ascii_name if ch.isalnum() or ch in " .-_").strip(" .-_")
    fallback = ascii_name if any(ch.isalnum() for ch in ascii_name.rsplit(".", 1)[0]) else "download"
    if "." in filename and not fallback.endswith(filename[filename.rindex(".") :]):
        fallback += filename[filename.rindex(".") :]
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Types a browser may show in the tab: a PDF in its viewer, plain text as text. Everything else
# (a Word file) is always a download.
VIEWABLE = frozenset({"application/pdf", "text/plain"})


def file_response(content: bytes, content_type: str, filename: str, *, download: bool) -> Response:
    """A stored file as a response: its stored type (text with its charset), ``filename`` in an
    RFC 6266 ``Content-Disposition`` (inline only for a type a browser can show), never sniffed,
    never cached. The site's strict CSP stays on it too: Chromium's PDF viewer draws under it
    (tests/e2e/test_candidate_files.py looks at the drawn page)."""
    response = make_response(content)
    response.headers["Content-Type"] = (
        f"{content_type}; charset=utf-8" if content_type == "text/plain" else content_type
    )
    inline = not download and content_type in VIEWABLE
    response.headers["Content-Disposition"] = content_disposition("inline" if inline else "attachment", filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response

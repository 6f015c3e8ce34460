"""Headers for files served to a browser."""

import unicodedata
from urllib.parse import quote


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

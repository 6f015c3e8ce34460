"""Static files with versioned URLs, long caching and gzip.

``url_for('static', filename=...)`` adds ``v=<content hash>``: a versioned URL names one content
for ever, so it is cached for a year as ``immutable``; a changed file gets a new URL, so nobody
keeps an old stylesheet after a deploy. An unversioned or stale ``v`` is served ``no-cache`` (with
an ETag, so a revalidation costs a 304).

Text files (CSS, JavaScript, SVG, icons) are gzipped once per content and kept in memory: the
standard library's gzip, not a compression middleware, because only these few public files are
compressed. Pages and fragments stay uncompressed on purpose: they carry the CSRF token next to
text a visitor can reflect, which compression would leak (BREACH).
"""

import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join

# One year: the longest lifetime caches honour; the URL changes whenever the content does.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "image/x-icon")
# Below this size gzip saves less than its own header costs.
MIN_COMPRESS_BYTES = 512


@dataclass(frozen=True)
class StaticFile:
    """One static file as served: its bytes, their gzip (when worth it) and the content hash."""

    content: bytes
    gzipped: bytes | None
    digest: str
    mimetype: str


_cache: dict[str, tuple[tuple[int, int], StaticFile]] = {}


def static_file(filename: str) -> StaticFile | None:
    """The file under the static folder (None when there is none), read again when it changed."""
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None
    if path is None or not os.path.isfile(path):
        return None
    stat = os.stat(path)
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with open(path, "rb") as handle:
        content = handle.read()
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    gzipped = None
    if mimetype.startswith(COMPRESSIBLE) and len(content) >= MIN_COMPRESS_BYTES:
        # mtime=0: the same content always gives the same bytes (stable ETag and length).
        gzipped = gzip.compress(content, compresslevel=9, mtime=0)
        if len(gzipped) >= len(content):
            gzipped = None
    entry = StaticFile(content, gzipped, hashlib.sha256(content).hexdigest()[:16], mimetype)
    _cache[path] = (stamp, entry)
    return entry


def _version_static_urls(endpoint: str, values: dict) -> None:
    """``url_defaults``: every static URL carries its content hash as ``v``."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    entry = static_file(values["filename"])
    if entry is not None:
        values["v"] = entry.digest


def serve_static(filename: str) -> Response:
    """The static view: versioned URLs cached for a year, gzip when the browser accepts it."""
    entry = static_file(filename)
    if entry is None:
        abort(404)
    use_gzip = entry.gzipped is not None and request.accept_encodings["gzip"] > 0
    body = entry.gzipped if use_gzip and entry.gzipped is not None else entry.content
    textual = entry.mimetype.startswith("text/") or entry.mimetype == "application/javascript"
    response = Response(body, content_type=f"{entry.mimetype}; charset=utf-8" if textual else entry.mimetype)
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    if entry.gzipped is not None:
        response.vary.add("Accept-Encoding")
    response.set_etag(entry.digest + ("-gz" if use_gzip else ""))
    response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == entry.digest else REVALIDATE
    response.make_conditional(request)  # a 304 for a matching If-None-Match, in place
    return response


def init_app(app: Flask) -> None:
    """Version every ``url_for('static', …)`` and serve static files through :func:`serve_static`."""
    app.url_defaults(_version_static_urls)
    app.view_functions["static"] = serve_static

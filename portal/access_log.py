"""Keep sign-in tokens out of logs, and development servers on this machine.

A ``/<slug>/link/<token>``, ``/account/set-password/<token>`` or ``/account/reset-password/<token>``
URL signs someone in (or lets them choose a password) for as long as the token lives; an access log
that keeps it hands that power to whoever reads the log. Every request line, path, query, referrer
and header written by gunicorn's access log (``gunicorn.conf.py``) or Werkzeug's development server
passes through :func:`redact`.
"""

import logging
import re
from collections.abc import Iterable
from ipaddress import ip_address

from gunicorn.glogging import Logger

TOKEN_IN_URL = re.compile(r"(/link/|/set-password/|/reset-password/|/consent/|/survey/)[^/?#\s\"']+")
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """``text`` with every link, set-password, reset-password, consent or survey token replaced by ``<redacted>``."""
    return TOKEN_IN_URL.sub(r"\1" + REDACTED, text)


class RedactingLogger(Logger):
    """gunicorn's logger, with tokens redacted from every access-log field."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


class RedactingFilter(logging.Filter):
    """For Werkzeug's request log (``flask run``): the formatted line, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_werkzeug_log() -> None:
    """Install :class:`RedactingFilter` on Werkzeug's logger (once)."""
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(existing, RedactingFilter) for existing in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactingFilter())


def is_loopback_bind(address: str) -> bool:
    """True for ``127.0.0.1:8000``, ``[::1]:8000``, ``localhost:8000`` and ``unix:`` sockets."""
    if address.startswith("unix:"):
        return True
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 or address.startswith("[") else address
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_public_bind_in_development(binds: Iterable[str], env_name: str | None) -> None:
    """Development mode (mail viewer, everyone's sign-in links) serves this machine only."""
    public = [address for address in binds if not is_loopback_bind(address)]
    if env_name == "development" and public:
        raise SystemExit(
            f"PORTAL_ENV=development serves this machine only; refusing to listen on {', '.join(public)}. "
            "Bind 127.0.0.1 (HOST unset), or run with PORTAL_ENV=production and a SECRET_KEY."
        )

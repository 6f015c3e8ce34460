"""gunicorn settings for the Procfile's ``web`` process (read from the repository root)."""

import os

from portal.access_log import RedactingLogger, refuse_public_bind_in_development

# Access-log lines without sign-in or set-password tokens (``/acme/link/<redacted>``).
logger_class = RedactingLogger


def on_starting(server):
    """Development mode never listens beyond this machine."""
    refuse_public_bind_in_development(server.cfg.bind, os.environ.get("PORTAL_ENV"))

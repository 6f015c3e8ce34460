"""gunicorn settings for the Procfile's ``web`` process (read from the repository root)."""

import os

from portal.access_log import RedactingLogger, refuse_public_bind_in_development

# Access-log lines without sign-in or set-password tokens (``/acme/link/<redacted>``).
logger_class = RedactingLogger


def on_starting(server):
    """Development mode never listens beyond this machine."""
    refuse_public_bind_in_development(server.cfg.bind, os.environ.get("PORTAL_ENV"))


def post_worker_init(worker):
    """Production serves only with rate-limit counters every worker shares (``flask db upgrade``
    and the mail worker count nothing, so the check is here, not in ``create_app``). A worker that
    fails this does not boot, and gunicorn stops with the message."""
    from portal.ratelimit import check_web_storage

    check_web_storage(worker.wsgi, worker.cfg.workers)

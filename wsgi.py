"""Entry point for gunicorn (``wsgi:app``) and for ``flask`` run from the repository root."""

from portal import create_app

app = create_app()

"""The portal app plus one trivial endpoint, so the framework's own cost is measured in the
same gunicorn, same process, same run as the real pages."""

from portal import create_app

app = create_app()


@app.get("/_bench/noop")
def noop():
    """Nothing but Flask, the middleware and the security headers."""
    return "ok"

"""Keeps the Meilisearch rediscovery index in step with the database. Search only: the process
that drives the sync is the portal's worker, which also sends mail."""


def init_app(app) -> None:
    """Outbox rows on every flush that changes a search document, and the ``flask search`` commands."""
    from . import cli, outbox

    outbox.init_app(app)
    cli.init_app(app)

"""The Meilisearch client, configured from the Flask app."""

import meilisearch
from flask import current_app


def meili_client(timeout: int | None = None) -> meilisearch.Client:
    """A client for the configured server. ``Accept-Encoding: identity`` avoids the gzip
    keep-alive stall measured in SEARCH_NOTES.md."""
    return meilisearch.Client(
        current_app.config["MEILI_URL"],
        current_app.config.get("MEILI_MASTER_KEY"),
        timeout=timeout or current_app.config["MEILI_TIMEOUT"],
        custom_headers={"Accept-Encoding": "identity"},
    )

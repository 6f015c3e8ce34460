"""Keeps the Meilisearch rediscovery index in step with the database, and runs the worker."""

"""Talking to Meilisearch: create an index with its settings, push documents, wait for tasks.

One invalid document fails its whole task, so a failed batch is split in halves until the bad
documents are isolated; the good ones are indexed and the bad ones reported back.
"""

import logging

import meilisearch
from flask import current_app
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError
from meilisearch.models.task import TaskInfo

from .client import meili_client
from .settings import INDEX_SETTINGS

log = logging.getLogger(__name__)

UNREACHABLE = (MeilisearchCommunicationError, MeilisearchTimeoutError)


class SearchUnavailable(Exception):
    """Meilisearch could not be reached or did not finish in time: retry later, lose nothing."""


def task_timeout_ms() -> int:
    """How long to wait for a task: bulk loads take far longer than the client's 5 s default."""
    return int(current_app.config.get("MEILI_TASK_TIMEOUT_MS", 120_000))


def client() -> meilisearch.Client:
    """A client with a timeout long enough for document uploads."""
    return meili_client(timeout=max(current_app.config["MEILI_TIMEOUT"], 10))


def wait(meili: meilisearch.Client, task_uid: int):
    """Wait for one task to finish; a timeout or lost connection means Meilisearch is unavailable."""
    try:
        return meili.wait_for_task(task_uid, timeout_in_ms=task_timeout_ms(), interval_in_ms=25)
    except UNREACHABLE as exc:
        raise SearchUnavailable(str(exc)) from exc


def call(function, *args, **kwargs):
    """Run a client call, turning connection problems into ``SearchUnavailable``."""
    try:
        return function(*args, **kwargs)
    except UNREACHABLE as exc:
        raise SearchUnavailable(str(exc)) from exc


def index_exists(meili: meilisearch.Client, uid: str) -> bool:
    """Whether the index exists (connection problems raise ``SearchUnavailable``)."""
    try:
        call(meili.get_index, uid)
        return True
    except MeilisearchApiError as exc:
        if exc.code == "index_not_found":
            return False
        raise


def ensure_index(meili: meilisearch.Client, uid: str) -> None:
    """Create the index with its settings when missing; settings go first (a later change re-indexes)."""
    if index_exists(meili, uid):
        return
    create_index(meili, uid)


def create_index(meili: meilisearch.Client, uid: str) -> None:
    """A new, empty index with the rediscovery settings applied and waited for."""
    task = wait(meili, call(meili.create_index, uid, {"primaryKey": "id"}).task_uid)
    if task.status != "succeeded" and (task.error or {}).get("code") != "index_already_exists":
        raise RuntimeError(f"creating index {uid} failed: {task.error}")
    apply_settings(meili, uid)


def apply_settings(meili: meilisearch.Client, uid: str) -> None:
    """Apply INDEX_SETTINGS and wait until they are in force."""
    task = wait(meili, call(meili.index(uid).update_settings, INDEX_SETTINGS).task_uid)
    if task.status != "succeeded":
        raise RuntimeError(f"settings for index {uid} failed: {task.error}")


def push(meili: meilisearch.Client, uid: str, documents: list[dict], deletions: list[str]) -> dict[str, str]:
    """Upsert and delete, waiting for both tasks. Returns {document id: error} for refused documents."""
    index = meili.index(uid)
    refused: dict[str, str] = {}
    if deletions:
        task = wait(meili, call(_delete_batch, index, deletions).task_uid)
        if task.status != "succeeded":
            raise RuntimeError(f"deleting documents failed: {task.error}")
    if documents:
        refused = _add_isolating(meili, index, documents)
    return refused


def _add_isolating(meili, index, documents: list[dict]) -> dict[str, str]:
    """Add documents; on a failed task split the batch in halves until the bad ones stand alone."""
    task = wait(meili, call(index.add_documents, documents, primary_key="id").task_uid)
    if task.status == "succeeded":
        return {}
    error = (task.error or {}).get("message") or str(task.error)
    if len(documents) == 1:
        log.warning("document %s refused by Meilisearch: %s", documents[0].get("id"), error)
        return {str(documents[0].get("id")): error}
    middle = len(documents) // 2
    return {**_add_isolating(meili, index, documents[:middle]), **_add_isolating(meili, index, documents[middle:])}


def _delete_batch(index, ids: list[str]) -> TaskInfo:
    """POST ``documents/delete-batch``: the client's ``delete_documents(ids)`` warns it is deprecated,
    but the route itself is the documented way to delete by id."""
    paths = index.config.paths
    return TaskInfo(**index.http.post(f"{paths.index}/{index.uid}/{paths.document}/delete-batch", list(ids)))

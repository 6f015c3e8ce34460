"""Index settings for the rediscovery index, applied before any document is loaded."""

from flask import current_app


def _filter(attributes: list[str], comparison: bool = False, facet_search: bool = False) -> dict:
    """A granular filterable-attributes rule: equality-only unless comparison is needed."""
    return {
        "attributePatterns": attributes,
        "features": {"facetSearch": facet_search, "filter": {"equality": True, "comparison": comparison}},
    }


SEARCHABLE = ["name", "headline", "current_title", "current_company", "skills", "tags", "emails", "resume_text"]

INDEX_SETTINGS = {
    "searchableAttributes": SEARCHABLE,
    "filterableAttributes": [
        _filter(
            [
                "agency_id",
                "visibility",
                "has_active",
                "job_ids",
                "job_stage_keys",
                "tags",
                "reason_ids",
                "location",
                "sources",
                "has_strong_no",
            ]
        ),
        _filter(["max_stage", "positive_ratio", "last_in_process_at"], comparison=True),
    ],
    "sortableAttributes": ["last_in_process_at"],
    "typoTolerance": {"disableOnAttributes": ["emails"], "disableOnNumbers": True},
    # Halved indexing time in the measured experiment; phrase relevance matters little for people.
    "proximityPrecision": "byAttribute",
    "pagination": {"maxTotalHits": 10000},
    "faceting": {"maxValuesPerFacet": 1000},
}


def index_name() -> str:
    """The live index's name (``MEILI_INDEX``)."""
    return current_app.config["MEILI_INDEX"]


def staging_name() -> str:
    """Where a full reindex builds before the swap; while it exists the worker holds off."""
    return index_name() + "_new"

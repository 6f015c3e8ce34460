"""``flask search reindex|check|status``."""

import click
from flask import Flask
from flask.cli import AppGroup

search_cli = AppGroup("search", help="The Meilisearch rediscovery index.")


def init_app(app: Flask) -> None:
    """Register the ``flask search`` group."""
    app.cli.add_command(search_cli)


@search_cli.command("reindex")
def reindex_command():
    """Rebuild the index from the database into a new index, swap it in, replay the outbox."""
    from .reindex import reindex

    with click.progressbar(length=1, label="Indexing candidates", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        result = reindex(progress)
    click.echo(
        f"Indexed {result['documents']} candidate(s); {result['refused']} refused (parked); "
        f"replayed {result['replayed']} outbox row(s) written since mark {result['mark']}."
    )


@search_cli.command("check")
def check_command():
    """Compare document counts per agency with the database; exit 1 on drift."""
    from .reindex import drift

    problems = drift()
    if not problems:
        click.echo("Index matches the database.")
        return
    for problem in problems:
        click.echo(f"drift: agency {problem['agency']}: database {problem['database']}, index {problem['index']}")
    raise SystemExit(1)


@search_cli.command("status")
def status_command():
    """Outbox backlog, parked rows with their errors, and the index's document count."""
    from . import outbox
    from .indexer import SearchUnavailable, call, client, index_exists
    from .settings import index_name, staging_name

    click.echo(f"index: {index_name()}")
    click.echo(f"outbox pending: {outbox.backlog()}")
    parked_rows = outbox.parked_rows()
    click.echo(f"outbox parked: {len(parked_rows)}")
    for row in parked_rows:
        click.echo(f"  parked {row.entity} {row.entity_id} (agency {row.agency_id}): {row.last_error}")
    try:
        meili = client()
        if index_exists(meili, index_name()):
            stats = call(meili.index(index_name()).get_stats)
            click.echo(f"documents: {stats.number_of_documents}")
        else:
            click.echo("documents: index does not exist yet")
        if index_exists(meili, staging_name()):
            click.echo(f"reindex in progress ({staging_name()} exists): the worker waits for it")
    except SearchUnavailable as exc:
        click.echo(f"Meilisearch unreachable: {exc}")

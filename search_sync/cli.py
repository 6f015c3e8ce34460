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
@click.option("--fix", is_flag=True, help="Queue the differing documents for the worker to rewrite.")
def check_command(fix: bool):
    """Compare every document's content hash with the database's; exit 1 on any difference."""
    from portal.unit_of_work import unit_of_work

    from .check import check, repair
    from .indexer import SearchUnavailable

    try:
        result = check()
    except SearchUnavailable as exc:
        click.echo(f"Meilisearch unreachable: {exc}")
        raise SystemExit(1) from exc
    if result.ok and not result.in_flight:
        click.echo(f"Index matches the database: {result.checked} document(s) compared.")
        return
    if result.ok:
        click.echo(
            f"Index matches the database except {result.in_flight} document(s) waiting in the outbox "
            f"(the worker applies them; see flask search status): {result.checked} compared."
        )
        return
    for agency in result.agencies:
        click.echo(
            f"agency {agency.agency}: {len(agency.stale)} stale, {len(agency.missing)} missing, "
            f"{len(agency.extra)} extra"
        )
        for label, ids in (("stale", agency.stale), ("missing", agency.missing), ("extra", agency.extra)):
            if ids:
                shown = ", ".join(ids[:20]) + (f" … and {len(ids) - 20} more" if len(ids) > 20 else "")
                click.echo(f"  {label}: {shown}")
    if fix:
        with unit_of_work():
            queued = repair(result)
        click.echo(f"Queued {queued} document(s) for the worker to rewrite.")
    else:
        click.echo("Run with --fix to queue them for the worker.")
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

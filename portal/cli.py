"""``flask`` commands: demo data, demo links, the worker."""

import json

import click
from flask import Flask
from flask.cli import with_appcontext


def init_app(app: Flask) -> None:
    """Register the commands.

    Each command carries ``with_appcontext`` itself: ``app.cli.add_command`` (unlike
    ``app.cli.command``) does not add it, and without it the commands fail with "Working outside
    of application context" when invoked through ``app.cli`` directly (``app.test_cli_runner()``).
    """
    app.cli.add_command(alerts_group)
    app.cli.add_command(demo_load)
    app.cli.add_command(demo_links_command)
    app.cli.add_command(worker_command)


@click.group("alerts")
def alerts_group():
    """Alert emails for recruiters."""


@alerts_group.command("digest")
@with_appcontext
def alerts_digest_command():
    """Email each digest-preferring user one message with their alerts not emailed yet."""
    from .services.alerts import send_digests
    from .unit_of_work import unit_of_work

    with unit_of_work():
        sent = send_digests()
    click.echo(f"Queued {sent} digest(s).")


@click.command("demo-load")
@with_appcontext
def demo_load():
    """Load the demo agencies, people, jobs and candidates (idempotent)."""
    from .demo import load_demo

    click.echo("Demo data loaded." if load_demo() else "Demo data already present.")


@click.command("demo-links")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for scripts.")
@with_appcontext
def demo_links_command(as_json: bool):
    """Print sign-in details for every demo principal."""
    from .demo import demo_links

    records = demo_links()
    if not records:
        raise click.ClickException("No demo data: run `flask demo-load` first.")
    for record in records:
        if as_json:
            click.echo(json.dumps(record))
        elif record["role"] == "client":
            click.echo(f"  [{record['agency']}] client {record['email']} ({record['company']}): {record['url']}")
        else:
            click.echo(
                f"  [{record['agency']}] {record['role']} {record['email']} / {record['password']}: "
                f"{record['login_url']}"
            )


@click.command("worker")
@click.option("--once", is_flag=True, help="Drain what is due once and exit.")
@with_appcontext
def worker_command(once: bool):
    """Run the background worker: mail outbox and search outbox."""
    from search_sync.worker import run

    run(once=once)

"""``flask`` commands: demo data, demo links, the worker, the past-applicant import, backups."""

import json
import logging

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from .backup import backup_command


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
    app.cli.add_command(import_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(retention_cli)


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
    from .unit_of_work import unit_of_work

    with unit_of_work():
        loaded = load_demo()
    click.echo("Demo data loaded." if loaded else "Demo data already present.")


@click.command("demo-links")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for scripts.")
@with_appcontext
def demo_links_command(as_json: bool):
    """Print sign-in details for every demo principal."""
    from .demo import demo_links
    from .unit_of_work import unit_of_work

    with unit_of_work():  # a landing link not yet issued is issued now
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
    """Run the background worker: mail outbox and search outbox (``python -m portal worker``)."""
    from .worker import run

    # The worker is a process of its own: its progress goes to stderr, where the Procfile's
    # supervisor collects it (a no-op when the caller configured logging already).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run(once=once)


import_cli = AppGroup("import", help="Import past applicants.")


@import_cli.command("candidates")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--agency", "agency_slug", help="Agency slug (needed when several agencies exist).")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Rows saved together (default: the IMPORT_BATCH_SIZE setting, 200).",
)
@click.option(
    "--add-erased",
    is_flag=True,
    help="Import rows whose e-mail belongs to a person who asked to be erased (logged in the audit log); "
    "without it such rows are refused.",
)
def import_candidates_command(path: str, agency_slug: str | None, batch_size: int | None, add_erased: bool):
    """Import past applicants from a CSV or an ATS-style JSON export (see README).

    The good rows are saved a batch at a time, so the portal stays usable while a long file
    imports; bad rows are listed and skipped, and the command then exits with status 1. What the
    import changed on people already in the agency is listed by row. Importing a file again
    changes nothing it saved.
    """
    from flask import current_app
    from sqlalchemy import select

    from .extensions import db
    from .models import Agency
    from .services import ServiceError
    from .services.importer import import_file
    from .unit_of_work import batch_unit_of_work

    agencies = db.session.scalars(select(Agency).order_by(Agency.id)).all()
    if agency_slug:
        agencies = [a for a in agencies if a.slug == agency_slug]
    if len(agencies) != 1:
        raise click.ClickException("Name the agency with --agency SLUG." if agencies else "No such agency.")
    with open(path, "rb") as handle:
        content = handle.read()
    with click.progressbar(length=1, label="Importing", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            report = import_file(
                agencies[0],
                path,
                content,
                on_progress=progress,
                batch=batch_unit_of_work,
                batch_size=batch_size or current_app.config["IMPORT_BATCH_SIZE"],
                override_suppression=add_erased,
            )
        except ServiceError as refusal:  # the whole file, before any row was written
            raise click.ClickException(refusal.message) from None
    click.echo(report.summary())
    for problem in report.problems:
        click.echo(f"  {problem}")
    if report.changes:
        click.echo("Changes to people already in the agency:")
        for change in report.changes:
            click.echo(f"  {change}")
    if report.problems:
        # Scripts and CI must notice a partial import: the good rows are saved, the others are not.
        raise click.exceptions.Exit(1)


reminders_cli = AppGroup("reminders", help="Client decision reminders, deadline checks and escalations.")


@reminders_cli.command("run")
def reminders_run_command():
    """Perform one scheduled pass now (what the worker does every minute): reminders, deadline
    checks and escalations, each at most once however often it runs. Prints what it did; exits
    with status 1 when a step failed (the log says why)."""
    from .services import scheduled

    report = scheduled.run_pass(group="reminders")
    if not report:
        click.echo("Nothing is scheduled.")
    for name, counts in report.items():
        done = ", ".join(f"{what}: {count}" for what, count in counts.items()) or "nothing to do"
        click.echo(f"{name}: {done}")
    if any(counts.get("failed") for counts in report.values()):
        raise SystemExit(1)


retention_cli = AppGroup("retention", help="The retention policy: ask inactive candidates, anonymise on no answer.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Print who would be asked or anonymised; change nothing.")
def retention_run_command(dry_run: bool):
    """Perform the retention pass now (the worker does it every minute), for every agency whose
    policy is on: ask inactive candidates once, anonymise those who asked or did not answer in
    time. With --dry-run, print who would be asked or anonymised, by agency, for every agency
    (policy on or off) and change nothing. Exits with status 1 when the pass failed."""
    from sqlalchemy import select

    from .extensions import db
    from .models import Agency
    from .services import retention, scheduled

    if dry_run:
        for agency in db.session.scalars(select(Agency).order_by(Agency.id)):
            found = retention.cases(agency)
            state = "on" if agency.retention_enabled else "off"
            click.echo(f"{agency.slug} (policy {state}, {agency.retention_months} months): {len(found)} candidate(s)")
            for case in found:
                verb = {"ask": "would be asked", "waiting": "asked, waiting", "anonymise": "would be anonymised"}
                click.echo(
                    f"  #{case.candidate_id} {case.name}: {verb[case.action]}"
                    f" (last activity {case.last_activity_at:%Y-%m-%d})"
                )
        return
    report = scheduled.run_pass(group="retention")
    for name, counts in report.items():
        done = ", ".join(f"{what}: {count}" for what, count in counts.items()) or "nothing to do"
        click.echo(f"{name}: {done}")
    if any(counts.get("failed") for counts in report.values()):
        raise SystemExit(1)

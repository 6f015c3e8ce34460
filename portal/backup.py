"""``flask backup FILE``: an online backup of a SQLite database (README, "Backup and restore").

SQLite's backup API copies the database page by page through a connection of its own: the web
and worker processes carry on (in WAL mode a reader never blocks a writer), and the copy is one
consistent snapshot, committed transactions only. Resumes live in the database, so the copy holds
them too. PostgreSQL is backed up with its own tools (``pg_dump -Fc``), never here.
"""

import os
import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url


class BackupRefused(click.ClickException):
    """A backup that cannot be taken, with the reason for the operator."""


def sqlite_database_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL; refuses any other database, naming the right tool."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(
            f"flask backup copies SQLite databases; this one is {parsed.get_backend_name()}: "
            "use pg_dump -Fc (see README, Backup and restore)."
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("The database is in memory: there is no file to back up.")
    return Path(parsed.database)


def backup_sqlite(source: Path, destination: Path) -> int:
    """Copy ``source`` to ``destination`` with SQLite's online backup API, checked, in one step
    (one read snapshot: writers carry on meanwhile). Written beside the destination first and
    renamed into place, so a failed backup never leaves a half-written file under its name.
    Returns the copy's size in bytes."""
    if not source.is_file():
        raise BackupRefused(f"No database at {source}.")
    if destination.exists():
        raise BackupRefused(f"{destination} exists: choose a new file name (a backup never overwrites).")
    if not destination.parent.is_dir():
        raise BackupRefused(f"No folder {destination.parent}: create it first.")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, destination)
    return destination.stat().st_size


def _copy(source: Path, target: Path) -> None:
    reader = sqlite3.connect(source)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
        (verdict,) = writer.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupRefused(f"The copy failed its integrity check: {verdict}")
        # One self-contained file: the copy keeps no write-ahead log beside it.
        writer.execute("PRAGMA journal_mode=DELETE")
    finally:
        writer.close()
        reader.close()


@click.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(destination: Path):
    """Take an online backup of the SQLite database into DESTINATION (a new file) while the web
    and worker processes keep running. Restore: stop them, put the file in place of the
    database, start them, run flask search reindex (README, Backup and restore)."""
    source = sqlite_database_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    size = backup_sqlite(source, destination)
    click.echo(f"Backed up {source} to {destination} ({size} bytes).")

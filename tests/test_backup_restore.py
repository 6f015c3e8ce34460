"""Backup and restore as the README documents them (issue 16, item 5): a seeded database is backed
up while the app is open, restored into a new database, the search index is rebuilt from it with
``flask search reindex`` into a fresh Meilisearch index, and every candidate is found again
through search.

SQLite: ``flask backup FILE`` (SQLite's online backup API), restored by putting the file in
place. PostgreSQL: ``pg_dump -Fc`` and ``pg_restore`` into a scratch database."""

import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from portal.demo import load_demo
from portal.extensions import db
from portal.models import Candidate, CandidateEmail, User, utcnow
from portal.services.search import Criteria, search_candidates
from portal.unit_of_work import unit_of_work
from search_sync.client import meili_client
from search_sync.reindex import indexable_candidates

ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder of the test's own (not under pytest's basetemp, which concurrent runs prune)."""
    path = Path(tempfile.mkdtemp(prefix="portal-backup-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fresh_index(app, meili) -> Iterator[str]:
    """The name of a Meilisearch index nobody has used, deleted afterwards."""
    name = f"test_restore_{uuid.uuid4().hex[:10]}"
    yield name
    with app.app_context():
        for uid in (name, name + "_new"):
            meili_client(timeout=5).delete_index(uid)


def seed_demo() -> dict[int, tuple[int, str]]:
    """The demo data; returns, for each candidate that search must show, (agency id, e-mail)."""
    with unit_of_work():
        assert load_demo(now=utcnow())
    searchable = {candidate_id for _, candidate_id in db.session.execute(indexable_candidates())}
    emails = db.session.execute(
        select(Candidate.id, Candidate.agency_id, func.min(CandidateEmail.email))
        .join(CandidateEmail, CandidateEmail.candidate_id == Candidate.id)
        .group_by(Candidate.id, Candidate.agency_id)
    )
    expected = {
        candidate_id: (agency_id, email) for candidate_id, agency_id, email in emails if candidate_id in searchable
    }
    assert len(expected) >= 10, "the demo should give search something to find"
    return expected


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def reindex_and_find_everyone(app, expected: dict[int, tuple[int, str]], counts: dict[str, int]) -> None:
    """In the restored app: the rows are all there; ``flask search reindex`` indexes every
    searchable candidate, and a search for each one's e-mail finds them (through Meilisearch)."""
    with app.app_context():
        assert row_counts() == counts
        result = app.test_cli_runner().invoke(args=["search", "reindex"])
        assert result.exit_code == 0, result.output
        assert f"Indexed {len(expected)} candidate(s); 0 refused" in result.output
        admins = {u.agency_id: u for u in db.session.scalars(select(User).where(User.role == "admin"))}
        lost = []
        for candidate_id, (agency_id, email) in sorted(expected.items()):
            found = search_candidates(admins[agency_id], Criteria(q=email, include_active=True))
            assert not found.degraded, found.notice
            if candidate_id not in {hit["candidate_id"] for hit in found.hits}:
                lost.append((candidate_id, email))
        assert lost == []
        db.session.remove()


def test_a_sqlite_backup_taken_while_the_app_runs_restores_and_search_finds_everyone(make_app, folder, fresh_index):
    database = folder / "portal.db"
    live = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    with live.app_context():
        upgrade()
        expected = seed_demo()
        counts = row_counts()
        db.session.remove()

    # The app is open: its pool holds connections, and another writer is mid-transaction.
    writer = sqlite3.connect(database)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE candidate SET first_name = 'Uncommitted'")
        writer.execute("DELETE FROM candidate_tag")
        backup = folder / "backup.db"
        result = live.test_cli_runner().invoke(args=["backup", str(backup)])
        assert result.exit_code == 0, result.output
        assert f"to {backup}" in result.output
        writer.commit()  # after the snapshot: not in the backup
    finally:
        writer.close()
    again = live.test_cli_runner().invoke(args=["backup", str(backup)])
    assert again.exit_code != 0 and "never overwrites" in again.output
    nowhere = live.test_cli_runner().invoke(args=["backup", str(folder / "missing" / "b.db")])
    assert nowhere.exit_code != 0 and "create it first" in nowhere.output
    assert not list(folder.glob("*.partial")) and not (folder / "missing").exists()

    # Restore as documented: the backup file in place of the database, then a reindex.
    restored = folder / "restored" / "portal.db"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{restored}", MEILI_INDEX=fresh_index, SEARCH_BACKOFF_SECONDS=0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Candidate.first_name == "Uncommitted")) == 0
        db.session.remove()
    reindex_and_find_everyone(app, expected, counts)


def test_backup_refuses_a_postgresql_database_and_names_pg_dump(make_app, folder):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:5432/nowhere")
    result = app.test_cli_runner().invoke(args=["backup", str(folder / "x.db")])
    assert result.exit_code != 0 and "pg_dump -Fc" in result.output
    assert not (folder / "x.db").exists()


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty PostgreSQL database to restore into, dropped afterwards."""
    name = f"portal_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgresql_only
def test_a_pg_dump_taken_while_the_app_runs_restores_and_search_finds_everyone(
    app, make_app, database_url, folder, fresh_index, scratch_database
):
    with app.app_context():
        expected = seed_demo()
        counts = row_counts()
        # The app is mid-transaction while the dump runs: pg_dump's snapshot leaves it out.
        db.session.execute(Candidate.__table__.update().values(first_name="Uncommitted"))
        dump = folder / "portal.dump"
        libpq_url = database_url.replace("postgresql+psycopg://", "postgresql://")
        subprocess.run(["pg_dump", "-Fc", f"--file={dump}", libpq_url], check=True, timeout=120)
        db.session.rollback()
        db.session.remove()

    scratch_url = libpq_url.rsplit("/", 1)[0] + f"/{scratch_database}"
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={scratch_url}", str(dump)],
        check=True,
        timeout=120,
    )
    app_url = database_url.rsplit("/", 1)[0] + f"/{scratch_database}"
    restored = make_app(SQLALCHEMY_DATABASE_URI=app_url, MEILI_INDEX=fresh_index, SEARCH_BACKOFF_SECONDS=0)
    with restored.app_context():
        assert db.session.scalar(select(func.count()).where(Candidate.first_name == "Uncommitted")) == 0
        db.session.remove()
    reindex_and_find_everyone(restored, expected, counts)

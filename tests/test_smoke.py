"""The harness itself: migrations build the schema the models describe, on this database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from portal.extensions import db
from search_sync.facts import schema_compared
from tests.factories import make_tenant


def test_migrations_match_models(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": schema_compared})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_tenant_factory_builds_a_world(ctx):
    tenant = make_tenant("acme-agency")
    assert tenant.application.shared_profile is not None
    assert tenant.unshared_application.shared_profile is None
    assert [s.name for s in tenant.agency.stages][:3] == ["Sourced", "Screening", "Submitted"]


def test_postgresql_connections_run_without_jit(ctx):
    """PostgreSQL's JIT compiled the scoreboard's whole-history figures for longer than they ran."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's JIT setting: SQLite has none")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"

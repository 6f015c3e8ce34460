"""The harness itself: migrations build the schema the models describe, on this database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db
from tests.factories import make_tenant


def test_migrations_match_models(ctx):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_tenant_factory_builds_a_world(ctx):
    tenant = make_tenant("acme-agency")
    assert tenant.application.shared_profile is not None
    assert tenant.unshared_application.shared_profile is None
    assert [s.name for s in tenant.agency.stages][:3] == ["Sourced", "Screening", "Submitted"]

"""No N+1: a client page costs the same number of queries for 3 or 60 shared candidates."""

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests.conftest import login_as
from tests.factories import make_application, make_tenant


def queries_for(app, client, path: str) -> int:
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


@pytest.mark.parametrize("page", ["home", "job"])
def test_client_pages_do_not_query_per_candidate(app, client, page):
    with app.app_context():
        tenant = make_tenant("countco")
        login_as(client, tenant.contact)
        path = "/countco/portal/" if page == "home" else f"/countco/portal/jobs/{tenant.job.id}"
        client.get(path)  # first visit writes last_visit_at; measure steady state
        small = queries_for(app, client, path)
        for _ in range(57):
            make_application(tenant.job)
        db.session.commit()
    large = queries_for(app, client, path)
    assert large == small, f"{page}: {small} queries with 3 candidates, {large} with 60"

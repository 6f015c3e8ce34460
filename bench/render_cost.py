"""Benchmark: what one client page costs the server, without queueing.

Single-threaded, in-process (Flask test client) on a fresh SQLite database: median and p95 of
the time per request and the number of SQL statements, for the job page with N shared
candidates and for the trivial endpoint in the same run.

    .venv/bin/python bench/render_cost.py [--candidates 200] [--requests 100]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="render-cost-")
    os.environ.update(PORTAL_ENV="development", DATABASE_URL=f"sqlite:///{directory}/bench.db")

    from flask_migrate import upgrade
    from sqlalchemy import event

    from bench.bench_wsgi import app
    from portal import sessions
    from portal.extensions import db
    from portal.models import utcnow
    from tests.factories import make_application, make_tenant

    with app.app_context():
        upgrade()
        tenant = make_tenant("bench")
        for _ in range(args.candidates - 1):
            make_application(tenant.job)
        db.session.commit()
        session_id, job_path = tenant.contact.get_id(), f"/bench/portal/jobs/{tenant.job.id}"
        engine = db.engine
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session.update(sessions.fresh_fields(utcnow()))
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *_: statements.append(1))

    print(f"{args.requests} requests each, one thread, SQLite, {args.candidates} shared candidates")
    print(f"{'target':34} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name, path in (("trivial endpoint (baseline)", "/_bench/noop"), ("client job page", job_path)):
        assert client.get(path).status_code == 200
        timings = []
        for _ in range(args.requests):
            statements.clear()
            start = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - start) * 1000)
        p95 = statistics.quantiles(timings, n=20)[18]
        print(f"{name:34} {statistics.median(timings):10.2f} {p95:8.2f} {len(statements):8d}")


if __name__ == "__main__":
    main()

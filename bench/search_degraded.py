"""Benchmark: degraded search (the database, Meilisearch unreachable) against healthy search (issue 11).

Seeds N candidates (default 10,000, all in one agency: the worst case for the degraded path) with
the generator of ``bench/search.py``, indexes them into its own Meilisearch, then runs a few
typical queries through ``portal.services.search.search_candidates`` twice per round, interleaved:
once with Meilisearch up (healthy) and once through an app whose ``MEILI_URL`` points at a closed
port (degraded: the refused connection, then the database path). Reports median and p95 of each
and the ratio degraded / healthy, measured in the same run. Figures, not a test.

    .venv/bin/python bench/search_degraded.py [--candidates 10000] [--agencies 1] [--rounds 40] [--reuse]

``--reuse`` (with ``BENCH_DATABASE_URL``): a database this benchmark seeded before is migrated to
the head and measured again without seeding (the PostgreSQL seed takes minutes).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import percentile, seed  # noqa: E402
from tests.servers import MeilisearchServer, free_port  # noqa: E402


def workload(agency: dict) -> list[tuple[str, dict]]:
    """Named typical queries (Criteria keyword arguments) for the agency's recruiter."""
    jobs = [j for i, j in enumerate(agency["jobs"]) if i % 10]  # not the confidential ones
    return [
        ("default page (no words, no filters)", {}),
        ("one word", {"q": "python"}),
        ("one word, prefix as typed", {"q": "kuber"}),
        (
            "two words + 2 reasons + reached stage",
            {"q": "python sql", "reasons": agency["reasons"][:2], "stage": agency["stages"][3]},
        ),
        (
            "word + jobs at stage + date + no strong no",
            {
                "q": "aws",
                "jobs": jobs[:2],
                "stage": agency["stages"][2],
                "last_before": date(2026, 1, 1),
                "exclude_strong_no": True,
            },
        ),
        (
            "filters only: location + tag + min positive",
            {"location": "London, UK", "tags": ["python"], "min_positive": 25},
        ),
        (
            "include active, sorted by last in process, page 3",
            {"include_active": True, "sort": "last_in_process", "page": 3},
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--agencies", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="measure a database this benchmark seeded before")
    args = parser.parse_args()
    rng = random.Random(11)
    workdir = tempfile.mkdtemp(prefix="search-degraded-bench-")
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    meili = MeilisearchServer().start()
    common = {"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": database_url, "MEILI_INDEX": "candidates"}
    report: dict = {"args": vars(args), "cores": os.cpu_count(), "database": database_url.split(":", 1)[0]}
    try:
        from flask_migrate import upgrade

        from portal import create_app

        healthy = create_app({**common, "MEILI_URL": meili.url, "MEILI_MASTER_KEY": meili.master_key})
        # Nothing listens on this port: every search is refused at once and degrades.
        down = create_app(
            {**common, "MEILI_URL": f"http://127.0.0.1:{free_port()}", "MEILI_MASTER_KEY": meili.master_key}
        )
        with healthy.app_context():
            upgrade()
        started = time.perf_counter()
        info = seeded(healthy) if args.reuse else None
        report["reused"] = info is not None
        if info is None:
            info = seed(healthy, args.candidates, args.agencies, rng)
        report["seed_s"] = round(time.perf_counter() - started, 1)
        if database_url.startswith("postgresql"):
            # What autovacuum does within a minute of a bulk load: planner statistics (and no dead
            # rows from the seed's delete-and-insert of the search facts).
            with healthy.app_context():
                from portal.extensions import db

                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
        how = "reused the seeded" if report["reused"] else "seeded"
        print(f"{how} {args.candidates} candidates in {report['seed_s']} s")
        from search_sync.reindex import reindex

        with healthy.app_context():
            started = time.perf_counter()
            indexed = reindex()["documents"]
        print(f"indexed {indexed} documents in {time.perf_counter() - started:.1f} s")
        report["queries"] = measure(healthy, down, info["agencies"][0], args.rounds)
        out_dir = ROOT / "bench" / "results"
        out_dir.mkdir(exist_ok=True)
        out = out_dir / f"search-degraded-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(report, indent=2, default=str))
        print(f"raw figures: {out.relative_to(ROOT)}")
    finally:
        meili.close()
        shutil.rmtree(workdir, ignore_errors=True)


def seeded(app) -> dict | None:
    """What ``seed`` returned, read back from a database it seeded before (None: not seeded)."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import Agency, Candidate, Job, Reason, StageDefinition

    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.slug == "bench0"))
        if agency is None:
            return None
        by_id = {
            "jobs": select(Job.id).where(Job.agency_id == agency.id).order_by(Job.id),
            "stages": select(StageDefinition.id)
            .where(StageDefinition.agency_id == agency.id)
            .order_by(StageDefinition.position),
            "reasons": select(Reason.id).where(Reason.agency_id == agency.id).order_by(Reason.id),
        }
        return {
            "agencies": [
                {
                    "id": agency.id,
                    "size": db.session.scalar(select(func.count()).where(Candidate.agency_id == agency.id)),
                    "admin": "admin@bench0.example",
                    "recruiter": "rec@bench0.example",
                    **{key: list(db.session.scalars(query)) for key, query in by_id.items()},
                }
            ]
        }


def measure(healthy, down, agency: dict, rounds: int) -> list[dict]:
    """Each query ``rounds`` times on each path, interleaved, after one warm-up of each."""
    from portal.extensions import db
    from portal.models import User
    from portal.services.search import Criteria, search_candidates

    results = []
    times: dict[str, dict[str, list[float]]] = {}
    for name, spec in workload(agency):
        times[name] = {"healthy": [], "degraded": []}
        totals = {}
        for _ in range(rounds + 1):
            for label, app in (("healthy", healthy), ("degraded", down)):
                with app.app_context():
                    who = db.session.scalar(db.select(User).where(User.email == agency["recruiter"]))
                    started = time.perf_counter()
                    result = search_candidates(who, Criteria(**spec))
                    times[name][label].append((time.perf_counter() - started) * 1000)
                    assert result.degraded == (label == "degraded") and result.notice is None, (label, result.notice)
                    totals[label] = (result.total, result.approximate)
                    db.session.remove()
        row = {"query": name, "spec": spec, "totals": totals}
        for label in ("healthy", "degraded"):
            values = times[name][label][1:]  # the first of each is the warm-up
            row[f"{label}_p50_ms"] = round(statistics.median(values), 1)
            row[f"{label}_p95_ms"] = round(percentile(values, 95), 1)
        row["ratio_p50"] = round(row["degraded_p50_ms"] / row["healthy_p50_ms"], 2)
        row["ratio_p95"] = round(row["degraded_p95_ms"] / row["healthy_p95_ms"], 2)
        results.append(row)
        print(
            f"{name:52} healthy {row['healthy_p50_ms']:7.1f} / {row['healthy_p95_ms']:7.1f} ms   "
            f"degraded {row['degraded_p50_ms']:7.1f} / {row['degraded_p95_ms']:7.1f} ms   "
            f"ratio p50 {row['ratio_p50']:5.2f} p95 {row['ratio_p95']:5.2f}   totals {totals}"
        )
    every = {label: [v for name in times for v in times[name][label][1:]] for label in ("healthy", "degraded")}
    overall = {
        "query": "all of the above",
        **{f"{label}_p50_ms": round(statistics.median(every[label]), 1) for label in every},
        **{f"{label}_p95_ms": round(percentile(every[label], 95), 1) for label in every},
    }
    overall["ratio_p50"] = round(overall["degraded_p50_ms"] / overall["healthy_p50_ms"], 2)
    overall["ratio_p95"] = round(overall["degraded_p95_ms"] / overall["healthy_p95_ms"], 2)
    print(f"overall: {overall}")
    results.append(overall)
    return results


if __name__ == "__main__":
    main()

"""Benchmark: the scoreboard page against the jobs list, same run (issue 15 item 4).

Seeds a fresh database (SQLite in a temp folder; ``BENCH_DATABASE_URL=postgresql+psycopg://…`` for
PostgreSQL) with bulk inserts: one agency with N applications (one candidate each) on N/200 jobs
of 50 client companies and 20 recruiters, 1–4 stage moves each, 60 % shared (feedback due dates,
5 % unshared), client feedback on 70 % of shares, interviews on 25 %, hire requests, survey
answers, profile views and "informed by" dates; plus a second agency of N/10 applications that
must not count. Then, single-threaded and in-process (Flask test client, as ``render_cost.py``),
requests the jobs list (``/agency/``) and the scoreboard variants interleaved, ``--rounds`` times
each after a warm-up, and reports median and p95 in ms, the statements per page, and each
scoreboard variant's median and p95 as a ratio to the jobs list's. Figures, not a test.

    .venv/bin/python bench/scoreboard.py [--applications 10000] [--rounds 30]
"""

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VERBS = ("client.rated", "client.commented", "client.interview_requested", "client.rejected")
CHUNK = 5000


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (enough for a benchmark report)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def seed(db, slug: str, total: int, rng: random.Random, now: datetime) -> dict:
    """One agency with ``total`` applications and their history, by core bulk inserts."""
    from sqlalchemy import func, insert, select

    from portal.demo import ensure_pipeline
    from portal.models import (
        Activity,
        Agency,
        Application,
        Candidate,
        ClientCompany,
        ClientContact,
        Interview,
        Job,
        ProfileView,
        SharedProfile,
        StageHistory,
        SurveyAnswer,
        User,
        job_team,
    )
    from portal.services import scoreboard_facts

    agency = Agency(slug=slug, name=f"Bench {slug}")
    db.session.add(agency)
    db.session.flush()
    stages = ensure_pipeline(agency)
    admin = User(agency_id=agency.id, email=f"admin@{slug}.example", name="Admin", role="admin", password_hash="x")
    recruiters = [
        User(agency_id=agency.id, email=f"rec{i}@{slug}.example", name=f"Rec {i}", role="recruiter", password_hash="x")
        for i in range(20)
    ]
    companies = [ClientCompany(agency_id=agency.id, name=f"Client {i}") for i in range(50)]
    db.session.add_all([admin, *recruiters, *companies])
    db.session.flush()
    contacts = [
        ClientContact(agency_id=agency.id, company_id=c.id, name=f"Contact {c.id}", email=f"c{c.id}@{slug}.example")
        for c in companies
    ]
    jobs = [
        Job(
            agency_id=agency.id,
            company_id=companies[j % len(companies)].id,
            owner_id=recruiters[j % len(recruiters)].id,
            title=f"Job {j}",
            status="open" if j % 3 else "closed",
            opened_at=now - timedelta(days=rng.randint(1, 400)),
        )
        for j in range(max(1, total // 200))
    ]
    db.session.add_all([*contacts, *jobs])
    db.session.flush()
    contact_of = {c.company_id: c.id for c in contacts}
    team = [{"job_id": j.id, "user_id": j.owner_id} for j in jobs]
    team += [{"job_id": j.id, "user_id": recruiters[(i + 7) % len(recruiters)].id} for i, j in enumerate(jobs)]
    db.session.execute(insert(job_team), team)
    db.session.commit()
    first_candidate = (db.session.scalar(select(func.max(Candidate.id))) or 0) + 1
    first_application = (db.session.scalar(select(func.max(Application.id))) or 0) + 1
    uid = 0
    for start in range(0, total, CHUNK):
        rows: dict[type, list[dict]] = {
            m: [] for m in (Candidate, Application, StageHistory, SharedProfile, Activity, Interview, SurveyAnswer)
        }
        rows[ProfileView] = []
        for n in range(start, min(total, start + CHUNK)):
            cid, aid = first_candidate + n, first_application + n
            job = jobs[n % len(jobs)]
            applied = now - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440))
            moves = rng.randint(1, 4)
            hired = rng.random() < 0.03
            rows[Candidate].append(
                {"id": cid, "agency_id": agency.id, "first_name": "Cand", "last_name": str(n), "created_at": applied}
            )
            rows[Application].append(
                {
                    "id": aid,
                    "agency_id": agency.id,
                    "candidate_id": cid,
                    "job_id": job.id,
                    "stage_id": stages[moves - 1].id,
                    "client_status": "hired" if hired else "awaiting_review",
                    "outcome": "hired" if hired else (None if rng.random() < 0.5 else "rejected_by_agency"),
                    "applied_at": applied,
                    "last_activity_at": applied,
                    "inform_by_at": applied + timedelta(days=45) if rng.random() < 0.4 else None,
                    "candidate_informed_at": applied + timedelta(days=20) if rng.random() < 0.5 else None,
                }
            )
            at = applied
            for s in range(moves):
                rows[StageHistory].append(
                    {"agency_id": agency.id, "application_id": aid, "to_stage_id": stages[s].id, "moved_at": at}
                )
                at += timedelta(hours=rng.randint(2, 400))
            rows[Activity].append(
                {
                    "agency_id": agency.id,
                    "job_id": job.id,
                    "candidate_id": cid,
                    "application_id": aid,
                    "verb": "application.created",
                    "summary": "Added",
                    "detail": {},
                    "created_at": applied,
                }
            )
            if rng.random() >= 0.6:
                continue
            shared = applied + timedelta(days=rng.randint(0, 10))
            contact = contact_of[job.company_id]
            rows[SharedProfile].append(
                {
                    "agency_id": agency.id,
                    "application_id": aid,
                    "fields": [],
                    "shared_at": shared,
                    "feedback_due_at": shared + timedelta(days=5),
                    "unshared_at": shared + timedelta(days=2) if rng.random() < 0.05 else None,
                }
            )
            view = {"agency_id": agency.id, "application_id": aid, "contact_id": contact, "viewed_at": shared}
            rows[ProfileView].append({**view, "kind": "profile"})
            if rng.random() < 0.7:
                for k in range(rng.randint(1, 3)):
                    rows[Activity].append(
                        {
                            "agency_id": agency.id,
                            "job_id": job.id,
                            "candidate_id": cid,
                            "application_id": aid,
                            "actor_contact_id": contact,
                            "verb": rng.choice(VERBS),
                            "summary": "Client action",
                            "detail": {},
                            "created_at": shared + timedelta(minutes=rng.randint(10, 20000) * (k + 1)),
                        }
                    )
            if rng.random() < 0.25:
                uid += 1
                # Unique per owner (a scheduled interview holds its owner's slot): one minute apart.
                starts = now - timedelta(days=800) + timedelta(minutes=uid)
                rows[Interview].append(
                    {
                        "agency_id": agency.id,
                        "application_id": aid,
                        "owner_id": job.owner_id,
                        "starts_at": starts,
                        "ends_at": starts + timedelta(hours=1),
                        "timezone": "UTC",
                        "format": "video",
                        "status": "scheduled" if rng.random() < 0.9 else "cancelled",
                        "ics_uid": f"{slug}-{uid}@bench",
                        "created_at": shared,
                    }
                )
                if rng.random() < 0.3:
                    rows[Activity].append(
                        {
                            "agency_id": agency.id,
                            "job_id": job.id,
                            "candidate_id": cid,
                            "application_id": aid,
                            "actor_contact_id": contact,
                            "verb": "client.hire_requested",
                            "summary": "Hire requested",
                            "detail": {},
                            "created_at": starts + timedelta(days=2),
                        }
                    )
            if rng.random() < 0.15:
                rows[SurveyAnswer].append(
                    {
                        "agency_id": agency.id,
                        "application_id": aid,
                        "score": rng.randint(1, 5),
                        "answered_at": shared + timedelta(days=30),
                    }
                )
        for model, values in rows.items():
            if values:
                db.session.execute(insert(model), values)
        db.session.commit()
    # The bulk inserts bypass the ORM events that keep the scoreboard's facts: fill them as the
    # migration that added them did.
    scoreboard_facts.fill(agency.id)
    db.session.commit()
    return {"admin_id": admin.id, "recruiter_id": recruiters[0].id, "company_id": companies[0].id}


def measure(app, client, engine, targets: list[tuple[str, str, str]], rounds: int) -> list[dict]:
    """Each (label, session user id, path) ``rounds`` times, interleaved, after one warm-up each."""
    from sqlalchemy import event

    from portal import sessions
    from portal.models import utcnow

    statements: list[int] = []
    event.listen(engine, "before_cursor_execute", lambda *_: statements.append(1))
    times: dict[str, list[float]] = {label: [] for label, _, _ in targets}
    queries: dict[str, int] = {}
    for n in range(rounds + 1):
        for label, user_id, path in targets:
            with client.session_transaction() as session:
                session["_user_id"] = user_id
                session.update(sessions.fresh_fields(utcnow()))
            statements.clear()
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if n:
                times[label].append(elapsed)
            queries[label] = len(statements)
    base = times[targets[0][0]]
    results = []
    for label, _, path in targets:
        values = times[label]
        row = {
            "target": label,
            "path": path,
            "median_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "queries": queries[label],
        }
        row["median_ratio"] = round(row["median_ms"] / statistics.median(base), 2)
        row["p95_ratio"] = round(row["p95_ms"] / percentile(base, 95), 2)
        results.append(row)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, nargs="+", default=[10_000])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--reuse", action="store_true", help="with BENCH_DATABASE_URL: measure the agencies an earlier run seeded there"
    )
    args = parser.parse_args()
    report: dict = {"args": vars(args), "cores": os.cpu_count(), "runs": []}
    for total in args.applications:
        report["runs"].append(run(total, args.rounds, reuse=args.reuse))
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"scoreboard-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"raw figures: {out.relative_to(ROOT)}")


def analyse(db, database_url: str) -> None:
    """Fresh planner statistics after the bulk load (as autovacuum would soon take)."""
    if database_url.startswith("postgresql"):
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def seeded_ids(db, agency) -> dict:
    """The ids ``seed`` returned for an agency it seeded in an earlier run."""
    from portal.models import ClientCompany, User

    users = {u.name: u.id for u in db.session.scalars(db.select(User).filter_by(agency_id=agency.id))}
    first_company = db.session.scalar(
        db.select(ClientCompany.id).filter_by(agency_id=agency.id).order_by(ClientCompany.id).limit(1)
    )
    return {"admin_id": users["Admin"], "recruiter_id": users["Rec 0"], "company_id": first_company}


def run(total: int, rounds: int, *, reuse: bool = False) -> dict:
    """Seed ``total`` applications into a fresh database and measure the pages."""
    workdir = tempfile.mkdtemp(prefix="scoreboard-bench-")
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.models import Agency, User

    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": database_url, "MEILI_URL": ""})
    rng = random.Random(15)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        agency = db.session.scalar(db.select(Agency).filter_by(slug=f"bench{total}")) if reuse else None
        if agency is not None:
            ids = seeded_ids(db, agency)  # seeded and analysed by an earlier run
        else:
            # Slugs by size: on PostgreSQL every size goes into the one database (the agencies of
            # earlier sizes stay, as other tenants do); on SQLite each size has a fresh file.
            ids = seed(db, f"bench{total}", total, rng, now)
            seed(db, f"elsewhere{total}", max(1, total // 10), rng, now)
            analyse(db, database_url)
        seed_s = round(time.perf_counter() - started, 1)
        admin, recruiter = (db.session.get(User, ids[k]).get_id() for k in ("admin_id", "recruiter_id"))
        engine = db.engine
    print(f"{database_url.split(':', 1)[0]}: seeded {total} applications (+{total // 10} elsewhere) in {seed_s} s")
    client_id = ids["company_id"]
    targets = [
        ("jobs list, admin (baseline)", admin, "/agency/"),
        ("scoreboard, admin, last 90 days (default)", admin, "/agency/scoreboard"),
        ("scoreboard, admin, all time", admin, "/agency/scoreboard?from="),
        ("scoreboard, admin, all time, one client", admin, f"/agency/scoreboard?from=&client={client_id}"),
        ("scoreboard, recruiter, last 90 days", recruiter, "/agency/scoreboard"),
        ("scoreboard CSV, admin, last 90 days", admin, "/agency/scoreboard?format=csv"),
    ]
    results = measure(app, app.test_client(), engine, targets, rounds)
    print(f"{'target':44} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'× median':>9} {'× p95':>7}")
    for row in results:
        print(
            f"{row['target']:44} {row['median_ms']:10.1f} {row['p95_ms']:8.1f} {row['queries']:8d} "
            f"{row['median_ratio']:9.2f} {row['p95_ratio']:7.2f}"
        )
    shutil.rmtree(workdir, ignore_errors=True)
    return {"applications": total, "database": database_url.split(":", 1)[0], "seed_s": seed_s, "results": results}


if __name__ == "__main__":
    main()

"""Benchmark: rediscovery search at scale (issue 5). Figures, not a test.

Seeds N synthetic candidates (~2 KB documents, 20 agencies of skewed sizes, 1–5 applications
each) into a fresh database with bulk inserts, starts its own Meilisearch, then measures:

* ``flask search reindex`` time and docs/s (budget: 100,000 in < 90 s);
* search latency p50/p95 through the portal's search service (validation, visibility, facets,
  the page re-check against the database) and the same queries sent straight to Meilisearch in
  the same run (budget: portal p95 <= 1.5x direct and < 50 ms);
* the search page over HTTP under gunicorn (2 workers x 4 threads) with wrk at 10 connections;
* outbox-to-searchable lag p50/p95 for single changes under the running worker (budget p95 < 1 s).

    .venv/bin/python bench/search.py [--candidates 100000] [--queries 300] [--seconds 10]
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.portal_pages import run_wrk  # noqa: E402
from tests.servers import MeilisearchServer, free_port, wait_until  # noqa: E402

WORDS = [
    "python",
    "golang",
    "rust",
    "java",
    "kotlin",
    "react",
    "vue",
    "sql",
    "postgres",
    "kubernetes",
    "terraform",
    "aws",
    "azure",
    "gcp",
    "salesforce",
    "hubspot",
    "negotiation",
    "forecasting",
    "pipeline",
    "enterprise",
    "saas",
    "fintech",
    "payments",
    "logistics",
    "retail",
    "analytics",
    "tableau",
    "excel",
    "figma",
    "research",
    "onboarding",
    "support",
    "leadership",
    "hiring",
    "coaching",
    "mentoring",
    "budgeting",
]
TITLES = [
    "Account Executive",
    "Backend Engineer",
    "Data Analyst",
    "Product Manager",
    "UX Designer",
    "Sales Manager",
    "DevOps Engineer",
    "Customer Success Lead",
    "Marketing Manager",
    "QA Engineer",
]
CITIES = ["London, UK", "Manchester, UK", "Berlin, DE", "New York, US", "Remote", "Dublin, IE", "Pune, IN"]
SOURCES = ["LinkedIn", "Referral", "Job board", "Website", "ATS import"]
FIRST = ["Mara", "Liam", "Noah", "Ava", "Zoe", "Omar", "Priya", "Chen", "Lucas", "Ines", "Kofi", "Sara"]
LAST = ["Stephenson", "Okafor", "Schmidt", "Rossi", "Nguyen", "Garcia", "Kowalski", "Haddad", "Silva", "Patel"]
PASSWORD = "bench-password-123"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def seed(app, total: int, agencies: int, rng: random.Random) -> dict:
    """Bulk-insert agencies, users, jobs, candidates and their applications (core inserts: fast)."""
    from sqlalchemy import insert, select

    from portal.demo import ensure_pipeline
    from portal.extensions import db
    from portal.models import (
        Agency,
        Application,
        Candidate,
        CandidateEmail,
        CandidateTag,
        ClientCompany,
        Job,
        Reason,
        Resume,
        Scorecard,
        StageHistory,
        User,
        job_team,
    )

    weights = [1 / (i + 1) for i in range(agencies)]  # skewed: the largest agency holds ~28 %
    sizes = [int(total * w / sum(weights)) for w in weights]
    sizes[0] += total - sum(sizes)
    now = datetime.now(UTC)
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(PASSWORD)
    info = {"agencies": []}
    with app.app_context():
        for a, size in enumerate(sizes):
            agency = Agency(slug=f"bench{a}", name=f"Bench {a}")
            db.session.add(agency)
            db.session.flush()
            stages = ensure_pipeline(agency)
            admin = User(
                agency_id=agency.id,
                email=f"admin@bench{a}.example",
                name="Admin",
                role="admin",
                password_hash=password_hash,
            )
            recruiter = User(
                agency_id=agency.id,
                email=f"rec@bench{a}.example",
                name="Rec",
                role="recruiter",
                password_hash=password_hash,
            )
            db.session.add_all([admin, recruiter])
            company = ClientCompany(agency_id=agency.id, name="Client")
            db.session.add(company)
            db.session.flush()
            jobs = []
            for j in range(20):
                job = Job(
                    agency_id=agency.id,
                    company_id=company.id,
                    owner_id=recruiter.id,
                    title=rng.choice(TITLES),
                    confidential=j % 10 == 0,
                    status="closed",
                )
                db.session.add(job)
                jobs.append(job)
            db.session.flush()
            db.session.execute(insert(job_team), [{"job_id": j.id, "user_id": recruiter.id} for j in jobs])
            reasons = list(db.session.scalars(select(Reason.id).where(Reason.agency_id == agency.id)))
            db.session.commit()
            info["agencies"].append(
                {
                    "id": agency.id,
                    "size": size,
                    "admin": admin.email,
                    "recruiter": recruiter.email,
                    "jobs": [j.id for j in jobs],
                    "stages": [s.id for s in stages],
                    "reasons": reasons,
                }
            )
            _seed_candidates(
                db,
                agency.id,
                size,
                jobs,
                stages,
                reasons,
                rng,
                now,
                (Candidate, CandidateEmail, CandidateTag, Application, StageHistory, Scorecard, Resume),
            )
    return info


def _seed_candidates(db, agency_id, size, jobs, stages, reasons, rng, now, models):
    from sqlalchemy import func, insert, select

    from search_sync.facts import refresh_all

    Candidate, CandidateEmail, CandidateTag, Application, StageHistory, Scorecard, Resume = models
    for start in range(0, size, 2000):
        count = min(2000, size - start)
        base_id = (db.session.scalar(select(func.max(Candidate.id))) or 0) + 1
        candidates, emails, tags, resumes = [], [], [], []
        for n in range(count):
            cid = base_id + n
            title = rng.choice(TITLES)
            candidates.append(
                {
                    "id": cid,
                    "agency_id": agency_id,
                    "first_name": rng.choice(FIRST),
                    "last_name": rng.choice(LAST),
                    "headline": f"{title} · {rng.randint(1, 20)} years",
                    "current_title": title,
                    "current_company": rng.choice(["Globex", "Hooli", "Initech"]),
                    "location": rng.choice(CITIES),
                    "source": rng.choice(SOURCES),
                    "skills": ", ".join(rng.sample(WORDS, 5)),
                    "added_via": "import",
                    "looking_for_work": True,
                    "private": False,
                    "created_at": now,
                }
            )
            emails.append({"agency_id": agency_id, "candidate_id": cid, "email": f"c{cid}@bench.example"})
            tags.extend({"candidate_id": cid, "tag": t} for t in rng.sample(WORDS[:12], 2))
            text = " ".join(rng.choices(WORDS, k=180))  # ~1.5 KB of resume text
            resumes.append(
                {
                    "agency_id": agency_id,
                    "candidate_id": cid,
                    "filename": "cv.txt",
                    "content_type": "text/plain",
                    "content": b"",
                    "text": text,
                    "uploaded_at": now,
                }
            )
        db.session.execute(insert(Candidate), candidates)
        db.session.execute(insert(CandidateEmail), emails)
        db.session.execute(insert(CandidateTag), tags)
        db.session.execute(insert(Resume), resumes)
        applications = []
        for c in candidates:
            for job in rng.sample(jobs, rng.randint(1, 5)):
                reached = rng.randint(0, len(stages) - 2)
                last = now - timedelta(days=rng.randint(1, 900))
                active = rng.random() < 0.1
                applications.append(
                    {
                        "agency_id": agency_id,
                        "candidate_id": c["id"],
                        "job_id": job.id,
                        "stage_id": stages[reached].id,
                        "outcome": None if active else "rejected_by_agency",
                        "reason_id": None if active else rng.choice(reasons),
                        "source": rng.choice(SOURCES),
                        "client_status": "awaiting_review" if active else "closed",
                        "applied_at": last - timedelta(days=30),
                        "last_activity_at": last,
                    }
                )
        db.session.execute(insert(Application), applications)
        rows = db.session.execute(
            select(Application.id, Application.stage_id).where(
                Application.candidate_id.between(base_id, base_id + count - 1)
            )
        ).all()
        position = {s.id: s.position for s in stages}
        history, cards = [], []
        for app_id, stage_id in rows:
            for s in stages[: position[stage_id] + 1]:
                history.append({"agency_id": agency_id, "application_id": app_id, "to_stage_id": s.id, "moved_at": now})
            if position[stage_id] >= 3:
                cards.append(
                    {
                        "agency_id": agency_id,
                        "application_id": app_id,
                        "submitted_at": now,
                        "verdict": rng.choice(["strong_yes", "yes", "no", "strong_no"]),
                    }
                )
        db.session.execute(insert(StageHistory), history)
        if cards:
            db.session.execute(insert(Scorecard), cards)
        db.session.commit()
    # Bulk inserts bypass the ORM flush that keeps the degraded search's facts: compute them once,
    # after the last chunk (per chunk, each pass rewrote every row so far: 10,000 candidates left
    # three times the live rows in the search tables, read by every degraded search's scans).
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE")  # fresh tables have no statistics: the refresh's plan needs them
    refresh_all(connection, agency_id)
    db.session.commit()


def queries(info: dict, rng: random.Random, count: int):
    """(agency info, Criteria kwargs) pairs: 1–2 words and a mix of filters, on the largest agencies."""
    from datetime import date

    from portal.services.search import Criteria

    out = []
    for n in range(count):
        agency = info["agencies"][n % 3]
        spec = {"q": " ".join(rng.sample(WORDS, rng.choice([1, 1, 2])))}
        kind = n % 5
        if kind >= 1:
            spec["reasons"] = rng.sample(agency["reasons"], 2)
        if kind >= 2:
            spec["stage"] = rng.choice(agency["stages"][1:5])
            spec["jobs"] = rng.sample([j for i, j in enumerate(agency["jobs"]) if i % 10], 2)
        if kind >= 3:
            spec["last_before"] = date(2026, 1, 1)
            spec["exclude_strong_no"] = True
        if kind == 4:
            spec["location"] = rng.choice(CITIES)
            spec["min_positive"] = 25
        out.append((agency, Criteria(**spec)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=20)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--changes", type=int, default=40)
    args = parser.parse_args()
    rng = random.Random(5)
    workdir = tempfile.mkdtemp(prefix="search-bench-")
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    meili = MeilisearchServer().start()
    config = {
        "ENV_NAME": "development",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key,
        "MEILI_INDEX": "candidates",
    }
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key,
        "PYTHONPATH": str(ROOT),
    }
    report = {"args": vars(args), "cores": os.cpu_count()}
    processes = []
    try:
        from flask_migrate import upgrade

        from portal import create_app

        app = create_app(config)
        with app.app_context():
            upgrade()
        started = time.perf_counter()
        info = seed(app, args.candidates, args.agencies, rng)
        report["seed_s"] = round(time.perf_counter() - started, 1)
        print(f"seeded {args.candidates} candidates in {report['seed_s']} s")

        from search_sync.reindex import reindex

        with app.app_context():
            started = time.perf_counter()
            result = reindex()
            elapsed = time.perf_counter() - started
            from search_sync.client import meili_client

            stats = meili_client(timeout=10).index("candidates").get_stats()
        report["reindex"] = {
            "documents": result["documents"],
            "seconds": round(elapsed, 1),
            "docs_per_s": round(result["documents"] / elapsed),
            "index_documents": stats.number_of_documents,
        }
        print(f"reindex: {result['documents']} docs in {elapsed:.1f} s ({result['documents'] / elapsed:.0f} docs/s)")

        report["search"] = measure_search(app, info, rng, args.queries)
        report["http"] = measure_http(env, info, args.seconds)
        report["lag"] = measure_lag(app, env, info, args.changes, processes)
        print(json.dumps(report, indent=2))
        results_dir = ROOT / "bench" / "results"
        results_dir.mkdir(exist_ok=True)
        out = results_dir / f"search-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(report, indent=2))
        print(f"raw figures: {out.relative_to(ROOT)}")
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        meili.close()
        shutil.rmtree(workdir, ignore_errors=True)


def measure_search(app, info, rng, count) -> dict:
    """The same queries through the portal's service and straight to Meilisearch, interleaved."""
    from portal.extensions import db
    from portal.models import User
    from portal.services.search import FACETS, PAGE_SIZE, RETRIEVE, meili_filter, plan, search_candidates
    from search_sync.client import meili_client

    portal_ms, direct_ms = [], []
    with app.app_context():
        index = meili_client().index("candidates")
        users = {
            a["id"]: db.session.scalar(db.select(User).where(User.email == a["recruiter"]))
            for a in info["agencies"][:3]
        }
        workload = queries(info, rng, count)
        for agency, criteria in workload[:20]:  # warm-up
            search_candidates(users[agency["id"]], criteria)
        for agency, criteria in workload:
            who = users[agency["id"]]
            started = time.perf_counter()
            search_candidates(who, criteria)
            portal_ms.append((time.perf_counter() - started) * 1000)
            p = plan(who, criteria)
            params = {
                "filter": meili_filter(p),
                "facets": list(FACETS),
                "page": 1,
                "hitsPerPage": PAGE_SIZE,
                "matchingStrategy": "all",
                "attributesToRetrieve": RETRIEVE,
            }
            started = time.perf_counter()
            index.search(" ".join(p.words), params)
            direct_ms.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    result = {
        "portal_p50_ms": round(statistics.median(portal_ms), 2),
        "portal_p95_ms": round(percentile(portal_ms, 95), 2),
        "direct_p50_ms": round(statistics.median(direct_ms), 2),
        "direct_p95_ms": round(percentile(direct_ms, 95), 2),
    }
    result["p95_ratio"] = round(result["portal_p95_ms"] / result["direct_p95_ms"], 2)
    print(f"search: {result}")
    return result


def measure_http(env, info, seconds) -> dict:
    """The search page under gunicorn, wrk at 10 connections, as the largest agency's recruiter."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--chdir",
            str(ROOT),
            "wsgi:app",
        ],
        env={**env, "BASE_URL": base},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _up(base), 30, what="gunicorn")
        session = requests.Session()
        page = session.get(base + "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        session.post(
            base + "/login", data={"csrf_token": token, "email": info["agencies"][0]["recruiter"], "password": PASSWORD}
        ).raise_for_status()
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        agency = info["agencies"][0]
        path = (
            f"/search?q=python&reason={agency['reasons'][0]}&reason={agency['reasons'][1]}"
            f"&stage={agency['stages'][2]}&last_before=2026-01-01"
        )
        check = requests.get(base + path, headers={"Cookie": cookie, "HX-Request": "true"}, timeout=10)
        assert check.status_code == 200 and "data-candidate-id" in check.text, check.text[:500]
        assert "degraded" not in check.text
        result = run_wrk(base + path, seconds, 10, BENCH_COOKIE=cookie, BENCH_HX="1")
        print(f"http /search (htmx fragment), 10 connections: {result}")
        return {"path": path, **result}
    finally:
        server.terminate()
        server.wait(10)


def measure_lag(app, env, info, changes, processes) -> dict:
    """Single changes committed one at a time under the running worker: commit to searchable."""
    from portal.extensions import db
    from portal.models import Candidate
    from search_sync.client import meili_client

    worker = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "portal", "worker"],
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes.append(worker)
    lags = []
    with app.app_context():
        index = meili_client().index("candidates")
        ids = list(
            db.session.scalars(
                db.select(Candidate.id).where(Candidate.agency_id == info["agencies"][0]["id"]).limit(changes)
            )
        )
        for n, candidate_id in enumerate(ids):
            word = f"zqlag{n}x{random.randint(0, 10**6)}"
            db.session.get(Candidate, candidate_id).headline = f"Lag probe {word}"
            db.session.commit()
            started = time.perf_counter()
            wait_until(lambda word=word: index.search(word, {"limit": 1})["hits"], 30, interval=0.01, what="the change")
            lags.append((time.perf_counter() - started) * 1000)
    result = {"changes": len(lags), "p50_ms": round(statistics.median(lags)), "p95_ms": round(percentile(lags, 95))}
    print(f"outbox-to-searchable lag: {result}")
    return result


def _up(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()

"""Benchmark: client pages under load, against a trivial endpoint in the same run.

Seeds a job with N shared candidates on a fresh database, serves the app with gunicorn
(2 workers x 4 threads, as in the Procfile), signs a client contact in over real HTTP, then
drives each URL with wrk (20 connections, 10 s by default) and prints p50/p95/rps and the
ratio of each page's p95 to the trivial endpoint's p95.

    .venv/bin/python bench/portal_pages.py [--candidates 200] [--seconds 10] [--connections 20]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, wait_until  # noqa: E402


def seed(database_url: str, candidates: int) -> dict:
    """Build the schema and one agency whose job has ``candidates`` shared candidates."""
    os.environ.update(PORTAL_ENV="development", DATABASE_URL=database_url)
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.services.auth import landing_link
    from tests.factories import make_application, make_tenant

    app = create_app()
    with app.app_context():
        upgrade()
        tenant = make_tenant("bench")
        for _ in range(candidates - 1):
            make_application(tenant.job)
        link = landing_link(tenant.contact, tenant.job)
        db.session.commit()
        return {
            "link": link,
            "job_path": f"/bench/portal/jobs/{tenant.job.id}",
            "home_path": "/bench/portal/",
            "slug": "bench",
            "candidate_path": f"/bench/portal/candidates/{tenant.application.id}",
        }


def sign_in(base: str, link_path: str) -> tuple[str, str]:
    """Follow the landing link like a person: GET the Continue page, POST it.
    Returns the session cookie and the CSRF token htmx would send."""
    session = requests.Session()
    page = session.get(base + link_path)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    landed = session.post(base + link_path, data={"csrf_token": token})
    landed.raise_for_status()
    htmx_token = re.search(r'"X-CSRFToken": "([^"]+)"', landed.text).group(1)
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies), htmx_token


def run_wrk(url: str, seconds: int, connections: int, **env) -> dict:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "report.lua"), url],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    line = next(row for row in result.stdout.splitlines() if row.startswith("BENCH_JSON "))
    return json.loads(line.removeprefix("BENCH_JSON "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run `make bench` (it installs wrk) or apt-get install wrk")

    workdir = tempfile.mkdtemp(prefix="portal-bench-")
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    seeded = seed(database_url, args.candidates)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": database_url,
        "BASE_URL": base,
        "PYTHONPATH": str(ROOT),
    }
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
            "bench.bench_wsgi:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _up(base), 30, what="gunicorn")
        link_path = seeded["link"].split("://", 1)[1].split("/", 1)[1]
        cookie, csrf = sign_in(base, "/" + link_path)
        signed_in = {"BENCH_COOKIE": cookie}
        htmx_post = {**signed_in, "BENCH_METHOD": "POST", "BENCH_CSRF": csrf, "BENCH_HX": "1"}
        candidate = seeded["candidate_path"]
        targets = [
            ("trivial endpoint (baseline)", "/_bench/noop", {}),
            ("client sign-in page", f"/{seeded['slug']}/login", {}),
            ("client home", seeded["home_path"], signed_in),
            (f"client job page, {args.candidates} shared", seeded["job_path"], signed_in),
            ("client candidate page", candidate, signed_in),
            ("htmx rate (a write every time)", candidate + "/rating", {**htmx_post, "BENCH_BODY": "stars=4&on=job"}),
            ("htmx comment (a write every time)", candidate + "/comments", {**htmx_post, "BENCH_BODY": "body=Good"}),
            # Runs last: after the first request every reject is the idempotent double-click path.
            ("htmx repeat reject (idempotent path)", candidate + "/reject", {**htmx_post, "BENCH_BODY": "on=job"}),
        ]
        rows = []
        for name, path, extra in targets:
            check = requests.request(
                extra.get("BENCH_METHOD", "GET"),
                base + path,
                data=extra.get("BENCH_BODY"),
                headers={
                    "Cookie": extra.get("BENCH_COOKIE", ""),
                    "X-CSRFToken": extra.get("BENCH_CSRF", ""),
                    "HX-Request": "true" if extra.get("BENCH_HX") else "",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                timeout=10,
            )
            assert check.status_code == 200, f"{path} answered {check.status_code}: {check.text[:300]}"
            rows.append((name, path, run_wrk(base + path, args.seconds, args.connections, **extra)))
        baseline = rows[0][2]["p95_ms"]
        print(
            f"\n{args.connections} connections, {args.seconds}s each, gunicorn 2x4, {os.cpu_count()} cores, "
            f"database {database_url.split(':', 1)[0]}"
        )
        print(f"{'target':42} {'p50 ms':>8} {'p95 ms':>8} {'rps':>8} {'errors':>7} {'p95/base':>9}")
        for name, _path, r in rows:
            print(
                f"{name:42} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['rps']:8.1f} {r['errors']:7d} "
                f"{r['p95_ms'] / baseline:9.2f}"
            )
        results_dir = ROOT / "bench" / "results"
        results_dir.mkdir(exist_ok=True)
        out = results_dir / f"portal_pages-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(
            json.dumps({"args": vars(args), "rows": [{"name": n, "path": p, **r} for n, p, r in rows]}, indent=2)
        )
        print(f"\nraw figures: {out.relative_to(ROOT)}")
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _up(base: str) -> bool:
    try:
        return requests.get(base + "/_bench/noop", timeout=1).ok
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()

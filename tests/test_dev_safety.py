"""Development mode is safe if reachable (issue 12): a random per-install secret, the mail viewer
and the development server for this machine only, and sign-in tokens kept out of access logs."""

import logging
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from portal.access_log import is_loopback_bind, redact, refuse_public_bind_in_development
from portal.config import DevelopmentConfig, development_secret
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "eyJ0IjoiQWJDZEVmR2gifQ.s1gN4tUr3-_xyz"


# A secret of this install, never a committed one


def test_development_secret_is_made_once_private_and_reused(tmp_path):
    instance = tmp_path / "instance"
    first = development_secret(str(instance))
    assert len(first) >= 40
    path = instance / "dev-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert development_secret(str(instance)) == first
    assert development_secret(str(tmp_path / "another-checkout")) != first


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    """gunicorn's workers and the worker start at once on a fresh checkout: one secret for all."""
    results: list[str] = []
    barrier = threading.Barrier(8)

    def make():
        barrier.wait()
        results.append(development_secret(str(tmp_path)))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["dev-secret"]  # no leftovers


def test_development_app_signs_with_the_install_secret(make_app, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    assert not getattr(DevelopmentConfig, "SECRET_KEY", None)
    dev = make_app(ENV_NAME="development")
    assert dev.config["SECRET_KEY"] == development_secret(dev.instance_path)
    assert dev.config["SECRET_KEY"] not in ("dev-only-not-secret", "testing-secret")


def test_secret_key_from_the_environment_still_wins_in_development(make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert make_app(ENV_NAME="development").config["SECRET_KEY"] == "from-the-environment"


# The mail viewer answers this machine only


@pytest.mark.parametrize(
    ("remote", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("192.0.2.10", {}, 404),
        ("10.0.0.7", {}, 404),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}, 404),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1, 203.0.113.5"}, 404),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.5"}, 404),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}, 200),
    ],
    ids=["ipv4-loopback", "ipv6-loopback", "lan", "private", "proxied", "proxied-chain", "forwarded", "local-proxy"],
)
def test_dev_mail_answers_only_loopback(make_app, remote, headers, status):
    dev = make_app(DEV_MAIL_VIEWER=True)
    browser = dev.test_client()
    assert browser.get("/dev/mail", environ_base={"REMOTE_ADDR": remote}, headers=headers).status_code == status
    shown = browser.get("/dev/mail/1", environ_base={"REMOTE_ADDR": remote}, headers=headers).status_code
    assert shown == 404  # no message 1; and never more than that from elsewhere


def test_dev_mail_is_never_there_in_production_even_when_switched_on(make_app):
    production = make_app(ENV_NAME="production", SECRET_KEY="x", DEV_MAIL_VIEWER=True, RATELIMIT_SINGLE_PROCESS=True)
    browser = production.test_client()
    assert browser.get("/dev/mail", base_url="https://localhost").status_code == 404


@pytest.mark.parametrize(
    ("host", "refused"),
    [("0.0.0.0", True), ("192.0.2.10", True), ("127.0.0.1", False), ("localhost", False)],
)
def test_make_run_refuses_a_public_host_in_development(host, refused):
    """``scripts/run.sh`` stops before doing anything when development would be reachable by others.

    The web port is held here, so a host that passes the check stops at the port check instead."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PORTAL_ENV": "development", "HOST": host, "PORT": str(port)}
        done = subprocess.run(
            ["/bin/bash", str(ROOT / "scripts" / "run.sh")],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    if refused:
        assert f"development mode serves this machine only; HOST={host} is refused" in done.stderr
    else:
        assert f"port {port} is in use" in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("bind", "loopback"),
    [
        ("127.0.0.1:8000", True),
        ("[::1]:8000", True),
        ("localhost:8000", True),
        ("unix:/tmp/portal.sock", True),
        ("0.0.0.0:8000", False),
        ("[::]:8000", False),
        ("192.0.2.10:8000", False),
        ("example.org:80", False),
    ],
)
def test_gunicorn_binds_are_judged(bind, loopback):
    assert is_loopback_bind(bind) is loopback
    if loopback:
        refuse_public_bind_in_development([bind], "development")
    else:
        with pytest.raises(SystemExit, match="serves this machine only"):
            refuse_public_bind_in_development([bind], "development")
        refuse_public_bind_in_development([bind], "production")


# Tokens never reach the access log


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /acme/link/{TOKEN} HTTP/1.1", "GET /acme/link/<redacted> HTTP/1.1"),
        (f"POST /acme/link/{TOKEN}/resend HTTP/1.1", "POST /acme/link/<redacted>/resend HTTP/1.1"),
        (f"GET /acme/link/{TOKEN}?x=1 HTTP/1.1", "GET /acme/link/<redacted>?x=1 HTTP/1.1"),
        (f"http://127.0.0.1:8000/acme/link/{TOKEN}", "http://127.0.0.1:8000/acme/link/<redacted>"),
        (f"GET /account/set-password/{TOKEN} HTTP/1.1", "GET /account/set-password/<redacted> HTTP/1.1"),
        (f"POST /account/reset-password/{TOKEN} HTTP/1.1", "POST /account/reset-password/<redacted> HTTP/1.1"),
        (f"POST /acme/consent/{TOKEN} HTTP/1.1", "POST /acme/consent/<redacted> HTTP/1.1"),
        (f"GET /acme/survey/{TOKEN} HTTP/1.1", "GET /acme/survey/<redacted> HTTP/1.1"),
        ("GET /acme/portal/jobs/3 HTTP/1.1", "GET /acme/portal/jobs/3 HTTP/1.1"),
    ],
)
def test_redact_hides_link_and_set_password_tokens(line, expected):
    assert redact(line) == expected


def test_werkzeug_request_log_is_redacted(app, caplog, monkeypatch):
    """``flask run`` logs through Werkzeug; the app installs the filter."""
    # The migrations' logging.config.fileConfig disabled loggers that existed then: not so under flask run.
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", False)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - "%s" %s -', "127.0.0.1", f"GET /acme/link/{TOKEN} HTTP/1.1", 200)
    assert "/acme/link/<redacted>" in caplog.text and TOKEN not in caplog.text


def _wait_for(url: str, process: subprocess.Popen, errors: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {errors.read_text()}")
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


def test_gunicorn_access_log_has_no_tokens(tmp_path, database_url):
    """The Procfile's gunicorn, configured by gunicorn.conf.py, writes ``/link/<redacted>``."""
    port = free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "PORTAL_ENV": "testing",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--access-logfile",
        str(log),
        "--no-control-socket",
        "wsgi:app",
    ]
    errors = tmp_path / "error.log"
    with errors.open("w") as error_log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=error_log)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process, errors)
        base = f"http://127.0.0.1:{port}"
        requests.get(f"{base}/acme/link/{TOKEN}", headers={"Referer": f"{base}/acme/link/{TOKEN}"}, timeout=5)
        requests.get(f"{base}/account/set-password/{TOKEN}", timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=10)
    written = log.read_text()
    assert "/acme/link/<redacted>" in written and "/account/set-password/<redacted>" in written
    assert TOKEN not in written


def test_gunicorn_refuses_a_public_bind_in_development(tmp_path):
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"0.0.0.0:{free_port()}",
        "--no-control-socket",
        "wsgi:app",
    ]
    env = {**os.environ, "PORTAL_ENV": "development", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "serves this machine only" in done.stderr + done.stdout

"""Real servers for the suite: Meilisearch, SMTP (aiosmtpd), and the app over HTTP."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import requests
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until truthy; a readiness wait for servers, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"gave up waiting for {what}")


class MeilisearchServer:
    """A real Meilisearch process on a free port with its own data directory."""

    master_key = "test-master-key-0123456789abcdef"

    def __init__(self):
        self.binary = (
            os.environ.get("MEILI_BIN")
            or subprocess.run(
                [str(ROOT / "scripts" / "get-meilisearch.sh")], check=True, capture_output=True, text=True
            ).stdout.strip()
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.directory = tempfile.mkdtemp(prefix="meili-test-")
        self.process = None

    def start(self):
        with open(os.path.join(self.directory, "meili.log"), "ab") as log:
            self.process = self._spawn(log)
        wait_until(self.healthy, 20, what="Meilisearch to answer /health")
        return self

    def _spawn(self, log):
        return subprocess.Popen(
            [
                self.binary,
                "--http-addr",
                f"127.0.0.1:{self.port}",
                "--master-key",
                self.master_key,
                "--db-path",
                f"{self.directory}/data.ms",
                "--dump-dir",
                f"{self.directory}/dumps",
                "--snapshot-dir",
                f"{self.directory}/snapshots",
                "--env",
                "development",
                "--no-analytics",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"Meilisearch exited with {self.process.returncode}; see {self.directory}/meili.log")
        try:
            return requests.get(f"{self.url}/health", timeout=0.5).ok
        except requests.RequestException:
            return False

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def close(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class Inbox:
    """aiosmtpd handler keeping every message it receives, parsed."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"

    def clear(self):
        with self._lock:
            self.messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 10):
        return wait_until(
            lambda: len(self.messages) >= count and list(self.messages),
            timeout,
            what=f"{count} message(s) at the SMTP server",
        )


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a chosen or free port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()  # aiosmtpd 1.4.6 cannot bind port 0
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


class LiveServer:
    """The Flask app served over real HTTP in a thread, for the browser."""

    def __init__(self, app, port: int):
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(10)

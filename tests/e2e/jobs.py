"""A real job queue for the tests: redis-server (append-only, so a restart keeps the queue),
`docsvc serve` and `docsvc worker` processes, each stopped at the end."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import quote_example
from tests.e2e.conftest import ADMIN_TOKEN, DOCSVC, call, free_port, start_server

#: short limits so a killed worker's task comes back within the test's bounds
QUEUE_ENV = {"DOCSVC_TASK_SOFT_TIME_LIMIT": "15", "DOCSVC_TASK_TIME_LIMIT": "20",
             "DOCSVC_QUEUE_VISIBILITY_TIMEOUT": "25", "DOCSVC_ASYNC_LINES": "30", "DOCSVC_WORKERS": "1",
             "DOCSVC_PARALLEL_LINES": "30"}  # a job above 30 lines is laid out in parts, in parallel


class RedisServer:
    def __init__(self, folder: Path, persistent: bool = True):
        self.folder = folder
        self.port = free_port()
        self.persistent = persistent
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: scripts/setup.sh installs it"
        self.folder.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      *persistence, "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)


class Stack:
    """Redis, one `docsvc serve` and any number of `docsvc worker`s on one archive folder."""

    def __init__(self, tmp_path: Path, redis: RedisServer):
        self.tmp = tmp_path
        self.redis = redis
        self.env = {**QUEUE_ENV, "DOCSVC_REDIS_URL": redis.url}
        self.base = None
        self.server = None
        self.workers: list[subprocess.Popen] = []

    def process_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
        return {**env, "DOCSVC_ARCHIVE_URL": f"file://{self.tmp / 'archive'}", "DOCSVC_ADMIN_TOKEN": ADMIN_TOKEN,
                **self.env}

    def serve(self) -> Stack:
        self.base, self.server, _ = start_server(self.tmp, self.env)
        return self

    def worker(self, name: str) -> subprocess.Popen:
        log = self.tmp / f"worker-{name}.log"
        proc = subprocess.Popen([DOCSVC, "worker", "--concurrency", "1", "--name", f"{name}@test"],
                                env=self.process_env(), stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group: killed with its children
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b"ready." in log.read_bytes():
                self.workers.append(proc)
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("docsvc worker did not start: " + log.read_text())

    @staticmethod
    def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.workers:
            self.kill(proc, signal.SIGTERM if proc.poll() is None else signal.SIGKILL)
        if self.server is not None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()

    def key(self, name: str, scopes: str, sellers: str) -> str:
        """A key made with `docsvc keys create`; returns its token."""
        out = subprocess.run([DOCSVC, "keys", "create", name, "--scopes", scopes, "--sellers", sellers],
                             env={**self.process_env(), "DOCSVC_REDIS_URL": self.redis.url}, capture_output=True,
                             check=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    def call(self, method, path, body=None, token=ADMIN_TOKEN):
        status, headers, data = call(method, self.base + path, body, token=token)
        return status, headers, (json.loads(data) if data and headers.get("Content-Type", "").endswith("json")
                                 else data)

    def wait(self, path: str, until, token=ADMIN_TOKEN, bound: float = 180):
        """Poll `path` until `until(body)`; the bound only stops a broken run, nothing is timed."""
        deadline = time.monotonic() + bound
        while True:
            status, _, body = self.call("GET", path, token=token)
            assert status == 200, body
            if until(body):
                return body
            if time.monotonic() > deadline:
                pytest.fail(f"{path} never got there: {json.dumps(body)[:2000]}")
            time.sleep(0.3)

    def batch_done(self, batch_id: str, token=ADMIN_TOKEN) -> dict:
        return self.wait(f"/v1/batches/{batch_id}", lambda b: b["state"] == "done", token)

    def originals(self) -> dict[str, list[str]]:
        """Per document folder in the archive: its resource and file names (render folders flattened)."""
        root = self.tmp / "archive" / "documents"
        found = {}
        for folder in sorted(p for seller in root.iterdir() for p in seller.iterdir()):
            found[folder.name] = sorted(f.name for f in folder.rglob("*") if f.is_file())
        return found


def invoice(number: str, *, buyer: str = "SCI Les Tilleuls", lines: int = 3, **changes) -> dict:
    """DOMAIN.md's quote as a one-page invoice (three lines) under another number."""
    raw = quote_example()
    raw["number"] = number
    raw["buyer"]["name"] = buyer
    raw["lines"] = [dict(raw["lines"][i % 3]) for i in range(lines)]
    raw.update(changes)
    return raw

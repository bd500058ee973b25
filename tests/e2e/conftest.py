import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from docsvc.app import create_app
from docsvc.settings import Settings


@pytest.fixture
def archive_dir(tmp_path):
    return tmp_path / "archive"


@pytest.fixture
def app(archive_dir):
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{archive_dir}", "DOCSVC_AUTH": "disabled",
                                  "DOCSVC_MAX_BODY_BYTES": str(256 * 1024)})
    app = create_app(settings)
    app.testing = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def archived(archive_dir):
    """Every original and template in the archive, relative path -> bytes: to show a request
    changed nothing. The audit trail (audit/) records what succeeded (reads, previews' callers...),
    so it is left out."""
    def snapshot():
        if not archive_dir.exists():
            return {}
        return {p.relative_to(archive_dir).as_posix(): p.read_bytes()
                for p in archive_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts
                and p.relative_to(archive_dir).parts[0] in ("documents", "templates")}
    return snapshot


DOCSVC = str(Path(sys.executable).with_name("docsvc"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ADMIN_TOKEN = "test-admin-token-" + "0123456789abcdef" * 2


def call(method, url, body=None, token=ADMIN_TOKEN, headers=None, timeout=60, raw=None):
    data = raw if raw is not None else json.dumps(body, default=str).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def start_server(tmp_path, extra_env=None, token=ADMIN_TOKEN):
    """Start `docsvc serve` (2 gunicorn workers) on a free loopback port; returns (base, proc, log)."""
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}", "DOCSVC_WORKERS": "2"}
    if token:
        env["DOCSVC_ADMIN_TOKEN"] = token
    env.update(extra_env or {})
    log = tmp_path / f"serve-{port}.log"
    proc = subprocess.Popen([DOCSVC, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if call("GET", base + "/healthz")[0] == 200:
                return base, proc, log
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("docsvc serve did not start: " + log.read_text())


def stop_server(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def server(tmp_path):
    """A real `docsvc serve` (2 gunicorn workers) on a free loopback port, admin token set."""
    base, proc, _ = start_server(tmp_path)
    yield base
    stop_server(proc)


def crash_before_resource(archive):
    """Make `archive` fail on the resource write, as a power cut between files and resource
    would; returns the real put_once to put back for the retry."""
    real_put = archive.put_once

    def crash_on_resource(key, data, **kw):
        if key.endswith("resource.json"):
            raise RuntimeError("power cut")
        return real_put(key, data, **kw)

    archive.put_once = crash_on_resource
    return real_put

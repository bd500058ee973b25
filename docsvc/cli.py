"""`docsvc serve | render | verify`: the commands scripts and operators rely on."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC
from decimal import Decimal
from pathlib import Path

from .settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"docsvc: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def serve(args) -> int:
    """gunicorn, one worker per core: rendering is CPU-bound and workers share nothing.
    How gunicorn is configured (worker class, limits, recycling): docsvc/serving.py.
    Everything it prints is a JSON line (docsvc.logs), refusals to start included."""
    from . import logs, metrics

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        logs.say(f"docsvc: {exc}", "error", sys.stderr)
        return 2
    loopback = args.host in ("127.0.0.1", "localhost", "::1") or args.host.startswith("127.")
    for flag, name in ((not settings.auth, "DOCSVC_AUTH=disabled"), (settings.test_faults, "DOCSVC_TEST_FAULTS=1")):
        if flag and not loopback:
            logs.say(f"docsvc: {name} is only accepted on a loopback address, not {args.host}", "error", sys.stderr)
            return 2
    folder, ours = metrics.prepare_multiprocess_dir()  # before the app imports prometheus_client
    arbiter = os.getpid()
    try:
        return _serve(args, settings)
    finally:
        metrics.cleanup(folder, ours, arbiter)


def _serve(args, settings: Settings) -> int:

    from . import logs, metrics
    from .access import gunicorn_hooks as audit_gunicorn_hooks
    from .app import create_app
    from .archive import ArchiveUnavailable
    from .serving import Server

    try:
        app = create_app(settings)  # fail fast, in the parent: broken template, unreachable or unlocked bucket
    except ArchiveUnavailable as exc:
        logs.say(f"docsvc: archive not usable: {exc}", "error", sys.stderr)
        return 2
    if not settings.auth:
        logs.say("docsvc: WARNING: authentication is disabled (DOCSVC_AUTH=disabled): anyone who can reach "
                 f"{args.host}:{args.port} can issue and read every document", "warning", sys.stderr)
    services = app.extensions["docsvc"]
    keys = services.keys
    if settings.auth and not settings.admin_token and settings.archive_path and not keys.any():
        key, token = keys.create("admin", ["admin"], ["*"])
        services.audit.append("docsvc serve", "key.create", key.name, "bootstrap", "created")
        logs.say("docsvc: no API key existed: created the admin key; its token is shown once, here (use: "
                 "Authorization: Bearer <token>; create narrower keys with `docsvc keys create`)", "warning",
                 token=token)
    services.audit.flush()  # before the fork: workers start their own chains

    hooks = {**logs.gunicorn_settings(settings.log_level), **metrics.gunicorn_hooks(), **audit_gunicorn_hooks()}
    logs.say(f"docsvc: serving on http://{args.host}:{args.port} (archive {settings.archive_url})")
    Server(lambda: create_app(settings), f"{args.host}:{args.port}", settings.workers or os.cpu_count() or 1,
           settings.log_level, client_timeout=settings.client_timeout,
           max_body=settings.max_body_bytes, max_rss_mb=settings.worker_max_rss_mb,
           request_timeout=settings.request_timeout, extra=hooks).run()
    return 0


def render(args) -> int:
    """Render a payload offline: no server, no archive."""
    from .bootstrap import parts_policy
    from .errors import InvalidPayload
    from .rendering import TemplateRegistry
    from .usecases.issuing import RenderDocument

    settings = _settings()
    try:
        raw = json.loads(Path(args.payload).read_bytes(), parse_float=Decimal)
    except (OSError, ValueError) as exc:
        print(f"docsvc render: cannot read {args.payload}: {exc}", file=sys.stderr)
        return 2
    render_document = RenderDocument(TemplateRegistry(list(settings.templates_dirs), parts=parts_policy(settings)),
                                     settings.max_lines)
    if isinstance(raw, dict):
        raw["formats"] = ["facturx" if args.format == "xml" else args.format]
    try:
        data, validated = render_document(raw, args.format)
    except InvalidPayload as exc:
        print(f"docsvc render: {exc.detail}", file=sys.stderr)
        for path, messages in exc.errors.items():
            for message in messages:
                print(f"  {path}: {message}", file=sys.stderr)
        return 1
    suffix = {"facturx": ".pdf"}.get(args.format, "." + args.format)
    out = Path(args.output or Path(args.payload).with_suffix(suffix).name)
    out.write_bytes(data)
    totals = validated.document.totals
    print(f"{out}: {len(data)} bytes, net {totals.net_total}, VAT {totals.vat_total}, "
          f"gross {totals.gross_total}, due {totals.amount_due} {validated.document.currency}")
    return 0


def verify(args) -> int:
    from .archive import ArchiveUnavailable
    from .bootstrap import bootstrap
    from .errors import ServiceError

    try:
        services = bootstrap(_settings())
    except ArchiveUnavailable as exc:
        print(f"docsvc verify: archive not usable: {exc}", file=sys.stderr)
        return 2

    try:
        report = services.verify(args.id)
    except ServiceError as exc:
        print(f"docsvc verify: {exc.detail}", file=sys.stderr)
        return 2
    for f in report["files"]:
        state = "intact" if f["intact"] else f"ALTERED ({f['error'] or 'hash mismatch'})"
        print(f"{f['format']:6} {state:10} sha256 {f['sha256']} retention {f['retention_mode']} "
              f"until {f['retain_until']}")
    print("intact" if report["intact"] else "NOT INTACT")
    return 0 if report["intact"] else 1


def templates(args) -> int:
    """`docsvc templates list | publish DIR`: the same checks as the HTTP endpoint."""
    from .bootstrap import bootstrap
    from .errors import ServiceError
    from .rendering.intake import pack

    services = bootstrap(_settings())
    if args.action == "list":
        for item in services.catalogue.list():
            print(f"{item['name']}: {', '.join(item['versions'])} (latest {item['latest']})")
        return 0
    folder = Path(args.dir)
    name = args.name or folder.parent.name
    try:
        manifest = services.publish(name, pack(folder))
    except ServiceError as exc:
        print(f"docsvc templates publish: {exc.detail}", file=sys.stderr)
        for where, messages in getattr(exc, "errors", {}).items():
            for message in messages:
                print(f"  {where}: {message}", file=sys.stderr)
        return 1
    print(f"published {manifest['name']} {manifest['version']} sha256 {manifest['sha256']}")
    return 0


def archive(args) -> int:
    """`docsvc archive init`: create the S3 bucket with Object Lock and default retention.
    `docsvc archive check`: the start-up check, on its own (what /readyz says).
    `docsvc archive index-quotes`: list earlier cycle documents under their quotes."""
    from .archive import ArchiveUnavailable

    settings = _settings()
    if args.action == "index-quotes":
        from .bootstrap import bootstrap

        listed = bootstrap(settings).index_quotes()
        print(f"{listed} cycle document(s) listed under their quotes (quotes/<seller>/<quote>/)")
        return 0
    if args.action == "check":
        from .bootstrap import build_archive

        try:
            store = build_archive(settings)
            store.check()
        except ArchiveUnavailable as exc:
            print(f"docsvc archive check: {exc}", file=sys.stderr)
            return 2
        lock = {True: ", Object Lock enabled", False: ", Object Lock NOT enabled (DOCSVC_S3_ALLOW_UNLOCKED=1: "
                "development only)"}.get(bool(getattr(store, "locked", False)), "") if settings.s3_location else ""
        print(f"archive {settings.archive_url}: ready{lock}")
        return 0
    if not settings.s3_location:
        print("docsvc archive init: DOCSVC_ARCHIVE_URL is not an s3:// bucket; the filesystem archive "
              "needs no set-up", file=sys.stderr)
        return 2
    from .archive.s3 import ArchiveSetupError, S3Archive

    bucket, prefix = settings.s3_location
    try:
        for line in S3Archive(bucket, prefix, settings.s3_endpoint_url).init(settings.retention_years):
            print(line, flush=True)
    except (ArchiveSetupError, ArchiveUnavailable) as exc:
        print(f"docsvc archive init: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - an operator command: say what failed, in one line
        print(f"docsvc archive init: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def keys_command(args) -> int:
    """`docsvc keys create NAME --scopes a,b --sellers s1,s2 | list | revoke NAME`."""
    from .access import AccessError
    from .bootstrap import bootstrap

    services = bootstrap(_settings())
    store, audit = services.keys, services.audit
    try:
        if args.action == "create":
            if not args.name or not args.scopes or not args.sellers:
                print("docsvc keys create NAME --scopes a,b --sellers s1,s2 (or *)", file=sys.stderr)
                return 2
            key, token = store.create(args.name, args.scopes.split(","), args.sellers.split(","))
            audit.append("cli", "key.create", key.name, "cli", "created")
            audit.flush()
            print(f"created key {key.name}: scopes {','.join(key.scopes)}, sellers {','.join(key.sellers)}")
            print("token (shown once, stored only as a hash):")
            print(token)
        elif args.action == "list":
            for key in store.list():
                state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
                print(f"{key.name:24} {state:30} scopes {','.join(key.scopes)}  sellers {','.join(key.sellers)}")
        else:
            if not args.name:
                print("docsvc keys revoke NAME", file=sys.stderr)
                return 2
            key = store.revoke(args.name)
            audit.append("cli", "key.revoke", key.name, "cli", "revoked")
            audit.flush()
            print(f"revoked key {key.name} at {key.revoked_at}")
    except AccessError as exc:
        print(f"docsvc keys: {exc}", file=sys.stderr)
        return 1
    if audit.pending:
        print("docsvc keys: done, but its audit entry could not be written to the archive (see the log line "
              "above)", file=sys.stderr)
        return 1
    return 0


def audit_command(args) -> int:
    """`docsvc audit --since 2026-11-01`: the audit trail, oldest first, one JSON line each.
    `docsvc audit verify`: every entry re-hashed, every writer's chain followed; exit 1 if not intact."""
    from datetime import datetime

    from .bootstrap import bootstrap

    audit = bootstrap(_settings()).audit
    if args.action == "verify":
        report = audit.verify()
        for problem in report["problems"]:
            print(f"docsvc audit verify: {problem}", file=sys.stderr)
        state = "intact" if report["intact"] else f"NOT INTACT ({len(report['problems'])} problem(s))"
        unchained = f", {report['unchained']} older unchained event(s)" if report["unchained"] else ""
        print(f"audit trail {state}: {report['entries']} entries in {report['segments']} segments from "
              f"{report['writers']} writers{unchained}")
        return 0 if report["intact"] else 1
    try:
        since = datetime.fromisoformat(args.since)
    except ValueError:
        print(f"docsvc audit: --since expects an ISO date or time, got {args.since!r}", file=sys.stderr)
        return 2
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    for event in audit.since(since):
        print(json.dumps(event, ensure_ascii=False, sort_keys=True))
    return 0


def index_command(args) -> int:
    """`docsvc index rebuild [--since DATE] [--restart] | check` (issue 15): the search index
    re-derived from the archive, or compared with it."""
    from datetime import date

    from .bootstrap import build_archive
    from .index import DocumentIndex, IndexUnavailable, check, rebuild
    from .index.sync import Progress

    settings = _settings()
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            print(f"docsvc index: --since expects an ISO date (2026-11-01), got {args.since!r}", file=sys.stderr)
            return 2
    archive = build_archive(settings)
    index = DocumentIndex(settings.index_url)
    try:
        if args.action == "rebuild":
            result = rebuild(index, archive, since=since, restart=args.restart,
                             progress=lambda total: Progress(total))
            resumed = f", resumed after {result.resumed_after}" if result.resumed_after else ""
            rate = result.indexed / result.seconds if result.seconds else 0
            print(f"index {index.name}: {result.indexed} documents indexed, {result.skipped} skipped"
                  f"{resumed}, in {result.seconds:.1f} s ({rate:,.0f} documents/s)")
            return 0
        report = check(index, archive)
    except IndexUnavailable as exc:
        print(f"docsvc index {args.action}: {exc}", file=sys.stderr)
        return 2
    for doc_id in report.missing:
        print(f"missing from the index: {doc_id}")
    for doc_id in report.orphans:
        print(f"in the index, no original in the archive: {doc_id}")
    print(f"index {index.name}: {report.indexed} rows; archive: {report.archived} documents; "
          f"{len(report.missing)} missing, {len(report.orphans)} without original"
          + ("" if report.consistent else " (run `docsvc index rebuild`)" if report.missing else ""))
    return 0 if report.consistent else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docsvc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="start the HTTP service (gunicorn, one worker per core)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=serve)
    p = sub.add_parser("render", help="render a payload offline, without server or archive")
    p.add_argument("payload")
    p.add_argument("-o", "--output")
    p.add_argument("--format", default="pdf", choices=["pdf", "docx", "facturx", "xml"],
                   help="facturx: PDF/A-3b with the CII XML embedded; xml: the CII XML alone")
    p.set_defaults(func=render)
    p = sub.add_parser("verify", help="re-read a document's files and check their SHA-256")
    p.add_argument("id")
    p.set_defaults(func=verify)
    p = sub.add_parser("keys", help="create, list or revoke API keys")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("name", nargs="?")
    p.add_argument("--scopes", help="comma-separated: documents:write,documents:read,templates:write,"
                                    "templates:read,admin")
    p.add_argument("--sellers", help="comma-separated SIRENs, or * for all")
    p.set_defaults(func=keys_command)
    p = sub.add_parser("audit", help="print the audit trail (list), or check its hash chains (verify)")
    p.add_argument("action", nargs="?", choices=["list", "verify"], default="list")
    p.add_argument("--since", default="1970-01-01")
    p.set_defaults(func=audit_command)
    p = sub.add_parser("archive", help="set up (init: S3 bucket with Object Lock) or check the archive; "
                                       "index-quotes lists documents issued before the quote index")
    p.add_argument("action", choices=["init", "check", "index-quotes"])
    p.set_defaults(func=archive)
    p = sub.add_parser("templates", help="list or publish template versions")
    p.add_argument("action", choices=["list", "publish"])
    p.add_argument("dir", nargs="?", help="publish: the bundle folder (…/<name>/<version>)")
    p.add_argument("--name", help="template name (default: the bundle folder's parent)")
    p.set_defaults(func=templates)
    p = sub.add_parser("index", help="rebuild the search index from the archive, or check it against the archive")
    p.add_argument("action", choices=["rebuild", "check"])
    p.add_argument("--since", help="rebuild: only documents archived or issued on or after this date")
    p.add_argument("--restart", action="store_true", help="rebuild: ignore the checkpoint of an interrupted run")
    p.set_defaults(func=index_command)
    from .jobs.cli import add_commands

    add_commands(sub)  # worker, batch
    args = parser.parse_args(argv)
    if args.command == "templates" and args.action == "publish" and not args.dir:
        parser.error("templates publish needs the bundle folder")
    from .archive import ArchiveUnavailable

    try:
        return args.func(args)
    except ArchiveUnavailable as exc:  # an unreachable or unlocked bucket: one line, not a traceback
        print(f"docsvc {args.command}: archive not usable: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

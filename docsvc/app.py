"""create_app(settings): builds the adapters, registers the blueprints. Nothing else."""
from __future__ import annotations

import logging

from flask import Flask

from . import logs
from .access import AuditLog, KeyStore
from .api import archive as archive_api
from .api import batches, documents, errors, guard, ops, templates
from .api.openapi import build_spec
from .archive.filesystem import FilesystemArchive
from .index import open_index
from .jobs import install as install_jobs
from .metrics import Metrics, TimedArchive
from .rendering import TemplateRegistry
from .service import DocumentService, TemplateService
from .settings import Settings


def build_archive(settings: Settings):
    """The archive the settings name; an S3 bucket is checked (reachable, locked) at start-up."""
    if settings.s3_location:
        from .archive.s3 import S3Archive

        logging.getLogger("botocore.credentials").setLevel(logging.WARNING)  # "found credentials in ..."
        bucket, prefix = settings.s3_location
        archive = S3Archive(bucket, prefix, settings.s3_endpoint_url, settings.s3_allow_unlocked)
        archive.check()  # raises ArchiveUnavailable with a one-line reason
        if not archive.locked:
            logging.getLogger("docsvc").warning("S3 bucket %s has no Object Lock: originals are NOT locked "
                                                "(DOCSVC_S3_ALLOW_UNLOCKED, development only)", bucket)
        return archive
    return FilesystemArchive(settings.archive_path)


def create_app(settings: Settings | None = None, *, archive=None) -> Flask:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    app = Flask("docsvc")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    metrics = Metrics()
    archive = TimedArchive(archive or build_archive(settings), metrics)
    registry = TemplateRegistry(list(settings.templates_dirs), archive)
    service = DocumentService(archive, registry, settings.retention_years, settings.max_lines,
                              on_render=metrics.rendered)
    # The search index (issue 15): derived from the archive, migrated and swept at start-up.
    service.index = app.extensions["docsvc.index"] = open_index(settings.index_url, archive)
    app.extensions["docsvc.templates"] = TemplateService(registry, archive, settings.fixtures_dir,
                                                       settings.max_lines)
    app.extensions["docsvc.settings"] = settings
    app.extensions["docsvc.service"] = service
    app.extensions["docsvc.openapi"] = build_spec(settings)
    app.extensions["docsvc.keys"] = KeyStore(archive, settings.admin_token)
    app.extensions["docsvc.audit"] = AuditLog(archive, settings.audit_segment_seconds)
    app.extensions["docsvc.limiter"] = guard.install(app, app.extensions["docsvc.keys"],
                                                     app.extensions["docsvc.audit"], settings)
    ops.install_metrics(app, metrics)
    app.extensions["docsvc.metrics"] = metrics
    if settings.test_faults:
        app.add_url_rule("/_test/fault", "test_fault", ops.fault)
    for blueprint in (documents.bp, archive_api.bp, templates.bp, ops.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(batches.bp)
    install_jobs(app, settings)  # batches and big documents: Celery on DOCSVC_REDIS_URL
    errors.register(app)
    return app

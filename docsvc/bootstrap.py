"""One object graph for the Flask app, the CLI and the job workers: the adapters the
settings name, and the use cases wired to them. Nothing here knows HTTP."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import cast

from .access import AuditLog, KeyStore
from .archive import Archive
from .archive.filesystem import FilesystemArchive
from .index import DocumentIndex, IndexUnavailable, index_or_defer, open_index
from .metrics import Metrics, TimedArchive
from .rendering import TemplateRegistry
from .rendering.parts import PartsPolicy
from .settings import Settings
from .usecases.archive_calls import ready
from .usecases.checking import CheckDocument
from .usecases.issuing import IssueDocument, RenderDocument
from .usecases.reading import FetchDocument, IndexQuotes, VerifyDocument
from .usecases.results import Resource
from .usecases.templates import Fixtures, PreviewTemplate, PublishTemplate, TemplateCatalogue


def parts_policy(settings: Settings) -> PartsPolicy:
    """When a long invoice is laid out in parallel parts (DOCSVC_PARALLEL_LINES, DOCSVC_RENDER_PROCESSES)."""
    return PartsPolicy(settings.parallel_lines, settings.render_processes)


def build_archive(settings: Settings) -> Archive:
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
    assert settings.archive_path is not None, "Settings: a file:// archive when not s3://"
    return FilesystemArchive(settings.archive_path)


@dataclass
class Services:
    """Everything a request, a command or a job needs, built once per process."""

    settings: Settings
    archive: Archive
    templates: TemplateRegistry
    index: DocumentIndex
    metrics: Metrics
    keys: KeyStore
    audit: AuditLog
    # billing systems
    check: CheckDocument
    issue: IssueDocument
    render: RenderDocument
    # archivists and auditors
    fetch: FetchDocument
    verify: VerifyDocument
    index_quotes: IndexQuotes
    # template designers
    fixtures: Fixtures
    catalogue: TemplateCatalogue
    publish: PublishTemplate
    preview: PreviewTemplate

    def ready(self) -> None:
        """Readiness: the archive answers (StorageUnavailable otherwise)."""
        ready(self.archive)


def bootstrap(settings: Settings, archive: Archive | None = None) -> Services:
    """The adapters (archive timed for the metrics, templates, search index migrated and
    swept) and every use case on them."""
    metrics = Metrics()
    timed = cast(Archive, TimedArchive(archive or build_archive(settings), metrics))
    registry = TemplateRegistry(list(settings.templates_dirs), timed, parts_policy(settings))
    index = open_index(settings.index_url, timed)

    def index_resource(resource: Resource) -> object:
        return index_or_defer(index, timed, dict(resource))

    def out_of_order(seller: str, number: str, issued: date) -> list[tuple[str, date]]:
        """The index's documents a new number contradicts; none while the index is down (issuing
        goes on without it, as it does when a row is deferred)."""
        try:
            return index.out_of_order(seller, number, issued)
        except IndexUnavailable as exc:
            logging.getLogger("docsvc").warning("numbering order not checked for %s: %s", number, exc)
            return []

    check = CheckDocument(timed, registry, settings.max_lines, settings.rules_process, out_of_order)
    fixtures = Fixtures(settings.fixtures_dir)
    return Services(
        settings=settings, archive=timed, templates=registry, index=index, metrics=metrics,
        keys=KeyStore(timed, settings.admin_token), audit=AuditLog(timed, settings.audit_segment_seconds),
        check=check,
        issue=IssueDocument(timed, check, settings.retention_years, index_resource, metrics.rendered),
        render=RenderDocument(registry, settings.max_lines),
        fetch=FetchDocument(timed), verify=VerifyDocument(timed), index_quotes=IndexQuotes(timed),
        fixtures=fixtures, catalogue=TemplateCatalogue(registry),
        publish=PublishTemplate(registry, timed, fixtures),
        preview=PreviewTemplate(registry, fixtures, settings.max_lines),
    )

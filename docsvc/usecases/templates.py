"""Template designers: list and describe versions, publish a bundle after every check,
preview a payload with exactly one version."""
from __future__ import annotations

import json
import shutil
import tempfile
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..archive import AlreadyExists, Archive
from ..billing.model import as_plain
from ..errors import Conflict, DocumentNotFound, InvalidPayload
from ..naming import TEMPLATE_NAME
from ..rendering import TemplateRegistry
from ..rendering.bundle import Bundle, bundle_sha256
from ..rendering.checks import check_bundle, render_error
from ..rendering.errors import TemplateNotFound
from ..rendering.intake import BundleRejected, unpack
from ..rendering.registry import manifest_key, zip_key
from .archive_calls import call
from .checking import check_drawable, check_shown, einvoice, validate
from .issuing import canonical_json, render_format
from .results import TemplateVersion


class Fixtures:
    """The payload fixtures designers preview and publish with, by name."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self) -> dict[str, dict[str, Any]]:
        out = {}
        for path in sorted(self.folder.glob("*.json")):
            raw = json.loads(path.read_text(), parse_float=Decimal)
            if isinstance(raw, dict):  # the cycle's order file is a list: not a payload
                out[path.stem] = raw
        return out


class TemplateCatalogue:
    """What versions exist, shipped or published, and what each renders."""

    def __init__(self, registry: TemplateRegistry):
        self.registry = registry

    def list(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.registry.list()
        return items

    def describe(self, name: str, version: str | None = None) -> TemplateVersion:
        try:
            bundle = self.registry.get(name, version)
        except TemplateNotFound:
            raise DocumentNotFound(f"No template {name}" + (f" {version}" if version else "") + ".") from None
        published = self.registry.published(name).get((bundle.name, bundle.version))
        return {"name": bundle.name, "version": bundle.version, "description": bundle.description,
                "formats": list(bundle.formats) + (["facturx"] if "pdf" in bundle.formats else []),
                "languages": list(bundle.languages), "sha256": bundle.sha256,
                "source": "published" if published else "shipped",
                "published_at": published["published_at"] if published else None}

    def versions(self, name: str) -> dict[str, Any]:
        versions = self.registry.versions(name)
        if not versions:
            raise DocumentNotFound(f"No template {name}.")
        return {"name": name, "latest": versions[-1], "versions": [self.describe(name, v) for v in versions]}


class PublishTemplate:
    """Accept a bundle only when its manifest is valid, every file compiles and every
    fixture renders in every format it declares; then store it, never to change."""

    def __init__(self, registry: TemplateRegistry, archive: Archive, fixtures: Fixtures):
        self.registry = registry
        self.archive = archive
        self.fixtures = fixtures

    def __call__(self, name: str, data: bytes) -> TemplateVersion:
        if not TEMPLATE_NAME.fullmatch(name):
            raise InvalidPayload({"name": ["Lower-case letters, digits, - and _ only."]})
        workdir = Path(tempfile.mkdtemp(prefix="docsvc-publish-"))
        try:
            folder = workdir / "bundle"
            try:
                unpack(data, folder)
            except BundleRejected as exc:
                raise _rejected(exc.problems) from None
            version = _manifest_version(folder)
            if version and version in self.registry.versions(name):
                raise Conflict(f"Template {name} {version} exists; versions are immutable: publish a new version.",
                               existing=f"{name}/{version}")
            problems = check_bundle(folder, name)
            if not problems:
                try:
                    bundle = Bundle(folder)
                except Exception as exc:  # noqa: BLE001 - a designer's bundle can fail in any way; report it
                    problems = [render_error("document.html", exc)]
                else:
                    problems = self._render_fixtures(bundle)
            if problems or version is None:
                raise _rejected(problems)
            manifest: TemplateVersion = {
                "name": name, "version": version, "description": bundle.description,
                "formats": list(bundle.formats), "languages": list(bundle.languages),
                "sha256": bundle_sha256(folder),
                "published_at": datetime.now(UTC).isoformat(timespec="seconds")}
            try:
                call(self.archive.put_once, zip_key(name, version), data,
                     content_type="application/zip", retain_until=None)
            except AlreadyExists:
                pass  # a publish that crashed before its manifest: the manifest below completes it
            try:
                call(self.archive.put_once, manifest_key(name, version), canonical_json(manifest),
                     content_type="application/json", retain_until=None)
            except AlreadyExists:
                raise Conflict(f"Template {name} {version} was published meanwhile.",
                               existing=f"{name}/{version}") from None
            return manifest
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _render_fixtures(self, bundle: Bundle) -> list[dict[str, Any]]:
        """Every fixture in every declared format and language; one report per distinct
        error, naming the fixtures it broke."""
        problems: dict[tuple[Any, ...], dict[str, Any]] = {}
        rendered = 0
        for fixture, raw in self.fixtures().items():
            for language in bundle.languages:
                try:
                    document = validate({**raw, "language": language}).document
                except InvalidPayload:
                    continue  # not this bundle's fault
                plain = as_plain(document)
                for fmt in bundle.formats:
                    try:
                        bundle.render(fmt, plain)
                        rendered += 1
                    except Exception as exc:  # noqa: BLE001 - reported with file and line
                        report = render_error("document.html" if fmt == "pdf" else "document.docx", exc)
                        key = (report["file"], report["line"], report["message"])
                        problems.setdefault(key, {**report, "fixtures": []})["fixtures"].append(
                            f"{fixture} ({language}, {fmt})")
        if not rendered and not problems:  # nothing rendered is nothing checked: never publish on that
            return [{"file": "fixtures", "line": None,
                     "message": "no fixture to render the bundle with (DOCSVC_FIXTURES_DIR has none for its "
                                "languages): a version is published only once fixtures render through it"}]
        return [{**p, "message": f"{p['message']} — rendering {', '.join(p.pop('fixtures'))}"}
                for p in problems.values()]


class PreviewTemplate:
    """Render a payload (or {"fixture": name}) with exactly that version; archive nothing."""

    def __init__(self, registry: TemplateRegistry, fixtures: Fixtures, max_lines: int | None = None):
        self.registry = registry
        self.fixtures = fixtures
        self.max_lines = max_lines  # DOCSVC_MAX_LINES: previews obey the same limit as issuing

    def __call__(self, name: str, version: str, raw: Any, fmt: str) -> bytes:
        if isinstance(raw, dict) and set(raw) == {"fixture"}:
            fixtures = self.fixtures()
            if not isinstance(raw["fixture"], str) or raw["fixture"] not in fixtures:
                raise InvalidPayload({"fixture": [f"No fixture {raw['fixture']!r}; there are {', '.join(fixtures)}."]})
            raw = fixtures[raw["fixture"]]
        if isinstance(raw, dict):
            raw = {**raw, "template": {"name": name, "version": version},
                   "formats": [fmt if fmt in ("pdf", "docx", "facturx") else "pdf"]}
        try:
            bundle = self.registry.get(name, version)
        except TemplateNotFound:
            raise DocumentNotFound(f"No template {name} {version}.") from None
        validated = validate(raw, self.max_lines)
        check_drawable(raw, bundle)
        check_shown(bundle, validated.document)
        plain = as_plain(validated.document)
        if fmt == "html":
            html: str = bundle.html(plain)
            return html.replace(
                "</head>", f"<style>{(bundle.path / 'style.css').read_text()}</style></head>").encode()
        if not bundle.supports(fmt):
            raise InvalidPayload({"format": [f"Template {name} {version} does not render {fmt}."]})
        if fmt == "facturx":  # what an issue would archive: the PDF made PDF/A-3b with its CII
            validated.einvoice = einvoice(validated)
            return render_format(bundle, fmt, validated, plain)
        data: bytes = bundle.render(fmt, plain)
        return data


def _manifest_version(folder: Path) -> str | None:
    try:
        return str(tomllib.loads((folder / "template.toml").read_text()).get("version"))
    except (OSError, ValueError, RecursionError):  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _rejected(problems: list[dict[str, Any]]) -> InvalidPayload:
    errors: dict[str, list[str]] = {}
    for p in problems:
        where = p["file"] + (f":{p['line']}" if p.get("line") else "")
        errors.setdefault(where, []).append(p["message"])
    return InvalidPayload(errors, f"The bundle was not published: {len(problems)} problem(s).")

"""Where template versions live: shipped folders `<root>/<name>/<version>/`, and versions
published through the archive (`templates/<name>/<version>/bundle.zip`), immutable.

Bundles are loaded lazily and once per process; a published one is unpacked into a
per-process cache folder first.
"""
from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

from ..naming import SEMVER, TEMPLATE_NAME, version_key
from .bundle import Bundle
from .errors import TemplateNotFound
from .intake import unpack
from .parts import PartsPolicy

PREFIX = "templates"


def zip_key(name: str, version: str) -> str:
    return f"{PREFIX}/{name}/{version}/bundle.zip"


def manifest_key(name: str, version: str) -> str:
    return f"{PREFIX}/{name}/{version}/manifest.json"


class TemplateRegistry:
    def __init__(self, roots: list[Path], archive=None, parts: PartsPolicy | None = None):
        self.roots = [Path(r) for r in roots]
        self.archive = archive
        self.parts = parts  # when a long invoice is laid out in parallel parts (parts.py)
        self._bundles: dict[tuple[str, str], Bundle] = {}
        self._lock = threading.Lock()
        self._cache: Path | None = None

    # ---------------------------------------------------------------- what exists

    def shipped_versions(self, name: str) -> set[str]:
        if not TEMPLATE_NAME.fullmatch(name):
            return set()  # never a glob pattern or a path
        return {p.parent.name for root in self.roots for p in root.glob(f"{name}/*/template.toml")
                if SEMVER.fullmatch(p.parent.name)}

    def published(self, name: str | None = None) -> dict[tuple[str, str], dict]:
        """Manifests of the versions published through the archive."""
        if self.archive is None or (name is not None and not TEMPLATE_NAME.fullmatch(name)):
            return {}
        out = {}
        for key in self.archive.list(f"{PREFIX}/{name}/" if name else f"{PREFIX}/"):
            if key.endswith("/manifest.json"):
                manifest = json.loads(self.archive.get(key))
                out[(manifest["name"], manifest["version"])] = manifest
        return out

    def versions(self, name: str) -> list[str]:
        found = self.shipped_versions(name) | {v for (_, v) in self.published(name)}
        return sorted(found, key=version_key)

    def names(self) -> list[str]:
        shipped = {p.parent.parent.name for root in self.roots for p in root.glob("*/*/template.toml")
                   if TEMPLATE_NAME.fullmatch(p.parent.parent.name) and SEMVER.fullmatch(p.parent.name)}
        return sorted(shipped | {n for (n, _) in self.published()})

    def list(self) -> list[dict]:
        return [{"name": n, "versions": self.versions(n), "latest": self.versions(n)[-1]} for n in self.names()]

    # ---------------------------------------------------------------- loading

    def get(self, name: str, version: str | None = None) -> Bundle:
        if version is not None and (name, version) in self._bundles:  # pinned and loaded: no archive round trip
            return self._bundles[(name, version)]
        versions = self.versions(name)
        if not versions or (version is not None and version not in versions):
            raise TemplateNotFound(name, version)
        version = version or versions[-1]
        with self._lock:
            if (name, version) not in self._bundles:
                self._bundles[(name, version)] = Bundle(self._folder(name, version), self.parts)
            return self._bundles[(name, version)]

    def _folder(self, name: str, version: str) -> Path:
        for root in self.roots:
            if (root / name / version / "template.toml").is_file():
                return root / name / version
        if self._cache is None:
            self._cache = Path(tempfile.mkdtemp(prefix="docsvc-templates-"))
        target = self._cache / name / version
        if not target.exists():
            unpack(self.archive.get(zip_key(name, version)), target)
        return target

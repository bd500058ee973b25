"""Where template versions live: folders `<root>/<name>/<version>/`, loaded lazily, once."""
from __future__ import annotations

import re
import threading
from pathlib import Path

from .bundle import Bundle
from .errors import TemplateNotFound

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in SEMVER.match(version).groups())


class TemplateRegistry:
    def __init__(self, roots: list[Path]):
        self.roots = [Path(r) for r in roots]
        self._bundles: dict[tuple[str, str], Bundle] = {}
        self._lock = threading.Lock()

    def versions(self, name: str) -> list[str]:
        found = {p.parent.name for root in self.roots for p in root.glob(f"{name}/*/template.toml")
                 if SEMVER.match(p.parent.name)}
        return sorted(found, key=version_key)

    def get(self, name: str, version: str | None = None) -> Bundle:
        versions = self.versions(name)
        if not versions or (version is not None and version not in versions):
            raise TemplateNotFound(name, version)
        version = version or versions[-1]
        with self._lock:
            if (name, version) not in self._bundles:
                folder = next(root / name / version for root in self.roots
                              if (root / name / version / "template.toml").is_file())
                self._bundles[(name, version)] = Bundle(folder)
            return self._bundles[(name, version)]

    def list(self) -> list[dict]:
        names = sorted({p.parent.parent.name for root in self.roots for p in root.glob("*/*/template.toml")})
        return [{"name": n, "versions": self.versions(n), "latest": self.versions(n)[-1]} for n in names]

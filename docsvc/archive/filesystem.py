"""The embedded archive: a local write-once folder.

Each object is written to a temp file, fsynced, then hard-linked into place: `link()`
fails when the target exists, so two writers can never both win and nothing is ever
half-written at a final path. The file is then made read-only. This protects against
the service and its bugs, not against an administrator of the machine.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from .port import AlreadyExists, Archive, ArchiveUnavailable, NotFound, StoredObject

READ_ONLY = 0o444
MODE = "read-only file"


class FilesystemArchive(Archive):
    backend = "filesystem"

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._tmp = self.root / ".tmp"

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            raise ValueError(f"invalid archive key {key!r}")
        return self.root.joinpath(*parts)

    def put_once(self, key: str, data: bytes, *, content_type: str,
                 retain_until: date | None) -> StoredObject:
        target = self._path(key)
        if target.exists():
            raise AlreadyExists(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, READ_ONLY)
            try:
                os.link(tmp_name, target)
            except FileExistsError:
                raise AlreadyExists(key) from None
            _fsync_dir(target.parent)
        finally:
            os.unlink(tmp_name)
        return StoredObject(key, len(data), retain_until, MODE)

    def get(self, key: str, version: str | None = None) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None

    def head(self, key: str, version: str | None = None) -> StoredObject | None:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        locked = not (st.st_mode & 0o222)
        return StoredObject(key, st.st_size, None, MODE if locked else None)

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return iter(())
        root = str(self.root)
        keys = []
        for folder, _, files in os.walk(base):  # os.walk: a tenth of rglob's time on a large archive
            relative = os.path.relpath(folder, root).replace(os.sep, "/")
            keys += (name if relative == "." else f"{relative}/{name}" for name in files)
        return iter(sorted(k for k in keys if not k.startswith(".tmp/")))

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-")
            probe.close()
        except OSError as exc:
            raise ArchiveUnavailable(f"archive folder {self.root} is not writable: {exc.strerror}") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

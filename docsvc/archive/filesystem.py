"""The embedded archive: a local write-once folder.

Each object is written to a temp file, fsynced, then hard-linked into place: `link()`
fails when the target exists, so two writers can never both win and nothing is ever
half-written at a final path. The file is then made read-only. This protects against
the service and its bugs, not against an administrator of the machine.

Derived files (print copies) live apart, under `.derived/`, which no original key can
reach: written then renamed into place (so replaceable), left writable, with a sidecar
`.meta.json` holding their content type, expiry and metadata.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from .keys import is_key, is_prefix
from .port import AlreadyExists, Archive, ArchiveUnavailable, DerivedObject, NotFound, StoredObject

READ_ONLY = 0o444
MODE = "read-only file"


class FilesystemArchive(Archive):
    backend = "filesystem"

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._tmp = self.root / ".tmp"
        self._derived = self.root / ".derived"

    def _path(self, key: str) -> Path:
        if not is_key(key):
            raise ValueError(f"invalid archive key {key!r}")
        return self.root.joinpath(*key.split("/"))

    def put_once(self, key: str, data: bytes, *, content_type: str,
                 retain_until: date | None) -> StoredObject:
        target = self._path(key)
        try:
            return self._put_once(key, target, data, retain_until)
        except AlreadyExists:
            raise
        except OSError as exc:  # disk full, read-only, permissions: nothing was archived
            self.write_failed = f"cannot write {key}: {exc.strerror or exc}"
            raise ArchiveUnavailable(f"archive folder {self.root}: {self.write_failed}") from None

    def _put_once(self, key: str, target: Path, data: bytes, retain_until: date | None) -> StoredObject:
        if target.exists():
            raise AlreadyExists(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp_name = self._durable_temp(data)
        try:
            os.chmod(tmp_name, READ_ONLY)
            try:
                os.link(tmp_name, target)
            except FileExistsError:
                raise AlreadyExists(key) from None
            _fsync_dir(target.parent)
        finally:
            os.unlink(tmp_name)
        return StoredObject(key, len(data), retain_until, MODE)

    def _durable_temp(self, content: bytes) -> str:
        """`content` in a new file under .tmp/, on disk (fsynced) before anyone links or moves it."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            os.unlink(tmp_name)
            raise
        return tmp_name

    def get(self, key: str, version: str | None = None) -> bytes:
        if not is_key(key):
            raise NotFound(key)  # no such key can have been written
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(key) from None
        except OSError as exc:
            raise ArchiveUnavailable(f"archive folder {self.root}: cannot read {key}: {exc.strerror}") from None

    def head(self, key: str, version: str | None = None) -> StoredObject | None:
        if not is_key(key):
            return None
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ArchiveUnavailable(f"archive folder {self.root}: cannot read {key}: {exc.strerror}") from None
        locked = not (st.st_mode & 0o222)
        return StoredObject(key, st.st_size, None, MODE if locked else None)

    def list(self, prefix: str) -> Iterator[str]:
        if not is_prefix(prefix):
            return iter(())  # nothing docsvc writes lives there
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return iter(())
        root = str(self.root)
        keys: list[str] = []
        for folder, _, files in os.walk(base):  # os.walk: a tenth of rglob's time on a large archive
            relative = os.path.relpath(folder, root).replace(os.sep, "/")
            keys += (name if relative == "." else f"{relative}/{name}" for name in files)
        return iter(sorted(k for k in keys if not k.startswith((".tmp/", ".derived/"))))

    def put_derived(self, key: str, data: bytes, *, content_type: str, expires: date | None,
                    metadata: dict[str, str]) -> None:
        target = self._derived.joinpath(*self._path(key).relative_to(self.root).parts)
        meta = {"content_type": content_type, "expires": expires.isoformat() if expires else None,
                "metadata": dict(metadata)}
        target.parent.mkdir(parents=True, exist_ok=True)
        for path, content in ((target, data), (_sidecar(target), json.dumps(meta).encode())):
            tmp_name = self._durable_temp(content)
            try:
                os.replace(tmp_name, path)
            except BaseException:
                os.unlink(tmp_name)
                raise

    def get_derived(self, key: str) -> DerivedObject:
        target = self._derived.joinpath(*self._path(key).relative_to(self.root).parts)
        try:
            meta = json.loads(_sidecar(target).read_bytes())
            data = target.read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None
        expires = date.fromisoformat(meta["expires"]) if meta["expires"] else None
        if expires is not None and expires < date.today():
            for path in (target, _sidecar(target)):
                path.unlink(missing_ok=True)
            raise NotFound(key)
        return DerivedObject(key, data, meta["content_type"], expires, meta["metadata"])

    def check(self) -> None:
        """A write probe where every write starts (the .tmp folder): a few KiB written,
        fsynced and removed, so a full or read-only disk shows here, not in a request."""
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self._tmp, prefix="ready-") as probe:
                probe.write(b"\0" * 4096)
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as exc:
            raise ArchiveUnavailable(f"archive folder {self.root} is not writable: {exc.strerror or exc}") from None


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""An in-memory archive for the use cases' tests: the Archive port, kept honest by the same
contract test the filesystem and S3 adapters pass (tests/integration/test_archive_contract.py),
with a switch to fail writes the way a power cut or an unreachable bucket would."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date

from docsvc.archive import AlreadyExists, Archive, ArchiveUnavailable, NotFound, keys
from docsvc.archive.port import DerivedObject, StoredObject


class InMemoryArchive(Archive):
    backend = "memory"

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, date | None]] = {}
        self.derived: dict[str, DerivedObject] = {}
        self.writes: list[str] = []  # every key written, in order
        self.fail_writes: Callable[[str], Exception | None] = lambda key: None
        self._lock = threading.Lock()

    def put_once(self, key: str, data: bytes, *, content_type: str, retain_until: date | None) -> StoredObject:
        if not keys.is_key(key):
            raise ValueError(f"invalid archive key {key!r}")
        failure = self.fail_writes(key)
        if failure is not None:
            raise failure
        with self._lock:
            if key in self.objects:
                raise AlreadyExists(key)
            self.objects[key] = (bytes(data), retain_until)
            self.writes.append(key)
        return StoredObject(key, len(data), retain_until, "memory" if retain_until else None)

    def get(self, key: str, version: str | None = None) -> bytes:
        try:
            return self.objects[key][0]
        except KeyError:
            raise NotFound(key) from None

    def head(self, key: str, version: str | None = None) -> StoredObject | None:
        if key not in self.objects:
            return None
        data, retain_until = self.objects[key]
        return StoredObject(key, len(data), retain_until, "memory" if retain_until else None)

    def list(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def put_derived(self, key: str, data: bytes, *, content_type: str, expires: date | None,
                    metadata: dict[str, str]) -> None:
        self.derived[key] = DerivedObject(key, bytes(data), content_type, expires, dict(metadata))

    def get_derived(self, key: str) -> DerivedObject:
        found = self.derived.get(key)
        if found is None or (found.expires is not None and found.expires < date.today()):
            self.derived.pop(key, None)
            raise NotFound(key)
        return found

    def check(self) -> None:
        return None


def power_cut_on(suffix: str) -> Callable[[str], Exception | None]:
    """Fail the write of any key ending in `suffix` (the resource, say) as a crash would."""
    return lambda key: RuntimeError("power cut") if key.endswith(suffix) else None


def unreachable(key: str) -> Exception:
    return ArchiveUnavailable("the bucket did not answer")

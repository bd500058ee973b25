"""API keys, scopes and sellers; the audit trail. Both live behind the archive port, so
every instance and every worker sees the same keys, revocations and history at once.

Tokens are 32 random bytes, shown once, stored only as their SHA-256 (a token has far
too much entropy for a slower hash to add anything). Keys and revocations are written
once, like originals: revoking a key writes a revocation next to it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from .archive import AlreadyExists, Archive, NotFound
from .schemas.codes import seller_key_problem

SCOPES = ("documents:write", "documents:read", "templates:write", "templates:read", "admin")
TOKEN_PREFIX = "dsv_"
ALL_SELLERS = "*"


class AccessError(ValueError):
    """A key can't be created or changed as asked (bad name, scope, seller, or exists)."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    scopes: tuple[str, ...]
    sellers: tuple[str, ...]  # SIRENs (or VAT ids), or ("*",) for all
    token_sha256: str
    created_at: str
    revoked_at: str | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def may_act_for(self, seller: str | None) -> bool:
        return ALL_SELLERS in self.sellers or (seller is not None and seller in self.sellers)

    @property
    def seller_filter(self) -> set[str] | None:
        """None means every seller."""
        return None if ALL_SELLERS in self.sellers else set(self.sellers)


def _key_from(record: bytes) -> ApiKey:
    return ApiKey(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(record).items()})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def admin_key(token: str) -> ApiKey:
    """The key DOCSVC_ADMIN_TOKEN stands for: not stored, never revoked by the API."""
    return ApiKey("admin (DOCSVC_ADMIN_TOKEN)", ("admin",), (ALL_SELLERS,), token_hash(token), "")


@dataclass
class KeyStore:
    archive: Archive
    admin_token: str | None = None
    _admin: ApiKey | None = field(default=None, init=False)

    def __post_init__(self):
        if self.admin_token:
            self._admin = admin_key(self.admin_token)

    @staticmethod
    def _key(digest: str) -> str:
        return f"keys/by-hash/{digest}.json"

    @staticmethod
    def _name(name: str) -> str:
        return f"keys/by-name/{name}.json"

    @staticmethod
    def _revocation(digest: str) -> str:
        return f"keys/revoked/{digest}.json"

    def create(self, name: str, scopes: list[str], sellers: list[str]) -> tuple[ApiKey, str]:
        """A new key and its token (shown once)."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", name):
            raise AccessError(f"key name {name!r}: lower-case letters, digits, . _ - only")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise AccessError(f"scopes must be among {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})")
        if not sellers or any(s != ALL_SELLERS and not re.fullmatch(r"[A-Z0-9]{2,16}", s) for s in sellers):
            raise AccessError("sellers: SIRENs (or VAT ids) separated by commas, or * for all")
        wrong = [p for p in (seller_key_problem(s) for s in sellers if s != ALL_SELLERS) if p]
        if wrong:  # a key for a mistyped SIREN would silently act for nobody
            raise AccessError("sellers: " + "; ".join(wrong))
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(name, tuple(scopes), tuple(sellers), token_hash(token),
                     datetime.now(timezone.utc).isoformat(timespec="seconds"))
        record = json.dumps(asdict(key), sort_keys=True).encode()
        try:
            self.archive.put_once(self._name(name), record, content_type="application/json", retain_until=None)
        except AlreadyExists:
            raise AccessError(f"a key named {name!r} exists (names are never reused)") from None
        self.archive.put_once(self._key(key.token_sha256), record, content_type="application/json",
                              retain_until=None)
        return key, token

    def authenticate(self, token: str) -> ApiKey | None:
        """The live key this token belongs to, or None. Read from the archive every time,
        so a revocation takes effect at once on every worker and instance."""
        digest = token_hash(token)
        if self._admin and hmac.compare_digest(digest, self._admin.token_sha256):
            return self._admin
        try:
            key = _key_from(self.archive.get(self._key(digest)))
        except NotFound:
            return None
        if self.archive.head(self._revocation(digest)) is not None:
            return None
        return key

    def list(self) -> list[ApiKey]:
        out = []
        for path in self.archive.list("keys/by-name/"):
            key = _key_from(self.archive.get(path))
            revoked = self.archive.head(self._revocation(key.token_sha256))
            if revoked is not None:
                revocation = json.loads(self.archive.get(self._revocation(key.token_sha256)))
                key = ApiKey(**{**asdict(key), "revoked_at": revocation["revoked_at"]})
            out.append(key)
        return out

    def revoke(self, name: str) -> ApiKey:
        key = next((k for k in self.list() if k.name == name), None)
        if key is None:
            raise AccessError(f"no key named {name!r}")
        if key.revoked_at:
            return key
        when = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            self.archive.put_once(self._revocation(key.token_sha256), json.dumps({"name": name, "revoked_at": when})
                                  .encode(), content_type="application/json", retain_until=None)
        except AlreadyExists:
            pass
        return ApiKey(**{**asdict(key), "revoked_at": when})

    def any(self) -> bool:
        return next(iter(self.archive.list("keys/by-name/")), None) is not None


GENESIS = "0" * 64
log = logging.getLogger("docsvc.audit")


def _canonical(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict) -> str:
    """SHA-256 of the entry (its `prev` included, its own `hash` left out)."""
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


class AuditLog:
    """What an auditor asks about (issued, read, verified, published, keys changed), kept
    write-once at the cost of one archive object per writer and period, not per request.

    Each process is a writer with its own chain: every entry carries the SHA-256 of the one
    before (`prev`) and its own (`hash`); entries are buffered and written as a segment
    (`audit/YYYY/MM/DD/HHMMSS-<writer>-<seq>.jsonl`, a header line then one entry a line)
    when `segment_seconds` have passed since its first entry, when it holds `max_entries`,
    and when the process ends (`flush()`: gunicorn's worker_exit, the CLI commands); a
    process killed outright loses what it buffered, at most `segment_seconds` of entries. A segment's header names its writer, its number in that
    writer's sequence, the hash it continues from and its last entry's hash, so `verify`
    finds an entry or a segment that was altered, removed or reordered. Refused requests
    are not audited: they go to the logs and the metrics.
    """

    def __init__(self, archive: Archive, segment_seconds: float = 60, max_entries: int = 1000):
        self.archive = archive
        self.segment_seconds = segment_seconds
        self.max_entries = max_entries
        self._start_writer()

    def _start_writer(self) -> None:
        """A new chain: one per process (a forked worker never continues its parent's)."""
        self._lock = threading.RLock()
        self._pid = os.getpid()
        host = re.sub(r"[^A-Za-z0-9]+", "-", socket.gethostname())[:40].strip("-") or "host"
        self._writer = f"{host}-{self._pid}-{secrets.token_hex(3)}"
        self._seq = 0
        self._last = GENESIS
        self._buffer: list[dict] = []
        self._timer: threading.Timer | None = None

    def append(self, who: str, action: str, target: str | None, request_id: str, outcome: str) -> None:
        if os.getpid() != self._pid:
            self._start_writer()
        with self._lock:
            previous = self._buffer[-1]["hash"] if self._buffer else self._last
            entry = {"at": datetime.now(timezone.utc).isoformat(timespec="microseconds"), "who": who,
                     "action": action, "target": target, "request_id": request_id, "outcome": outcome,
                     "prev": previous}
            entry["hash"] = entry_hash(entry)
            self._buffer.append(entry)
            if len(self._buffer) >= self.max_entries:
                self.flush()
            elif self._timer is None:
                self._timer = threading.Timer(self.segment_seconds, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write the buffered entries as this writer's next segment. On failure they stay
        buffered, to be written with the next flush."""
        if os.getpid() != self._pid:
            return  # a forked child holds a copy of its parent's buffer: the parent writes it
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            while self._buffer:
                entries = self._buffer
                header = {"writer": self._writer, "seq": self._seq, "prev": entries[0]["prev"],
                          "last": entries[-1]["hash"], "entries": len(entries)}
                opened = datetime.fromisoformat(entries[0]["at"])
                key = f"audit/{opened:%Y/%m/%d/%H%M%S}-{self._writer}-{self._seq:08d}.jsonl"
                body = b"".join(_canonical(line) + b"\n" for line in [header, *entries])
                try:
                    self.archive.put_once(key, body, content_type="application/x-ndjson", retain_until=None)
                    written = len(entries)
                except AlreadyExists:  # an earlier attempt timed out, yet landed: keep what it holds
                    written = self._landed(key, entries)
                except Exception as exc:  # noqa: BLE001 - keep the entries; retry at the next flush
                    log.error("audit segment not written, kept for the next attempt", exc_info=exc,
                              extra={"fields": {"segment": key, "entries": len(entries)}})
                    self._timer = threading.Timer(self.segment_seconds, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                    return
                self._last = entries[written - 1]["hash"]
                self._seq += 1
                self._buffer = entries[written:]

    @property
    def pending(self) -> int:
        """Entries not written yet (after a failed flush: the archive did not take them)."""
        return len(self._buffer) if os.getpid() == self._pid else 0

    def _landed(self, key: str, entries: list[dict]) -> int:
        stored = [json.loads(line) for line in self.archive.get(key).splitlines()[1:]]
        if [e["hash"] for e in stored] != [e["hash"] for e in entries[:len(stored)]] or not stored:
            raise RuntimeError(f"audit segment {key} exists with other entries")
        return len(stored)

    def _segments(self) -> list[tuple[str, list[dict]]]:
        self.flush()  # this process's own entries too
        return [(key, [json.loads(line) for line in self.archive.get(key).splitlines() if line.strip()])
                for key in self.archive.list("audit/")]

    def since(self, start: datetime) -> list[dict]:
        """Every entry from `start`, oldest first, whichever process wrote it."""
        events = []
        for key, lines in self._segments():
            entries = lines[1:] if key.endswith(".jsonl") else lines  # .json: one event (before segments)
            events += [e for e in entries if datetime.fromisoformat(e["at"]) >= start]
        return sorted(events, key=lambda e: e["at"])

    def verify(self) -> dict:
        """Re-hash every entry and follow each writer's chain from its first segment on."""
        problems: list[str] = []
        chains: dict[str, list[tuple[int, str, dict, list[dict]]]] = {}
        legacy = entries = 0
        for key, lines in self._segments():
            if key.endswith(".json"):
                legacy += 1
                continue
            header = lines[0] if lines else {}
            if not {"writer", "seq", "prev", "last", "entries"} <= set(header):
                problems.append(f"{key}: not an audit segment (no header)")
                continue
            chains.setdefault(header["writer"], []).append((header["seq"], key, header, lines[1:]))
        for writer, segments in sorted(chains.items()):
            last, expected = GENESIS, 0
            segments.sort(key=lambda s: s[0])
            for seq, key, header, body in segments:
                if seq != expected:
                    problems.append(f"writer {writer}: segment {expected} is missing (found {seq} next)")
                expected = seq + 1
                if header["prev"] != last:
                    problems.append(f"{key}: does not continue segment {seq - 1} of its writer "
                                    "(a segment was removed or altered)")
                running = header["prev"]
                for number, entry in enumerate(body, start=1):
                    entries += 1
                    if entry.get("prev") != running:
                        problems.append(f"{key}: entry {number} does not follow the entry before it "
                                        "(an entry was removed or reordered)")
                    if entry_hash(entry) != entry.get("hash"):
                        problems.append(f"{key}: entry {number} was altered (its SHA-256 does not match)")
                    running = entry.get("hash")
                if len(body) != header["entries"] or running != header["last"]:
                    problems.append(f"{key}: holds {len(body)} entries ending in {str(running)[:12]}, its header "
                                    f"says {header['entries']} ending in {header['last'][:12]} "
                                    "(entries were removed or added)")
                last = header["last"]
        return {"intact": not problems, "problems": problems, "writers": len(chains),
                "segments": sum(len(s) for s in chains.values()), "entries": entries, "unchained": legacy}


def gunicorn_hooks() -> dict:
    """A worker that stops (graceful stop, max_requests, timeout) writes what it buffers."""
    def worker_exit(server, worker):
        services = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("docsvc")
        if services is not None:
            services.audit.flush()

    return {"worker_exit": worker_exit}

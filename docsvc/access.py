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
import re
import secrets
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


class AuditLog:
    """Append-only: one write-once object per event, named so keys sort in time order."""

    def __init__(self, archive: Archive):
        self.archive = archive

    def append(self, who: str, action: str, target: str | None, request_id: str, outcome: str) -> None:
        now = datetime.now(timezone.utc)
        event = {"at": now.isoformat(timespec="microseconds"), "who": who, "action": action, "target": target,
                 "request_id": request_id, "outcome": outcome}
        key = f"audit/{now:%Y/%m/%d}/{now:%H%M%S%f}-{secrets.token_hex(4)}.json"
        self.archive.put_once(key, json.dumps(event, sort_keys=True).encode(), content_type="application/json",
                              retain_until=None)

    def since(self, start: datetime) -> list[dict]:
        events = [json.loads(self.archive.get(k)) for k in self.archive.list("audit/")]
        events = [e for e in events if datetime.fromisoformat(e["at"]) >= start]
        return sorted(events, key=lambda e: e["at"])

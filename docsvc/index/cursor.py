"""Opaque search cursors: the last row's position, signed and bound to one search.

A cursor carries (sort value, id) of the last item served, and an HMAC over that position
and the search it belongs to: the API key, the filters and the sort. Another key's
cursor, a cursor replayed with other filters, or an edited one is refused.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json


class BadCursor(ValueError):
    pass


def binding(key_name: str, filters: dict[str, str]) -> str:
    """What a cursor is valid for: the caller and the exact search (cursor and limit aside)."""
    kept = {k: v for k, v in filters.items() if k not in ("cursor", "limit")}
    return json.dumps([key_name, sorted(kept.items())], separators=(",", ":"))


def encode(secret: bytes, bound_to: str, after: tuple[str, str]) -> str:
    position = json.dumps(list(after), separators=(",", ":"), ensure_ascii=False).encode()
    mac = hmac.new(secret, bound_to.encode() + b"\0" + position, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac + position).decode().rstrip("=")


def decode(secret: bytes, bound_to: str, token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise BadCursor("Not a cursor this service handed out.") from None
    mac, position = raw[:16], raw[16:]
    expected = hmac.new(secret, bound_to.encode() + b"\0" + position, hashlib.sha256).digest()[:16]
    if len(raw) <= 16 or not hmac.compare_digest(mac, expected):
        raise BadCursor("Not a cursor of this search: it belongs to another key, other filters, "
                        "or was altered. Start again without a cursor.")
    try:
        value, last_id = json.loads(position)
    except (ValueError, TypeError):
        raise BadCursor("Not a cursor this service handed out.") from None
    if not isinstance(value, str) or not isinstance(last_id, str):
        raise BadCursor("Not a cursor this service handed out.")
    return value, last_id

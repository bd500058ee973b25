"""Reading a JSON body: numbers as Decimal, never float; clear 400/413/415 otherwise.

Refused with 400, as not JSON docsvc can keep: an object with the same key twice (which
value would count?), and text that is not valid Unicode (a lone surrogate such as
"\\ud800" parses in Python but can't be written as UTF-8 into a document)."""
from __future__ import annotations

import json
from decimal import Decimal

from flask import request

from ..errors import InvalidPayload
from .context import services
from .errors import BadRequestBody


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number docsvc accepts")


def _decimal(text: str) -> Decimal | str:
    """A JSON number as a Decimal; one no Decimal can hold (1e99999999999999999999) is kept as
    its text, which the payload schema refuses with a 422 naming the field, as it does a string."""
    try:
        return Decimal(text)
    except ArithmeticError:
        return text


def _integer(text: str) -> int | str:
    """Python refuses integers of over 4 300 digits; no field takes one: the schema says so."""
    return int(text) if len(text) <= 100 else text


class DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or _remember(seen, k))
        raise DuplicateKey(twice)
    return result


def _unicode_ok(value) -> bool:
    """No lone surrogate anywhere, in keys or strings (str.encode refuses them)."""
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_body():
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise BadRequestBody(415, f"Send JSON with Content-Type: application/json (got {mimetype or 'none'}).")
    charset = (request.mimetype_params.get("charset") or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise BadRequestBody(415, f"Send JSON in UTF-8 (got charset={charset[:40]}).")
    data = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        text = data.decode("utf-8")  # not json.loads(bytes), which would take UTF-16 and UTF-32 too
        body = json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_no_constants,
                          object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise BadRequestBody(400, "The body is not UTF-8.") from None
    except DuplicateKey as exc:
        raise BadRequestBody(400, f"The body has the key {str(exc)[:80]!r} twice in one object; "
                                  "send each key once.") from None
    except RecursionError:
        body = None  # nested past Python's own limit: reported below as too deep
    except ValueError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise BadRequestBody(400, f"The body is not valid JSON{where}.") from None
    limit = services().settings.max_depth
    if body is None and data.strip() != b"null" or _depth(body, limit) > limit:
        raise InvalidPayload({"$": [f"Nested deeper than {limit} levels (DOCSVC_MAX_DEPTH)."]})
    if not _unicode_ok(body):
        raise BadRequestBody(400, "The body's text is not valid Unicode (a lone UTF-16 surrogate escape "
                                  "such as \\ud800): send each character whole.")
    return body


def _depth(value, limit: int, level: int = 1) -> int:
    """How deep objects and arrays nest, counting no further than past the limit."""
    if level > limit or not isinstance(value, (dict, list)):
        return level
    children = value.values() if isinstance(value, dict) else value
    return max((_depth(v, limit, level + 1) for v in children), default=level)


def _remember(seen: set[str], key: str) -> bool:
    """Add `key` to `seen`; False, so a generator can record as it searches."""
    seen.add(key)
    return False

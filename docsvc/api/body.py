"""Reading a JSON body: numbers as Decimal, never float; clear 400/413/415 otherwise."""
from __future__ import annotations

import json
from decimal import Decimal

from flask import request

from .errors import BadRequestBody


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number docsvc accepts")


def json_body():
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise BadRequestBody(415, f"Send JSON with Content-Type: application/json (got {mimetype or 'none'}).")
    data = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        return json.loads(data, parse_float=Decimal, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise BadRequestBody(400, "The body is not UTF-8.") from None
    except ValueError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else ""
        raise BadRequestBody(400, f"The body is not valid JSON{where}.") from None

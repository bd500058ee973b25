"""A route declares everything about itself in one place: the scope it needs, what the
audit trail records, and its OpenAPI operation. The guard (api/guard.py) and the OpenAPI
document (api/openapi.py) read it from the view; nothing is keyed by endpoint strings.

    @bp.get("/v1/documents/<doc_id>")
    @operation("documents:read", "The document resource", tag="archive", audit="read",
               ok=("Found", "DocumentResource"), errors=(404, 503))
    def get_document(doc_id): ...

A view with neither `operation` nor `public` makes create_app fail: no route is public by
omission.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask

from ..access import SCOPES
from ..archive.keys import SELLER_KEY, is_document_id
from ..naming import SEMVER, TEMPLATE_NAME

View = TypeVar("View", bound=Callable[..., Any])

FORMATS = ("pdf", "docx", "facturx", "xml")


@dataclass(frozen=True)
class PathParameter:
    """A path parameter's grammar (a value outside it is a 404 before storage is touched)
    and how the OpenAPI document names and describes it."""

    what: str
    fits: Callable[[str], object]
    schema: dict[str, Any]
    description: str | None = None
    spec_name: str | None = None  # its name in the OpenAPI path, when the view's argument differs


#: Every path parameter a route may use.
PATH_PARAMETERS: dict[str, PathParameter] = {
    "doc_id": PathParameter("document", is_document_id,
                            {"type": "string", "pattern": r"^[A-Z0-9]{2,16}-[A-Za-z0-9_.~-]{1,140}$"},
                            "SIREN (or VAT id) - number, e.g. 552100554-F-2026-0042"),
    "seller": PathParameter("seller", SELLER_KEY.fullmatch, {"type": "string"}, "seller SIREN (or VAT id)"),
    "number": PathParameter("quote number", lambda v: True, {"type": "string"}, "quote number, e.g. D-2026-0007"),
    "fmt": PathParameter("format", lambda v: v in FORMATS, {"type": "string", "enum": list(FORMATS)},
                         spec_name="format"),
    "name": PathParameter("template", TEMPLATE_NAME.fullmatch,
                          {"type": "string", "pattern": "^" + TEMPLATE_NAME.pattern + "$"}),
    "version": PathParameter("template version", SEMVER.fullmatch,
                             {"type": "string", "pattern": "^" + SEMVER.pattern + "$"}),
    "batch_id": PathParameter("batch", lambda v: True, {"type": "string"}),
    "job_id": PathParameter("job", lambda v: True, {"type": "string"}),
}


@dataclass(frozen=True)
class Operation:
    """What a route is: who may call it, what is audited, how the OpenAPI document shows it."""

    scope: str | None  # None: public
    summary: str = ""
    tag: str = ""
    audit: str | None = None  # the audited action, recorded for 2xx answers
    rate_limited: bool = True
    in_spec: bool = True
    checks_own_path: bool = False  # the view checks its path parameters itself (publish: 422, not 404)
    description: str | None = None
    body: dict[str, Any] | None = None  # the OpenAPI requestBody
    query: tuple[dict[str, Any], ...] = ()  # the OpenAPI query parameters
    responses: dict[str, Any] = field(default_factory=dict)  # the OpenAPI success responses
    errors: tuple[int, ...] = ()  # the problem+json statuses it can answer (401/403/429 added when scoped)
    path_names: dict[str, str] = field(default_factory=dict)  # argument -> description override


def operation(scope: str | None, summary: str, *, tag: str, ok: tuple[str, Any] | None = None,
              **options: Any) -> Callable[[View], View]:
    """Declare a route's scope and its OpenAPI operation on the view itself. `ok` is the
    200 answer as (description, schema or component name); `responses` any other."""
    responses = dict(options.pop("responses", {}))
    if ok is not None:
        description, schema = ok
        responses["200"] = {"description": description, "content": json_content(schema)}

    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)}")

    def declare(view: View) -> View:
        view.operation = Operation(scope, summary, tag, responses=responses, **options)  # type: ignore[attr-defined]
        return view

    return declare


def public(view: View) -> View:
    """A page or asset anyone may fetch, outside the API document (docs, designer page)."""
    view.operation = Operation(None, in_spec=False)  # type: ignore[attr-defined]
    return view


def json_content(schema: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def operation_of(app: Flask, endpoint: str | None) -> Operation | None:
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "operation", None)


def undeclared(app: Flask) -> list[str]:
    """Endpoints with neither `operation` nor `public` (Flask's own static files excepted)."""
    return sorted(e for e, view in app.view_functions.items()
                  if e != "static" and getattr(view, "operation", None) is None)


def openapi_path(rule: str) -> str:
    """/v1/documents/<doc_id>/files/<fmt> -> /v1/documents/{doc_id}/files/{format}"""
    def name(match: re.Match[str]) -> str:
        argument = match.group(1).split(":")[-1]
        parameter = PATH_PARAMETERS.get(argument)
        return "{" + (parameter.spec_name if parameter and parameter.spec_name else argument) + "}"

    return re.sub(r"<([^>]+)>", name, rule)

"""The OpenAPI document: components from the marshmallow schemas the API uses, paths from the
routes' own declarations (api/routes.py)."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import fields

from .. import __version__
from ..rendering.intake import MAX_BYTES as BUNDLE_MAX_BYTES
from ..rendering.intake import MAX_FILES as BUNDLE_MAX_FILES
from ..schemas import jobs
from ..schemas import resources as out
from ..schemas.fields import DECIMAL, MAX_LITERAL, Amount, Text
from ..schemas.payload import payload_schema
from ..settings import Settings
from .routes import PATH_PARAMETERS, Operation, openapi_path, operation_of

PROBLEM = {"application/problem+json": {"schema": "Problem"}}


def _decimal_as_string_or_number(converter, field, ret, **kwargs):
    """Requests take decimals as strings or JSON numbers (API.md); say so instead of 'number'."""
    if isinstance(field, Amount):
        ret.pop("type", None)
        ret.pop("format", None)
        for bound in ("minimum", "maximum"):  # Range bounds come out as decimal strings: make them numbers
            if bound in ret:
                value = Decimal(str(ret[bound]))
                ret[bound] = int(value) if value == value.to_integral() else float(value)
        if "maximum" not in ret:
            ret["maximum"] = int(field.max_abs)
        if "minimum" not in ret:
            ret["minimum"] = -int(field.max_abs)
        return {"oneOf": [{"type": "string", "maxLength": MAX_LITERAL, "pattern": "^" + DECIMAL.pattern + "$"},
                          {"type": "number"}]}
    if isinstance(field, Text):
        return {"maxLength": field.max_length, "minLength": 1}
    if isinstance(field, fields.Decimal) and field.as_string:  # responses: amounts are decimal strings
        ret["type"] = "string"
        ret["format"] = "decimal"
        return {"pattern": r"^-?\d+(\.\d+)?$"}
    return {}


#: What each problem status means, as the OpenAPI document says it.
PROBLEM_TITLES = {400: "Not JSON", 401: "No or bad API key (WWW-Authenticate)", 403: "The key lacks the scope or seller",
              404: "Not found (or another seller's)", 409: "Exists already (originals and versions are immutable)",
              413: "Body too large", 415: "Not JSON", 422: "Invalid payload, legal mention or bundle",
              429: "Rate limit exceeded (Retry-After)", 503: "Archive unavailable (Retry-After)"}


def build_spec(app: Flask, settings: Settings) -> dict[str, Any]:
    """Components from the marshmallow schemas; paths from the routes' own declarations
    (api/routes.py), so a route is described where it is written."""
    plugin = MarshmallowPlugin()
    limits = {"max_body_bytes": settings.max_body_bytes, "max_lines": settings.max_lines,
              "max_depth": settings.max_depth, "rate_limit_per_key": settings.rate_limit,
              "rate_limit_per_address_without_key": settings.rate_limit_anonymous,
              "client_timeout_seconds": settings.client_timeout,
              "max_bundle_bytes": BUNDLE_MAX_BYTES, "max_bundle_files": BUNDLE_MAX_FILES}
    spec = APISpec(title="docsvc", version=__version__, openapi_version="3.0.3", plugins=[plugin],
                   info={"description": "JSON invoice payloads in, French invoice documents out, "
                                        "originals archived write-once. Errors are RFC 9457 problem+json. "
                                        f"Limits: bodies {settings.max_body_bytes} bytes (413), "
                                        f"{settings.max_lines} lines (422), nesting {settings.max_depth} levels "
                                        f"(422), {settings.rate_limit} per API key and "
                                        f"{settings.rate_limit_anonymous} per address without a valid key (429), "
                                        f"a whole request within {settings.client_timeout} s (408). Send "
                                        "Authorization: Bearer <token>.",
                         "x-docsvc-limits": limits},
                   components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
                   security=[{"bearer": []}])
    plugin.converter.add_attribute_function(_decimal_as_string_or_number)
    spec.components.schema("DocumentPayload", schema=payload_schema(settings.max_lines))  # maxItems in force
    for name in ("DocumentResourceSchema", "DocumentSummarySchema", "SearchResultSchema",
                 "ValidationResultSchema", "VerifyReportSchema", "ProblemSchema"):
        spec.components.schema(name.removesuffix("Schema"), schema=getattr(out, name))
    for name in ("BatchSchema", "JobSchema"):
        spec.components.schema(name.removesuffix("Schema"), schema=getattr(jobs, name))
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        declared = operation_of(app, rule.endpoint)
        if declared is None or not declared.in_spec:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            spec.path(openapi_path(rule.rule), operations={method.lower(): _operation(declared, rule.arguments)})
    return spec.to_dict()


#: The order path parameters are listed in, as they appear in the paths.
_PARAMETER_ORDER = ("doc_id", "seller", "number", "name", "version", "fmt", "batch_id", "job_id")


def _operation(declared: Operation, arguments: Iterable[str]) -> dict[str, Any]:
    """One route's OpenAPI operation: its path parameters from their grammar, its problems."""
    parameters = []
    for argument in sorted(arguments, key=_PARAMETER_ORDER.index):
        grammar = PATH_PARAMETERS[argument]
        parameter = {"name": grammar.spec_name or argument, "in": "path", "required": True,
                     "schema": grammar.schema}
        if grammar.description:
            parameter["description"] = grammar.description
        parameters.append(parameter)
    operation: dict[str, Any] = {"summary": declared.summary, "tags": [declared.tag]}
    if declared.description:
        operation["description"] = declared.description
    if declared.scope is None:
        operation["security"] = []
    if parameters or declared.query:
        operation["parameters"] = parameters + list(declared.query)
    if declared.body is not None:
        operation["requestBody"] = declared.body
    problems = set(declared.errors) | ({401, 403, 429} if declared.scope is not None else set())
    operation["responses"] = {**declared.responses,
                              **{str(c): {"description": PROBLEM_TITLES[c], "content": PROBLEM}
                                 for c in sorted(problems)}}
    return operation

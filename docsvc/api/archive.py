"""Archivists and auditors: fetch, search and verify originals. Nothing here writes."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, jsonify, request

from ..errors import InvalidPayload
from ..schemas.resources import (
    DocumentResourceSchema,
    SearchResultSchema,
    VerifyReportSchema,
)
from .guard import allowed_sellers
from .params import check_path, search_filters

bp = Blueprint("archive", __name__)
bp.before_request(check_path)

SEARCH_FILTERS = ("seller", "number", "type", "from", "to")


def service():
    return current_app.extensions["docsvc.service"]


@bp.get("/v1/documents/<doc_id>")
def get_document(doc_id: str):
    return jsonify(DocumentResourceSchema().dump(service().fetch(doc_id, allowed_sellers())))


@bp.get("/v1/documents/<doc_id>/files/<fmt>")
def get_file(doc_id: str, fmt: str):
    data, record = service().original(doc_id, fmt, allowed_sellers())
    etag = record["sha256"]
    if request.if_none_match.contains_weak(etag):  # W/"<sha>" too: the bytes never change
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    filename = record.get("filename", f"{doc_id}.{fmt}")
    return Response(data, mimetype=record["media_type"], headers={
        "ETag": f'"{etag}"',
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, max-age=31536000, immutable",
    })


@bp.get("/v1/documents")
def search_documents():
    args = request.args
    unknown = sorted(set(args) - set(SEARCH_FILTERS))
    errors = {name: ["Unknown filter."] for name in unknown}
    errors.update(search_filters(args))
    dates = {}
    for name in ("from", "to"):
        if name in args:
            try:
                dates[name] = date.fromisoformat(args[name])
            except ValueError:
                errors[name] = ["Not an ISO 8601 date (2026-11-22)."]
    if errors:
        raise InvalidPayload(errors, "Invalid search filters: " + ", ".join(sorted(errors)) + ".")
    items = service().search(seller=args.get("seller"), number=args.get("number"), type=args.get("type"),
                             date_from=dates.get("from"), date_to=dates.get("to"),
                             sellers=allowed_sellers())
    return jsonify(SearchResultSchema().dump({"count": len(items), "items": items}))


@bp.get("/v1/documents/<doc_id>/verify")
def verify_document(doc_id: str):
    return jsonify(VerifyReportSchema().dump(service().verify(doc_id, allowed_sellers())))

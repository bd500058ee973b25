"""Archivists and auditors: fetch, search and verify originals. Nothing here writes."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from flask import Blueprint, Response, g, jsonify, request

from ..billing.model import DocumentType
from ..errors import InvalidPayload
from ..index import IndexUnavailable, Query
from ..index import cursor as cursors
from ..schemas.resources import VerifyReportSchema
from .context import resource_json, services, with_urls
from .errors import problem
from .guard import allowed_sellers
from .params import check_path
from .routes import operation

bp = Blueprint("archive", __name__)
bp.before_request(check_path)

#: query parameter -> what it filters (documented in the OpenAPI description too)
SEARCH_FILTERS = {
    "seller": "seller SIREN (or VAT id abroad)", "buyer": "buyer SIREN", "type": "document type",
    "number": "document number, exactly", "quote": "quote number the document was issued on",
    "corrects": "number of the invoice a credit note or corrective invoice corrects",
    "from": "issue date on or after", "to": "issue date on or before",
    "due_from": "due date on or after", "due_to": "due date on or before",
    "min_amount": "gross total (TTC) at least", "max_amount": "gross total (TTC) at most",
    "status": "payment status: paid, partially_paid or unpaid",
    "sort": "issue_date (default), number; a leading - for descending: -issue_date",
    "limit": "page size, 1 to 1000 (default 100)", "cursor": "the next page, as handed out in `next`",
}
DATES = {"from": "issued_from", "to": "issued_to", "due_from": "due_from", "due_to": "due_to"}
TYPES = tuple(t.value for t in DocumentType)
STATUSES = ("paid", "partially_paid", "unpaid")
SORTS = ("issue_date", "-issue_date", "number", "-number")
ENUMS = {"type": TYPES, "status": STATUSES, "sort": SORTS}
PATTERNS = {"seller": (r"[A-Z0-9]{2,16}", "A SIREN (9 digits) or a VAT id (FR65912345675)."),
            "buyer": (r"\d{9}", "A SIREN: 9 digits.")}


def search_parameter(name: str, description: str) -> dict:
    """A search filter as an OpenAPI query parameter, with the grammar _search_request checks."""
    schema: dict = {"type": "string"}
    if name in DATES:
        schema["format"] = "date"
    elif name == "limit":
        schema = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    elif name in ("min_amount", "max_amount"):
        schema["pattern"] = r"^-?\d+(\.\d+)?$"
    elif name in PATTERNS:
        schema["pattern"] = "^" + PATTERNS[name][0] + "$"
    elif name in ENUMS:
        schema["enum"] = list(ENUMS[name])
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}

@bp.get("/v1/documents/<doc_id>")
@operation("documents:read", "The document resource", tag="archive", audit="read",
           ok=("Found", "DocumentResource"), errors=(404, 503))
def get_document(doc_id: str):
    return jsonify(resource_json(services().fetch(doc_id, allowed_sellers())))


@bp.get("/v1/documents/<doc_id>/files/<fmt>")
@operation("documents:read", "The original bytes, exactly as archived", tag="archive", audit="read",
           errors=(404, 503), responses={
               "200": {"description": "The original; ETag is its SHA-256",
                       "headers": {"ETag": {"schema": {"type": "string"}},
                                   "Content-Disposition": {"schema": {"type": "string"}}},
                       "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                   "application/xml": {"schema": {"type": "string"}},
                                   "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                                       "schema": {"type": "string", "format": "binary"}}}},
               "304": {"description": "Not modified (If-None-Match)"}})
def get_file(doc_id: str, fmt: str):
    original = services().fetch.original(doc_id, fmt, allowed_sellers())
    data, record = original.data, original.record
    etag = record["sha256"]
    if request.if_none_match.contains_weak(etag):  # W/"<sha>" too: the bytes never change
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    filename = record.get("filename", f"{doc_id}.{fmt}")
    return Response(data, mimetype=record["media_type"], headers={
        "ETag": f'"{etag}"',
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, max-age=31536000, immutable",
    })


def index():
    return services().index


@bp.app_errorhandler(IndexUnavailable)
def index_unavailable(exc: IndexUnavailable):
    return problem(503, "Index unavailable", str(exc), "index-unavailable", {"Retry-After": "5"})


@bp.get("/v1/documents")
@operation("documents:read", "Search the originals (answered from the index, a page at a time)", tag="archive",
           description="Filters combine with AND. `count` is every match across all pages, within the sellers of "
                       "the key. `next` (absent on the last page) carries a cursor bound to the key and the "
                       "filters: another key's cursor, or one replayed with other filters, is refused with 422.",
           query=tuple(search_parameter(name, description) for name, description in SEARCH_FILTERS.items()),
           ok=("Matching documents", "SearchResult"), errors=(422, 503))
def search_documents():
    """Answered from the index, a page at a time; the archive is not read."""
    query, limit, after, bound_to = _search_request(request.args)
    page = index().search(query, after=after, limit=limit)
    # the items as stored (summary_of), each file given its URL here: the index knows no URL
    items = ",".join(json.dumps(with_urls(json.loads(s)), ensure_ascii=False, separators=(",", ":"))
                     for s in page.summaries)
    body = f'{{"count":{page.count},"items":[{items}]'
    if page.after is not None:
        following = {k: v for k, v in request.args.items() if k != "cursor"}
        following["cursor"] = cursors.encode(index().cursor_secret(), bound_to, page.after)
        body += ',"next":' + json.dumps(f"{request.path}?{urlencode(following)}")
    return Response(body + "}", mimetype="application/json")


@bp.get("/v1/quotes/<seller>/<path:number>/documents")
@operation("documents:read", "Every document issued on a quote, in issue order (from the index)", tag="archive",
           ok=("The quote's documents (none for another seller's quote)", "SearchResult"), errors=(422, 503))
def quote_documents(seller: str, number: str):
    """Every document issued on a quote, in issue order (another seller's quote: none)."""
    if not _printable(number):
        raise InvalidPayload({"number": ["1 to 140 printable characters."]})
    sellers = allowed_sellers()
    items = ([] if sellers is not None and seller not in sellers
             else [with_urls(item) for item in index().documents_of_quote(seller, number)])
    return jsonify({"count": len(items), "items": items})



def _printable(value: str) -> bool:
    return 0 < len(value) <= 140 and value.isprintable()


def _search_request(args):
    """(Query, limit, cursor position, cursor binding), or a 422 naming each bad parameter."""
    errors: dict[str, list[str]] = {name: ["Unknown filter."] for name in sorted(set(args) - set(SEARCH_FILTERS))}
    errors.update({name: ["Given more than once."] for name in SEARCH_FILTERS if len(args.getlist(name)) > 1})
    values: dict = {}
    for name, attr in DATES.items():
        if name in args:
            try:
                values[attr] = date.fromisoformat(args[name])
            except ValueError:
                errors[name] = ["Not an ISO 8601 date (2026-11-22)."]
    for name in ("min_amount", "max_amount"):
        if name in args:
            try:
                amount = Decimal(args[name])
                if not amount.is_finite():
                    raise InvalidOperation
                values[name] = amount
            except InvalidOperation:
                errors[name] = ["Not an amount (1234.56)."]
    for name, (pattern, message) in PATTERNS.items():
        if name in args:
            if re.fullmatch(pattern, args[name]):
                values[name] = args[name]
            else:
                errors[name] = [message]
    for name, allowed in ENUMS.items():
        if name in args:
            if args[name] in allowed:
                values[name] = args[name]
            else:
                errors[name] = [f"One of: {', '.join(allowed)}."]
    for name in ("number", "quote", "corrects"):
        if name in args:
            if _printable(args[name]):
                values[name] = args[name]
            else:
                errors[name] = ["1 to 140 printable characters."]
    limit = 100
    if "limit" in args:
        try:
            limit = int(args["limit"])
            if not 1 <= limit <= 1000:
                raise ValueError
        except ValueError:
            errors["limit"] = ["An integer from 1 to 1000."]
    key = getattr(g, "key", None)
    bound_to = cursors.binding(key.name if key is not None else "", args.to_dict())
    after = None
    if "cursor" in args and not errors:
        try:
            after = cursors.decode(index().cursor_secret(), bound_to, args["cursor"])
        except cursors.BadCursor as exc:
            errors["cursor"] = [str(exc)]
    if errors:
        raise InvalidPayload(errors, "Invalid search: " + ", ".join(sorted(errors)) + ".")
    sellers = allowed_sellers()
    query = Query(sellers=frozenset(sellers) if sellers is not None else None, **values)
    return query, limit, after, bound_to


@bp.get("/v1/documents/<doc_id>/verify")
@operation("documents:read", "Re-read every file and compare its SHA-256 with the recorded one", tag="archive",
           audit="verify", ok=("Report", "VerifyReport"), errors=(404, 503))
def verify_document(doc_id: str):
    return jsonify(VerifyReportSchema().dump(services().verify(doc_id, allowed_sellers())))

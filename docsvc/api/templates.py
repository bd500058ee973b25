"""Template designers: list, publish and preview template versions; the designer page."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    request,
    send_from_directory,
)

from ..errors import DocumentNotFound, InvalidPayload
from ..rendering.intake import MAX_BYTES
from .body import json_body
from .errors import BadRequestBody
from .params import check_path
from .routes import json_content, operation, public

bp = Blueprint("templates", __name__)
bp.before_request(check_path)

#: A template version, as GET /v1/templates/{name}/{version} and publishing answer it
TEMPLATE = {"type": "object", "properties": {
    **{k: {"type": "string"} for k in ("name", "version", "description", "sha256", "source")},
    "published_at": {"type": "string", "nullable": True, "description": "null for shipped versions"},
    "formats": {"type": "array", "items": {"type": "string"}},
    "languages": {"type": "array", "items": {"type": "string"}}}}
OBJECT = {"type": "object"}
MEDIA = {"pdf": "application/pdf", "facturx": "application/pdf", "html": "text/html; charset=utf-8",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


from .context import services


@bp.get("/v1/templates")
@operation("templates:read", "Template names and versions", tag="templates", errors=(503,),
           ok=("Templates", {"type": "object", "properties": {"items": {"type": "array", "items": OBJECT}}}))
def list_templates():
    return jsonify({"items": services().catalogue.list()})


@bp.get("/v1/templates/<name>")
@operation("templates:read", "Every version of a template", tag="templates", ok=("Versions", OBJECT),
           errors=(404, 503))
def get_template(name: str):
    return jsonify(services().catalogue.versions(name))


@bp.get("/v1/templates/<name>/<version>")
@operation("templates:read", "One version: formats, languages, sha256, source", tag="templates",
           ok=("Version", TEMPLATE), errors=(404, 503))
def get_template_version(name: str, version: str):
    return jsonify(services().catalogue.describe(name, version))


@bp.post("/v1/templates/<name>/versions")
@operation("templates:write", "Publish a version (zip bundle), after every check", tag="templates",
           audit="publish", checks_own_path=True,
           body={"required": True, "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
           responses={"201": {"description": "Published", "content": json_content(TEMPLATE)}},
           errors=(409, 413, 415, 422, 503))
def publish_template(name: str):
    if request.mimetype not in ("application/zip", "application/x-zip-compressed", "application/octet-stream"):
        raise BadRequestBody(415, "Send the bundle as a zip with Content-Type: application/zip.")
    request.max_content_length = MAX_BYTES  # bundles carry fonts: their own, larger limit
    manifest = services().publish(name, request.get_data())
    response = jsonify(manifest)
    response.status_code = 201
    response.headers["Location"] = f"/v1/templates/{name}/{manifest['version']}"
    return response


@bp.post("/v1/templates/<name>/<version>/preview")
@operation("templates:read", "Render a payload or {\"fixture\": name} with that version; archives nothing",
           tag="templates", body={"required": True, "content": json_content("DocumentPayload")},
           query=({"name": "format", "in": "query", "required": False, "schema": {
               "type": "string", "enum": ["pdf", "docx", "facturx", "html"]}},),
           responses={"200": {"description": "The rendering", "content": {
               "application/pdf": {"schema": {"type": "string", "format": "binary"}},
               "text/html": {"schema": {"type": "string"}}}}},
           errors=(400, 404, 413, 415, 422))
def preview(name: str, version: str):
    fmt = request.args.get("format", "pdf")
    if fmt not in MEDIA:
        raise InvalidPayload({"format": [f"One of {', '.join(MEDIA)}."]})
    data = services().preview(name, version, json_body(), fmt)
    return Response(data, mimetype=MEDIA[fmt].split(";")[0],
                    headers={"Cache-Control": "no-store", "X-Docsvc-Archived": "false"})


@bp.get("/v1/fixtures")
@operation("templates:read", "Fixture payload names", tag="templates", ok=("Names", OBJECT))
def list_fixtures():
    return jsonify({"items": sorted(services().fixtures())})


@bp.get("/v1/fixtures/<name>")
@operation("templates:read", "One fixture payload, as the designer page loads it", tag="templates",
           ok=("The payload", OBJECT), errors=(404,))
def get_fixture(name: str):
    fixtures = services().fixtures()
    if name not in fixtures:
        raise DocumentNotFound(f"No fixture {name!r}; there are {', '.join(sorted(fixtures))}.")
    return current_app.response_class(
        current_app.json.dumps(fixtures[name]), mimetype="application/json")


@bp.get("/designer")
@public
def designer():
    return send_from_directory(current_app.root_path + "/api/static", "designer.html")

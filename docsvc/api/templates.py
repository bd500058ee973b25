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

bp = Blueprint("templates", __name__)
bp.before_request(check_path)

MEDIA = {"pdf": "application/pdf", "facturx": "application/pdf", "html": "text/html; charset=utf-8",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def service():
    return current_app.extensions["docsvc.templates"]


@bp.get("/v1/templates")
def list_templates():
    return jsonify({"items": service().registry.list()})


@bp.get("/v1/templates/<name>")
def get_template(name: str):
    return jsonify(service().versions(name))


@bp.get("/v1/templates/<name>/<version>")
def get_template_version(name: str, version: str):
    return jsonify(service().describe(name, version))


@bp.post("/v1/templates/<name>/versions")
def publish_template(name: str):
    if request.mimetype not in ("application/zip", "application/x-zip-compressed", "application/octet-stream"):
        raise BadRequestBody(415, "Send the bundle as a zip with Content-Type: application/zip.")
    request.max_content_length = MAX_BYTES  # bundles carry fonts: their own, larger limit
    manifest = service().publish(name, request.get_data())
    response = jsonify(manifest)
    response.status_code = 201
    response.headers["Location"] = f"/v1/templates/{name}/{manifest['version']}"
    return response


@bp.post("/v1/templates/<name>/<version>/preview")
def preview(name: str, version: str):
    fmt = request.args.get("format", "pdf")
    if fmt not in MEDIA:
        raise InvalidPayload({"format": [f"One of {', '.join(MEDIA)}."]})
    data = service().preview(name, version, json_body(), fmt)
    return Response(data, mimetype=MEDIA[fmt].split(";")[0],
                    headers={"Cache-Control": "no-store", "X-Docsvc-Archived": "false"})


@bp.get("/v1/fixtures")
def list_fixtures():
    return jsonify({"items": sorted(service().fixtures())})


@bp.get("/v1/fixtures/<name>")
def get_fixture(name: str):
    fixtures = service().fixtures()
    if name not in fixtures:
        raise DocumentNotFound(f"No fixture {name!r}; there are {', '.join(sorted(fixtures))}.")
    return current_app.response_class(
        current_app.json.dumps(fixtures[name]), mimetype="application/json")


@bp.get("/designer")
def designer():
    return send_from_directory(current_app.root_path + "/api/static", "designer.html")

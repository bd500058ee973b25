"""The grammar of every path and query parameter, checked before anything touches storage.

A path parameter that can't name anything (`*`, `..`, 300 characters) is a 404, as for an
absent resource; a malformed search filter is a 422 naming it (api/archive.py). Storage then only ever
sees names docsvc itself could have written (the archives check keys once more).
"""
from __future__ import annotations

import re

from flask import request

from ..archive.keys import SELLER_KEY, is_document_id
from ..errors import DocumentNotFound
from ..rendering.registry import SEMVER, TEMPLATE_NAME

FORMATS = ("pdf", "docx", "facturx", "xml")
#: Printable, no control characters, as an invoice number in a payload (35 at most).
NUMBER = re.compile(r"[^\x00-\x1f\x7f]{1,35}")

#: path parameter -> (what it is, whether a value fits)
PATH = {
    "doc_id": ("document", is_document_id),
    "seller": ("seller", SELLER_KEY.fullmatch),
    "fmt": ("format", lambda v: v in FORMATS),
    "name": ("template", TEMPLATE_NAME.fullmatch),
    "version": ("template version", SEMVER.fullmatch),
}
#: Endpoints that check their own path parameters (a publish names a template to create: 422).
OWN_CHECKS = {"templates.publish_template"}


def check_path() -> None:
    """blueprint before_request: 404 for a path parameter outside its grammar."""
    if request.endpoint in OWN_CHECKS:
        return
    for arg, value in (request.view_args or {}).items():
        what, fits = PATH.get(arg, (None, None))
        if fits is not None and not fits(value):
            raise DocumentNotFound(f"No {what} {value[:80]!r}: not a valid {what} "
                                   + ("id." if arg == "doc_id" else "name." if arg in ("name", "fmt") else "."))


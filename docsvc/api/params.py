"""The grammar of every path parameter, checked before anything touches storage.

A path parameter that can't name anything (`*`, `..`, 300 characters) is a 404, as for an
absent resource; a malformed search filter is a 422 naming it (api/archive.py). Storage then only ever
sees names docsvc itself could have written (the archives check keys once more). The grammar
of each parameter is in api/routes.py (PATH_PARAMETERS).
"""
from __future__ import annotations

from flask import current_app, request

from ..errors import DocumentNotFound
from .routes import PATH_PARAMETERS, operation_of


def check_path() -> None:
    """blueprint before_request: 404 for a path parameter outside its grammar."""
    declared = operation_of(current_app, request.endpoint)
    if declared is not None and declared.checks_own_path:
        return
    for arg, value in (request.view_args or {}).items():
        parameter = PATH_PARAMETERS.get(arg)
        if parameter is not None and not parameter.fits(value):
            what = parameter.what
            raise DocumentNotFound(f"No {what} {value[:80]!r}: not a valid {what} "
                                   + ("id." if arg == "doc_id" else "name." if arg in ("name", "fmt") else "."))

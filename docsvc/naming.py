"""The grammar of template names and versions, defined once: the registry, the publish
checks, the payload schema, the path parameters and the OpenAPI document all use these."""
from __future__ import annotations

import re

#: MAJOR.MINOR.PATCH, no leading zeros, at most 6 digits each; use with fullmatch.
SEMVER = re.compile(r"(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})")
#: A template name: lower-case letters, digits, - and _; use with fullmatch.
TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def version_key(version: str) -> tuple[int, ...]:
    """A version as numbers, so 1.10.0 sorts after 1.9.0."""
    match = SEMVER.fullmatch(version)
    if match is None:
        raise ValueError(f"not a semantic version: {version!r}")
    return tuple(int(x) for x in match.groups())

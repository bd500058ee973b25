"""DOCX through docxtpl, with the same sandboxed environment and filters as the HTML.

The output is deterministic: docxtpl saves through zipfile, which stamps every member
with the current time; we stamp the zip entries and the core properties with the
document's issue date instead, so re-rendering an original gives the same bytes.

The package describes this document and nothing else: core properties name its title,
number, seller and buyer; the template's own thumbnail and app.xml (which name the
designer's Word, company or template) are dropped. Bundles whose DOCX originals were
archived before that cleaning (LEGACY_PACKAGES) keep the old behaviour, so their pinned
documents re-render byte for byte.
"""
from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime, time
from io import BytesIO

from docxtpl import DocxTemplate

#: SHA-256 of the bundles rendered before the package cleaning: classic 1.0.0.
LEGACY_PACKAGES = frozenset({"8d809fea720b36f9d36f97cc07d9461c2b4f6dea0d4ab94e1fb6dd52b92ccda2"})

APP_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           b'<Application>docsvc</Application></Properties>')
LANGUAGE_TAGS = {"fr": "fr-FR", "en": "en-GB"}


class DocxEngine:
    def __init__(self, template_bytes: bytes, env, bundle_sha256: str | None = None):
        self.template_bytes = template_bytes  # docxtpl mutates its document: reload per render
        self.env = env
        self.legacy = bundle_sha256 in LEGACY_PACKAGES

    def render(self, context: dict) -> bytes:
        template = DocxTemplate(BytesIO(self.template_bytes))
        template.render(context, jinja_env=self.env, autoescape=True)
        doc = context["doc"]
        issued = datetime.combine(doc["issue_date"], time(), tzinfo=UTC)
        title = f"{context['labels']['titles'][doc['type']]} {doc['number']}"
        props = template.docx.core_properties
        props.title = title
        props.author = doc["seller"]["name"]
        props.last_modified_by = f"docsvc {context['template']['name']} {context['template']['version']}"
        props.created = props.modified = issued
        props.revision = 1
        if not self.legacy:
            props.subject = f"{title} — {doc['seller']['name']} → {doc['buyer']['name']}"
            props.keywords = f"{context['labels']['titles'][doc['type']]}, {doc['number']}"
            props.language = LANGUAGE_TAGS.get(doc["language"], doc["language"])
            props.comments = props.category = props.content_status = props.identifier = ""
            props.version = ""
            props.last_printed = issued
        out = BytesIO()
        template.save(out)
        data = out.getvalue() if self.legacy else clean_package(out.getvalue())
        return restamp(data, issued.timetuple()[:6])


def clean_package(data: bytes) -> bytes:
    """The package without the template's thumbnail and with an app.xml that names only docsvc."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            name = info.filename
            if name.startswith("docProps/thumbnail"):
                continue
            body = source.read(name)
            if name == "_rels/.rels":
                body = re.sub(rb'<Relationship [^>]*Target="/?docProps/thumbnail[^"]*"\s*/>', b"", body)
            elif name == "[Content_Types].xml":
                body = re.sub(rb'<Override PartName="/docProps/thumbnail[^"]*"[^>]*/>', b"", body)
            elif name == "docProps/app.xml":
                body = APP_XML
            target.writestr(info, body)
    return out.getvalue()


def restamp(data: bytes, date_time: tuple) -> bytes:
    """The same zip, every member dated `date_time` (zip dates start in 1980)."""
    date_time = max(tuple(date_time), (1980, 1, 1, 0, 0, 0))
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            stamped = zipfile.ZipInfo(info.filename, date_time=date_time)
            stamped.compress_type, stamped.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            target.writestr(stamped, source.read(info.filename))
    return out.getvalue()

"""DOCX through docxtpl, with the same sandboxed environment and filters as the HTML.

The output is deterministic: docxtpl saves through zipfile, which stamps every member
with the current time; we stamp the zip entries and the core properties with the
document's issue date instead, so re-rendering an original gives the same bytes.
"""
from __future__ import annotations

import zipfile
from datetime import datetime, time, timezone
from io import BytesIO

from docxtpl import DocxTemplate


class DocxEngine:
    def __init__(self, template_bytes: bytes, env):
        self.template_bytes = template_bytes  # docxtpl mutates its document: reload per render
        self.env = env

    def render(self, context: dict) -> bytes:
        template = DocxTemplate(BytesIO(self.template_bytes))
        template.render(context, jinja_env=self.env, autoescape=True)
        doc = context["doc"]
        issued = datetime.combine(doc["issue_date"], time(), tzinfo=timezone.utc)
        props = template.docx.core_properties
        props.title = f"{context['labels']['titles'][doc['type']]} {doc['number']}"
        props.author = doc["seller"]["name"]
        props.last_modified_by = f"docsvc {context['template']['name']} {context['template']['version']}"
        props.created = props.modified = issued
        props.revision = 1
        out = BytesIO()
        template.save(out)
        return restamp(out.getvalue(), issued.timetuple()[:6])


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

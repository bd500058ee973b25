"""DOCX through docxtpl, with the same sandboxed environment and filters as the HTML."""
from __future__ import annotations

from io import BytesIO

from docxtpl import DocxTemplate


class DocxEngine:
    def __init__(self, template_bytes: bytes, env):
        self.template_bytes = template_bytes  # docxtpl mutates its document: reload per render
        self.env = env

    def render(self, context: dict) -> bytes:
        template = DocxTemplate(BytesIO(self.template_bytes))
        template.render(context, jinja_env=self.env, autoescape=True)
        out = BytesIO()
        template.save(out)
        return out.getvalue()

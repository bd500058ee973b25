"""The render context reference, generated from DocumentSchema so the guide can't drift."""
from __future__ import annotations

from marshmallow import Schema, fields

from .resources import DocumentSchema

KINDS = {fields.Decimal: "decimal", fields.Date: "date", fields.Integer: "integer", fields.Boolean: "boolean",
         fields.String: "text", fields.Dict: "mapping"}


def _kind(field) -> str:
    for cls, name in KINDS.items():
        if isinstance(field, cls):
            return name
    return type(field).__name__


def _walk(schema: Schema, prefix: str, out: list[str], depth: int) -> None:
    for name, field in schema.fields.items():
        path = f"{prefix}.{name}"
        note = field.metadata.get("description", "")
        optional = " or none" if field.allow_none else ""
        if isinstance(field, fields.Nested):
            out.append(f"{'  ' * depth}- `{path}` — object{optional}{': ' + note if note else ''}")
            _walk(field.schema, path, out, depth + 1)
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            out.append(f"{'  ' * depth}- `{path}[]` — list{': ' + note if note else ''}")
            _walk(field.inner.schema, f"{path}[]", out, depth + 1)
        elif isinstance(field, fields.List):
            out.append(f"{'  ' * depth}- `{path}[]` — list of {_kind(field.inner)}{': ' + note if note else ''}")
        else:
            out.append(f"{'  ' * depth}- `{path}` — {_kind(field)}{optional}{': ' + note if note else ''}")


def render_context_markdown() -> str:
    out: list[str] = []
    _walk(DocumentSchema(), "doc", out, 0)
    return "\n".join(out) + "\n"


START, END = "<!-- render-context:start -->", "<!-- render-context:end -->"


def refresh(guide_text: str) -> str:
    """The guide with its generated section replaced by the current reference."""
    head, rest = guide_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render_context_markdown()}{END}{tail}"


if __name__ == "__main__":  # python -m docsvc.schemas.reference docs/templates.md
    import sys
    from pathlib import Path

    path = Path(sys.argv[1])
    path.write_text(refresh(path.read_text()))
    print(f"refreshed {path}")

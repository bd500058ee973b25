"""What a template sees: the enriched document, the labels of its language, and which
template is rendering it (so a page can print its own name, version and hash)."""
from __future__ import annotations

from .errors import RenderError


def render_context(document: dict, bundle, carry: dict | None = None, closing_split: bool = False,
                   part: dict | None = None, numbers: int | None = None) -> dict:
    """`document` is `docsvc.billing.model.as_plain(doc)`: Decimals and dates kept as such,
    so the Babel filters format them in the document's locale.

    `carry` maps the key (`data-row`) of a line-table row to the subtotal after it, for
    each row that ends a page: the PDF engine computes it from a first layout (see
    `PdfEngine.layout_carried`); empty on the first pass and in the DOCX. `closing_split`
    is true when the closing block is taller than a page: only its parts are kept whole.

    For a template laid out in parts (`parts = true`, see rendering/parts.py): `part` is
    the part of the lines to lay out ({index, count, start, stop, first, last}), or
    `numbers` the number of pages to lay out with nothing but their page numbers; both
    None for a whole document."""
    language = document["language"]
    if language not in bundle.labels:
        raise RenderError(f"template {bundle.name} {bundle.version} has no {language} labels")
    return {"doc": document, "labels": bundle.labels[language],
            "template": {"name": bundle.name, "version": bundle.version, "sha256": bundle.sha256},
            "carry": carry or {}, "closing_split": closing_split, "part": part, "numbers": numbers}

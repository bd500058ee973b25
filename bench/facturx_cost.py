"""Where Factur-X's time goes on a one-page invoice, step by step (medians, warm).

An issue with PDF and Factur-X lays the pages out once (issue 16); Factur-X then adds:
the CII XML, its checks (XSD, EN 16931 schematron, French CTC schematron), a second write
of the same pages as PDF/A-3b, and the embedding (the factur-x package, then pikepdf for
the document info and XMP). This prints each step, beside the layout and the PDF write.

Usage: python bench/facturx_cost.py [--lines 10] [--version 1.0.0] [--runs 15]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import facturx as facturx_package  # noqa: E402

from bench.render import load, machine, median_ms, payload  # noqa: E402
from docsvc.billing.document import enrich  # noqa: E402
from docsvc.billing.model import as_plain  # noqa: E402
from docsvc.einvoice import facturx  # noqa: E402
from docsvc.einvoice.cii import build_cii  # noqa: E402
from docsvc.einvoice.validate import check_schematron, check_xsd  # noqa: E402
from docsvc.rendering import TemplateRegistry  # noqa: E402
from docsvc.schemas.payload import load_payload  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", args.version)
    model = enrich(load_payload(payload(args.lines)))
    document = as_plain(model)
    engine = bundle._pdf
    assert engine is not None

    def html_for(carry, split):
        return bundle.html(document, carry, split)
    laid_out = engine.layout_carried(html_for)
    xml, level = build_cii(model)
    pdf_a3 = engine.write(laid_out, "pdf/a-3b")
    embedded = facturx_package.generate_from_binary(pdf_a3, xml, flavor="factur-x", level=level, check_xsd=False,
                                                    lang="fr-FR")
    info = {"/Title": "t", "/Author": "a", "/Subject": "s", "/Keywords": "k", "/Creator": "c", "/Producer": "p"}
    steps = [
        ("PDF", "layout (HTML + WeasyPrint layout, once per document)", lambda: engine.layout_carried(html_for)),
        ("PDF", "write the PDF", lambda: engine.write(laid_out)),
        ("Factur-X", "CII XML built", lambda: build_cii(model)),
        ("Factur-X", "XSD", lambda: check_xsd(xml, level)),
        ("Factur-X", f"schematron {level}", lambda: check_schematron(xml, level)),
        ("Factur-X", "schematron French CTC", lambda: check_schematron(xml, "fr-ctc")),
        ("Factur-X", "write the same pages as PDF/A-3b", lambda: engine.write(laid_out, "pdf/a-3b")),
        ("Factur-X", "embed: factur-x package", lambda: facturx_package.generate_from_binary(
            pdf_a3, xml, flavor="factur-x", level=level, check_xsd=False, lang="fr-FR")),
        ("Factur-X", "embed: document info and XMP (pikepdf)", lambda: facturx._harmonise(
            embedded, info, model.issue_date)),
    ]
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}, load average {load()}; classic "
          f"{args.version}, {args.lines} lines, {len(laid_out.pages)} page(s), median of {args.runs} runs\n")
    print("| part | step | ms |\n|---|---|---:|")
    added = 0.0
    for part, step, fn in steps:
        ms = median_ms(fn, args.runs)
        added += ms if part == "Factur-X" else 0
        print(f"| {part} | {step} | {ms:.1f} |")
    print(f"| Factur-X | **added to the PDF, in all** | **{added:.0f}** |")


if __name__ == "__main__":
    main()

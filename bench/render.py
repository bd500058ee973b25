"""Rendering benchmark: docsvc's warm in-process engines beside a naive WeasyPrint call.

For invoices of 10, 200 and 2000 lines: PDF and DOCX rendered by the classic bundle
(compiled once, fonts and CSS reused), median of 5 runs after one warm-up; and the same
HTML rendered by `weasyprint.HTML(string=...).write_pdf()` in a fresh Python process,
as a service that starts WeasyPrint per document would. Printed as one table.

Usage: python bench/render.py [--sizes 10,200,2000] [--runs 5] [--version 1.0.0]
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from docsvc.billing.document import enrich  # noqa: E402
from docsvc.billing.model import as_plain  # noqa: E402
from docsvc.einvoice import facturx  # noqa: E402
from docsvc.einvoice.cii import build_cii  # noqa: E402
from docsvc.einvoice.validate import validate  # noqa: E402
from docsvc.rendering import TemplateRegistry  # noqa: E402
from docsvc.schemas.payload import load_payload  # noqa: E402

NAIVE = """
import sys, weasyprint
html, base = open(sys.argv[1]).read(), sys.argv[2]
weasyprint.HTML(string=html, base_url=base).write_pdf(sys.argv[3])
"""


def payload(lines: int) -> dict:
    raw = json.loads((ROOT / "fixtures" / "invoice.json").read_text(), parse_float=Decimal)
    base = raw["lines"]
    raw["lines"] = [dict(base[i % len(base)], id=f"L{i + 1}") for i in range(lines)]
    raw["payments"] = []
    return raw


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,200,2000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--version", default="1.0.0", help="the classic version to measure")
    args = parser.parse_args()
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", args.version)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            model = enrich(load_payload(payload(size)))
            document = as_plain(model)
            pdf_ms = median_ms(lambda d=document: bundle.render("pdf", d), args.runs)
            xml, level = build_cii(model)
            cii_ms = median_ms(lambda m=model, lv=level: validate(build_cii(m)[0], lv, french_rules=True), args.runs)
            pdf_a3 = bundle.render("facturx", document)
            embed_ms = median_ms(lambda p=pdf_a3, x=xml, lv=level, m=model: facturx.embed(p, x, lv, m, "Facture"),
                                 args.runs)
            docx_ms = median_ms(lambda d=document: bundle.render("docx", d), args.runs)
            pages = len(PdfReader(io.BytesIO(bundle.render("pdf", document))).pages)
            # the same HTML with the stylesheet inlined, fonts resolved from the bundle folder
            html = bundle.html(document).replace(
                "</head>", f"<style>{(bundle.path / 'style.css').read_text()}</style></head>")
            source = Path(tmp) / f"{size}.html"
            source.write_text(html)
            naive_ms = median_ms(lambda s=source: subprocess.run(
                [sys.executable, "-c", NAIVE, str(s), bundle.path.as_uri() + "/", str(Path(tmp) / "n.pdf")],
                check=True), args.runs)
            tracemalloc.start()
            bundle.render("pdf", document)
            peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            rows.append((size, pages, pdf_ms, docx_ms, naive_ms, naive_ms / pdf_ms, peak_mb, cii_ms, embed_ms))
            print(f"  measured {size} lines", file=sys.stderr)
    print(f"\nmedian of {args.runs} runs after a warm-up, Python {sys.version.split()[0]}")
    print("| lines | pages | docsvc PDF ms | docsvc DOCX ms | naive WeasyPrint, fresh process ms | naive / docsvc | "
          "PDF peak Python MB | Factur-X XML + XSD + schematrons ms | Factur-X embed ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, pages, pdf_ms, docx_ms, naive_ms, ratio, peak, cii_ms, embed_ms in rows:
        print(f"| {size} | {pages} | {pdf_ms:.0f} | {docx_ms:.0f} | {naive_ms:.0f} | {ratio:.2f}x | {peak:.0f} | "
              f"{cii_ms:.0f} | {embed_ms:.0f} |")


if __name__ == "__main__":
    main()

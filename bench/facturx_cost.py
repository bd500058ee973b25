"""Where Factur-X's time goes on a one-page invoice, step by step (medians, warm; wall and CPU).

An issue with PDF and Factur-X lays the pages out and writes the PDF once (issue 16);
Factur-X then adds: the CII XML, its checks (XSD, EN 16931 schematron, French CTC
schematron), and one pikepdf pass that makes the PDF's bytes PDF/A-3b and embeds the XML
(`einvoice.facturx.embed`). The table gives each step beside the layout and the PDF
write, then the whole issue path (the CII checked in the rules' process while
render_format does pdf, facturx and xml with one `Pages`, as IssueDocument does; and with
DOCSVC_RULES_PROCESS=0, checked first in this process) against the PDF alone, then what
the former path cost for the same document (the pages written again as PDF/A-3b, the
factur-x package's writer), and whether the schematrons overlap the layout when run in a
thread (saxonche holds the GIL, so no) or in the rules' process (einvoice/rules_process.py).

Usage: python bench/facturx_cost.py [--lines 10] [--version 1.0.0] [--runs 15]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import facturx as facturx_package  # noqa: E402

from bench.render import FACTURX_GOAL_MS, load, machine, payload  # noqa: E402
from docsvc.billing.model import as_plain  # noqa: E402
from docsvc.einvoice import facturx  # noqa: E402
from docsvc.einvoice.cii import build_cii  # noqa: E402
from docsvc.einvoice.rules_process import RulesCheck  # noqa: E402
from docsvc.einvoice.validate import check_schematron, check_xsd  # noqa: E402
from docsvc.rendering import TemplateRegistry  # noqa: E402
from docsvc.rendering.bundle import Pages  # noqa: E402
from docsvc.usecases.checking import bundle_for, confirm_einvoice, einvoice_check, validate  # noqa: E402
from docsvc.usecases.issuing import render_format  # noqa: E402


def medians(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and median CPU time of this process (all threads), in ms, after a warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    templates = TemplateRegistry([ROOT / "templates"])
    raw = payload(args.lines)
    raw["template"] = {"name": "classic", "version": args.version}
    validated = validate(raw)
    model = validated.document
    bundle = bundle_for(templates, validated.payload)
    document = as_plain(model)
    engine = bundle._pdf
    assert engine is not None

    def html_for(carry, split):
        return bundle.html(document, carry, split)
    laid_out = engine.layout_carried(html_for)
    xml, level = build_cii(model)
    pdf = engine.write(laid_out)
    title = bundle.labels[model.language]["titles"][model.type.value]
    pdf_a3 = engine.write(laid_out, "pdf/a-3b")

    def issue(formats: list[str], rules_process: bool = True) -> None:
        """What IssueDocument does for these formats, bar the archive: the CII's rules checked
        in their own process while the formats are rendered (or first, in this process)."""
        check = None
        if "facturx" in formats:
            validated.einvoice, check = einvoice_check(validated, rules_process)
        pages = Pages()
        for fmt in formats + (["xml"] if "facturx" in formats else []):
            render_format(bundle, fmt, validated, document, None, pages)
        if check is not None:
            confirm_einvoice(check)

    def schematrons() -> None:
        check_schematron(xml, level)
        check_schematron(xml, "fr-ctc")

    def beside_the_layout() -> None:
        thread = threading.Thread(target=schematrons)
        thread.start()
        engine.layout_carried(html_for)
        thread.join()

    def beside_in_a_child() -> None:
        checked = RulesCheck(xml, level, True, separate=True)  # what the service does (rules_process.py)
        engine.layout_carried(html_for)
        assert checked.failures() == []

    steps: list[tuple[str, str, Callable[[], object]]] = [
        ("PDF", "layout (HTML + WeasyPrint layout, once per document)", lambda: engine.layout_carried(html_for)),
        ("PDF", "write the PDF (once per document)", lambda: engine.write(laid_out)),
        ("Factur-X", "CII XML built", lambda: build_cii(model)),
        ("Factur-X", "XSD", lambda: check_xsd(xml, level)),
        ("Factur-X", f"schematron {level}", lambda: check_schematron(xml, level)),
        ("Factur-X", "schematron French CTC", lambda: check_schematron(xml, "fr-ctc")),
        ("Factur-X", "the PDF made PDF/A-3b + factur-x.xml embedded (one pikepdf pass)",
         lambda: facturx.embed(pdf, xml, level, model, title)),
    ]
    totals: list[tuple[str, str, Callable[[], object]]] = [
        ("issue", "PDF: render_format", lambda: issue(["pdf"])),
        ("issue", "PDF + Factur-X: the CII checked in the rules' process while pdf, facturx, xml are rendered",
         lambda: issue(["pdf", "facturx"])),
        ("issue", "PDF + Factur-X, the CII checked first in this process (DOCSVC_RULES_PROCESS=0)",
         lambda: issue(["pdf", "facturx"], rules_process=False)),
    ]
    former: list[tuple[str, str, Callable[[], object]]] = [
        ("former", "the same pages written again as PDF/A-3b", lambda: engine.write(laid_out, "pdf/a-3b")),
        ("former", "embed: factur-x package", lambda: facturx_package.generate_from_binary(
            pdf_a3, xml, flavor="factur-x", level=level, check_xsd=False, lang="fr-FR")),
    ]
    overlap: list[tuple[str, str, Callable[[], object]]] = [
        ("thread?", "layout, then both schematrons", lambda: (engine.layout_carried(html_for), schematrons())),
        ("thread?", "layout with both schematrons in a thread beside it", beside_the_layout),
        ("thread?", "layout with XSD + both schematrons in the rules' process beside it (the child's "
         "CPU is not in the CPU column)", beside_in_a_child),
    ]
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}, load average {load()}; classic "
          f"{args.version}, {args.lines} lines, {len(laid_out.pages)} page(s), median of {args.runs} runs\n")
    print("| part | step | wall ms | CPU ms |\n|---|---|---:|---:|")
    added = [0.0, 0.0]
    measured = {}
    for part, step, fn in steps + totals + former + overlap:
        wall, cpu = medians(fn, args.runs)
        measured[step] = (wall, cpu)
        if part == "Factur-X":
            added = [added[0] + wall, added[1] + cpu]
        print(f"| {part} | {step} | {wall:.1f} | {cpu:.1f} |")
    print(f"| Factur-X | **added to the PDF, sum of the steps** | **{added[0]:.0f}** | **{added[1]:.0f}** |")
    (pdf_wall, pdf_cpu), (both_wall, both_cpu), (first_wall, first_cpu) = (measured[step] for _, step, _ in totals)
    print(f"| issue | **added to the PDF, PDF + Factur-X minus PDF** | **{both_wall - pdf_wall:.0f}** | "
          f"**{both_cpu - pdf_cpu:.0f}** |")
    print(f"| issue | added to the PDF with DOCSVC_RULES_PROCESS=0 | {first_wall - pdf_wall:.0f} | "
          f"{first_cpu - pdf_cpu:.0f} |")
    print(f"\nload average after: {load()}; issue 16's goal: Factur-X adds at most {FACTURX_GOAL_MS} ms "
          "to a one-page PDF")


if __name__ == "__main__":
    main()

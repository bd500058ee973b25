"""Rendering benchmark: docsvc's warm in-process engines against WeasyPrint called naively.

For invoices of 10, 200 and 2000 lines and each classic version, the median time of:
- PDF: `Bundle.render("pdf")` (compiled once, fonts and CSS reused, carried subtotals);
- PDF + Factur-X: what an issue with both formats costs: the CII XML built and checked
  (XSD, EN 16931 and French CTC schematrons) in the rules' process while one layout is
  written once as PDF (as `docsvc serve` does; --rules-in-worker checks them first, in this
  process, as DOCSVC_RULES_PROCESS=0 does), made PDF/A-3b, the XML embedded; the
  "Factur-X adds" column is that minus PDF;
- DOCX: `Bundle.render("docx")`;
- naive warm: `weasyprint.HTML(string=...).write_pdf()` of the same HTML (stylesheet
  inlined) in this process, after a warm-up: the fair baseline;
- naive fresh: the same call in a fresh Python process, as a service that starts
  WeasyPrint per document would (interpreter and imports included).
Medians of --runs runs after one warm-up (--big-runs, no warm-up, from 1000 lines on). Each run,
warm-up included, renders a document of its own (its number, its buyer, its quantities and
every line's description differ: see `payload`), in every column: docsvc keeps what it
measured of a text for the next documents (docsvc/rendering/line_cache.py), and the same
document again would flatter it. Each is made just before its run, untimed.
The issue 16 goals are printed beside the figures. Printed as one Markdown table, with the
machine it ran on (nproc, CPU model, load average before and after).

A template that can be laid out in parts (classic 1.7.0) is measured again, above
--parallel-lines (100, as docsvc serve) lines, in --processes parts at once (one per core): "1.7.0 in 2 parts".

--formats measures only some of them (pdf, facturx, docx, naive): `--formats docx` takes
seconds where the PDF columns take minutes; the others are left blank (and the rows in
parts, which are the PDF's, left out).

Usage: python bench/render.py [--sizes 10,200,2000] [--runs 5] [--big-runs 2] [--versions 1.0.0,1.5.0,1.7.0]
                              [--processes 2] [--parallel-lines 100] [--formats pdf,facturx,docx,naive]
                              [--rules-in-worker] [--readme README.md]
"""
from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import weasyprint  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from bench.readme import write_block  # noqa: E402
from docsvc.billing.document import enrich  # noqa: E402
from docsvc.billing.model import as_plain  # noqa: E402
from docsvc.einvoice import facturx  # noqa: E402
from docsvc.einvoice.cii import build_cii  # noqa: E402
from docsvc.einvoice.validate import validate  # noqa: E402
from docsvc.rendering import TemplateRegistry  # noqa: E402
from docsvc.rendering.parts import PartsPolicy  # noqa: E402

try:
    from docsvc.rendering.bundle import Pages  # noqa: E402
except ImportError:  # a checkout from before issue 16 (for a before/after): each format lays out
    Pages = None  # type: ignore[assignment,misc]
try:
    from docsvc.einvoice.rules_process import RulesCheck  # noqa: E402
except ImportError:  # a checkout from before the rules' own process
    RulesCheck = None  # type: ignore[assignment,misc]
try:
    from docsvc.rendering import borders  # noqa: E402
except ImportError:  # a checkout from before the border drawing
    borders = None  # type: ignore[assignment]
try:
    from docsvc.rendering import compression, line_cache  # noqa: E402
except ImportError:  # a checkout from before 6 December 2026
    compression = line_cache = None  # type: ignore[assignment]
try:
    from docsvc.rendering import subset_arrays  # noqa: E402
except ImportError:  # a checkout from before the glyph arrays
    subset_arrays = None  # type: ignore[assignment]
try:
    from docsvc.rendering import style_cache  # noqa: E402
except ImportError:  # a checkout from before the kept styles
    style_cache = None  # type: ignore[assignment]
from docsvc.schemas.payload import load_payload  # noqa: E402

NAIVE = """
import sys, weasyprint
html, base = open(sys.argv[1]).read(), sys.argv[2]
weasyprint.HTML(string=html, base_url=base).write_pdf(sys.argv[3])
"""

#: Issue 16's goals (ms) for classic: PDF and DOCX per size; Factur-X's addition for one page.
GOALS = {10: (120, 40), 200: (600, 80), 2000: (6000, 150)}
FACTURX_GOAL_MS = 30


def payload(lines: int, variant: int = 0) -> dict:
    """The invoice fixture with `lines` lines (its own, over and over). Variant 0 is that; any
    other is another invoice of the same seller: its number, its buyer's name, its quantities
    and each line's description are its own, so no text of a line is one another document or
    line already had. A description ends with a reference of its own in place of as many of
    its last characters, so that it takes the room it took (10 lines still fit one page)."""
    raw = json.loads((ROOT / "fixtures" / "invoice.json").read_text(), parse_float=Decimal)
    base = raw["lines"]
    raw["lines"] = [dict(base[i % len(base)], id=f"L{i + 1}") for i in range(lines)]
    raw["payments"] = []
    if variant:
        raw["number"] = f"F-2026-{variant:04d}"
        raw["buyer"]["name"] = f"{raw['buyer']['name']} {variant}"
        for i, line in enumerate(raw["lines"]):
            reference = f" {variant}.{i + 1}"
            line["description"] = line["description"][:-len(reference)] + reference
            if not str(line["quantity"]).startswith("-"):  # the discount line stays one
                line["quantity"] = str(1 + (variant * 7 + i * 3) % 40)
    return raw


#: the next invoice of its own (see payload), for the whole run of the script
VARIANTS = itertools.count(1)


def document_of(lines: int) -> dict:
    return as_plain(enrich(load_payload(payload(lines))))


def median_ms(fn, runs: int, warm_up: bool, prepare) -> float:
    """Median of `runs` timed calls fn(prepare()), after one untimed as a warm-up. prepare()
    is never timed: it makes the run's own invoice, just before, as a request's payload is
    read just before its render (its objects are as young, for the collector, as a payload's)."""
    if warm_up:
        fn(prepare())
    times = []
    for _ in range(runs):
        given = prepare()
        t0 = time.perf_counter()
        fn(given)
        times.append((time.perf_counter() - t0) * 1000)
        del given
    return statistics.median(times)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


#: set by --rules-in-worker: the schematrons checked in this process, before the layout
RULES_IN_WORKER = False


def pdf_and_facturx(bundle, model, document) -> None:
    """An issue's PDF + Factur-X: the CII checked while the PDF is laid out and written once, embedded."""
    xml, level = build_cii(model)
    check = None
    if RulesCheck is not None and not RULES_IN_WORKER:
        check = RulesCheck(xml, level, True, separate=True)
    else:
        failures = validate(xml, level, french_rules=True)
        assert not failures, failures
    if Pages is None:
        bundle.render("pdf", document)
        pdf_a3 = bundle.render("facturx", document)
    else:
        pages = Pages()
        bundle.render("pdf", document, pages)
        pdf_a3 = bundle.render("facturx", document, pages)
    if check is not None:
        assert not check.failures()
    facturx.embed(pdf_a3, xml, level, model, "Facture")


def where_rules() -> str:
    return "in this process, first" if RULES_IN_WORKER or RulesCheck is None else "in their own process, meanwhile"


FORMATS = ("pdf", "facturx", "docx", "naive")


def measure(bundle, size: int, runs: int, tmp: Path, label: str | None = None, naive: bool = True,
            formats: tuple[str, ...] = FORMATS) -> dict:
    def invoice() -> tuple:
        """The next invoice of its own: no line's text is one of another run, column or row."""
        model = enrich(load_payload(payload(size, next(VARIANTS))))
        return model, as_plain(model)

    warm = size < 1000
    row: dict = {"version": label or bundle.version, "lines": size}
    if "pdf" in formats or "facturx" in formats:
        row["pages"] = len(PdfReader(io.BytesIO(bundle.render("pdf", invoice()[1]))).pages)
        row["pdf"] = median_ms(lambda given: bundle.render("pdf", given[1]), runs, warm, invoice)
    if "facturx" in formats:
        row["pdf_facturx"] = median_ms(lambda given: pdf_and_facturx(bundle, *given), runs, warm, invoice)
    if "docx" in formats:
        # a DOCX takes a fraction of a second even at 2000 lines: never fewer than 5 runs
        row["docx"] = median_ms(lambda given: bundle.render("docx", given[1]), max(runs, 5), True, invoice)
    if not naive or "naive" not in formats:  # naive=False: the same HTML as the row above, the same figures
        return row
    style = f"<style>{(bundle.path / 'style.css').read_text()}</style></head>"
    base = bundle.path.as_uri() + "/"

    def html() -> str:
        return bundle.html(invoice()[1]).replace("</head>", style)

    def html_file() -> Path:
        source = tmp / f"{bundle.version}-{size}.html"
        source.write_text(html())
        return source

    row["naive_warm"] = median_ms(lambda given: naive_warm(given, base), runs, warm, html)
    row["naive_fresh"] = median_ms(lambda given: subprocess.run(
        [sys.executable, "-c", NAIVE, str(given), base, str(tmp / "n.pdf")], check=True), runs, warm, html_file)
    return row


def naive_warm(html: str, base: str) -> None:
    """WeasyPrint as it comes: without what importing docsvc's PDF engine installed in this
    process (its border drawing, stream compression level, measured lines, glyph arrays and
    kept styles)."""
    changes = [change for change in (borders, compression, line_cache, subset_arrays, style_cache)
               if change is not None]
    for change in changes:
        change.uninstall()
    try:
        weasyprint.HTML(string=html, base_url=base).write_pdf()
    finally:
        for change in changes:
            change.install()


def cell(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def table(rows: list[dict]) -> str:
    out = ["| classic | lines | pages | PDF ms | PDF + Factur-X ms | Factur-X adds ms | DOCX ms "
           "| naive WeasyPrint, warm ms | naive, fresh process ms | PDF / naive warm | goal PDF ms | goal DOCX ms |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    naive = {(r["version"], r["lines"]): r for r in rows if "naive_warm" in r}
    for r in rows:
        goal_pdf, goal_docx = GOALS.get(r["lines"], (None, None))
        n = r if "naive_warm" in r else naive.get((r["version"].split(" ")[0], r["lines"]))
        warm, fresh = (n["naive_warm"], n["naive_fresh"]) if n else (None, None)
        pdf, facturx_ms = r.get("pdf"), r.get("pdf_facturx")
        adds = facturx_ms - pdf if pdf is not None and facturx_ms is not None else None
        ratio = f"{pdf / warm:.2f}" if pdf is not None and warm else ""
        out.append(f"| {r['version']} | {r['lines']} | {r.get('pages', '')} | {cell(pdf)} | {cell(facturx_ms)} "
                   f"| {cell(adds)} | {cell(r.get('docx'))} | {cell(warm)} "
                   f"| {cell(fresh)} | {ratio} "
                   f"| {'≤ ' + str(goal_pdf) if goal_pdf else ''} | {'≤ ' + str(goal_docx) if goal_docx else ''} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,200,2000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-runs", type=int, default=2, help="runs from 1000 lines on (no warm-up)")
    parser.add_argument("--versions", default="1.0.0,1.5.0,1.7.0", help="the classic versions to measure")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="for a template that can: also laid out in this many parts at once")
    parser.add_argument("--parallel-lines", type=int, default=PartsPolicy().min_lines,
                        help="the sizes above this many lines are also measured in parts")
    parser.add_argument("--formats", default=",".join(FORMATS), help="what to measure, of " + ",".join(FORMATS))
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--readme", help="also write the table into this README's bench:render block")
    parser.add_argument("--rules-in-worker", action="store_true",
                        help="check the e-invoice's rules in this process, first (DOCSVC_RULES_PROCESS=0)")
    args = parser.parse_args()
    global RULES_IN_WORKER
    RULES_IN_WORKER = args.rules_in_worker
    formats = tuple(args.formats.split(","))
    if set(formats) - set(FORMATS):
        parser.error(f"--formats: one or more of {','.join(FORMATS)}")
    registry = TemplateRegistry([ROOT / "templates"])
    parted = TemplateRegistry([ROOT / "templates"], parts=PartsPolicy(args.parallel_lines, args.processes))
    started, load_before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for version in args.versions.split(","):
            bundle = registry.get("classic", version)
            for size in (int(s) for s in args.sizes.split(",")):
                rows.append(measure(bundle, size, args.runs if size < 1000 else args.big_runs, Path(tmp),
                                    formats=formats))
                print(f"  measured classic {version}, {size} lines", file=sys.stderr)
                in_parts = parted.get("classic", version)
                if ("pdf" in formats or "facturx" in formats) and args.processes > 1 \
                        and in_parts.part_spans(document_of(size)):
                    in_parts.render("pdf", document_of(args.parallel_lines + 1))  # start the processes
                    rows.append(measure(in_parts, size, args.runs if size < 1000 else args.big_runs, Path(tmp),
                                        f"{version} in {args.processes} parts", naive=False, formats=formats))
                    print(f"  measured classic {version}, {size} lines, in parts", file=sys.stderr)
    report = (f"{started}, {machine()}, load average {load_before} before and {load()} after; "
              f"Python {sys.version.split()[0]}, WeasyPrint {weasyprint.__version__}; median of {args.runs} runs "
              f"after a warm-up ({args.big_runs}, no warm-up, from 1000 lines). Factur-X goal: adds ≤ "
              f"{FACTURX_GOAL_MS} ms to a 1-page PDF; the e-invoice's rules checked {where_rules()}.\n\n"
              f"{table(rows)}")
    print("\n" + report)
    if args.readme:
        write_block(Path(args.readme), "render", f"`{' '.join(['python', 'bench/render.py', *sys.argv[1:]])}`:\n\n"
                    + report)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

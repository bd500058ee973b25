"""The Factur-X is the PDF made PDF/A-3b in one pikepdf pass (issue 16): no second write
of the pages as PDF/A-3b, no pass through the factur-x package's writer.

No PDF/A-3 validator is installed (PDFBox Preflight, in test_pdfa_preflight.py, knows
PDF/A-1b only), so the file is compared with what the former path wrote: WeasyPrint's
pdf/a-3b variant of the same pages, then `facturx.generate_from_binary`, then the same
document info and XMP. Both are read back with pikepdf and walked from the catalog and
the document info: every object, key and decoded stream is the same, bar the object
numbers, the compression of streams and the trailer /ID (a digest of the bytes)."""
from __future__ import annotations

import hashlib
import io
from datetime import date
from typing import Any

import facturx as facturx_package
import pikepdf
import pytest
from lxml import etree

from docsvc.billing.model import as_plain
from docsvc.einvoice import facturx
from docsvc.rendering import TemplateRegistry
from docsvc.usecases.checking import bundle_for, einvoice, validate
from docsvc.usecases.issuing import render_format
from tests.conftest import FIXTURES, ROOT, load_fixture

VERSIONS = ["1.0.0", "1.2.0", "1.3.0", "1.5.0", "1.7.0"]
ALL = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem != "cycle")


@pytest.fixture(scope="module")
def templates():
    return TemplateRegistry([ROOT / "templates"])


def issue(templates, name: str, version: str, language: str | None = None, lines: int | None = None):
    raw = load_fixture(name)
    raw["template"] = {"name": "classic", "version": version}
    raw["formats"] = ["pdf", "facturx"]
    if language:
        raw["language"] = language
    if lines is not None:  # several pages, carried-forward subtotals
        base = raw["lines"]
        raw["lines"] = [dict(base[i % len(base)], id=f"L{i + 1}") for i in range(lines)]
        raw["payments"] = []
    validated = validate(raw)
    validated.einvoice = einvoice(validated)
    return validated, bundle_for(templates, validated.payload)


def former(bundle, validated, pdf_a3: bytes | None = None) -> bytes:
    """What docsvc wrote before: the pages written again as PDF/A-3b by WeasyPrint (or
    `pdf_a3`, a document laid out in parts in that variant), the XML embedded by the
    factur-x package, then the document info and the XMP rewritten."""
    assert bundle._pdf is not None and validated.einvoice is not None
    doc, (xml, level) = validated.document, validated.einvoice
    if pdf_a3 is None:
        pdf_a3 = bundle.write(bundle.lay_out(as_plain(doc)), "pdf/a-3b")
    out = facturx_package.generate_from_binary(pdf_a3, xml, flavor="factur-x", level=level, check_xsd=False,
                                               lang=facturx.LANGUAGES[doc.language])
    title = bundle.labels[doc.language]["titles"][doc.type.value]
    info = {"/Title": f"{title} {doc.number}", "/Author": doc.seller.name,
            "/Subject": f"{title} {doc.number} — {doc.seller.name} → {doc.buyer.name}",
            "/Keywords": f"Factur-X, {title}, {doc.number}", "/Creator": facturx.PRODUCER,
            "/Producer": facturx.PRODUCER}
    stamp = f"D:{doc.issue_date.strftime('%Y%m%d')}000000+00'00'"
    with pikepdf.open(io.BytesIO(out)) as pdf:
        xmp = etree.fromstring(pdf.Root.Metadata.read_bytes())
        fx = {n: xmp.findtext(f".//{{{facturx.NS['fx']}}}{n}") for n, _ in facturx.FX_PROPERTIES}
        for key in list(pdf.docinfo.keys()):
            del pdf.docinfo[key]
        for key, value in info.items():
            pdf.docinfo[key] = value
        pdf.docinfo["/CreationDate"] = pdf.docinfo["/ModDate"] = stamp
        pdf.Root.Metadata = pikepdf.Stream(pdf, facturx.xmp_packet(info, doc.issue_date, fx),
                                           Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
        pdf.Root.AF[0].EF.F.Params["/ModDate"] = stamp
        buffer = io.BytesIO()
        pdf.save(buffer, deterministic_id=True)
        return buffer.getvalue()


#: How a stream is stored, not what it holds; and the back-pointers to a node's parent.
STORAGE = {"/Length", "/Filter", "/DecodeParms", "/Parent"}


def tree(obj: Any, path: tuple = ()) -> Any:
    """An object as plain values: dictionaries sorted, indirect objects followed, streams
    as their keys and the SHA-256 of their decoded bytes."""
    assert len(path) < 40, path  # a cycle we did not expect
    if isinstance(obj, pikepdf.Stream):
        keys = tree(pikepdf.Dictionary({k: v for k, v in obj.items() if k not in STORAGE}), path)
        return ("stream", keys, hashlib.sha256(obj.read_bytes()).hexdigest())
    if isinstance(obj, pikepdf.Dictionary):
        return {k: tree(v, (*path, k)) for k, v in sorted(obj.items()) if k not in STORAGE}
    if isinstance(obj, pikepdf.Array):
        return [tree(v, (*path, i)) for i, v in enumerate(obj)]
    if isinstance(obj, pikepdf.String):
        return ("string", bytes(obj))
    if isinstance(obj, pikepdf.Name):
        return ("name", str(obj))
    return obj


def document_tree(pdf: bytes) -> dict:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.trailer.ID) == 2 and all(bytes(i) for i in doc.trailer.ID)  # PDF/A (6.1.3): a file identifier
        return {"version": doc.pdf_version, "catalog": tree(doc.Root), "info": tree(doc.trailer.Info)}


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [f"{path}/{k[1:] if k.startswith('/') else k}: only in {'former' if k in a else 'new'}"
                for k in sorted(set(a) ^ set(b))] + [
            d for k in sorted(set(a) & set(b)) for d in differences(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {str(a)[:120]} != {str(b)[:120]}"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ALL)
def test_the_facturx_holds_the_objects_the_former_path_wrote(templates, name, version):
    validated, bundle = issue(templates, name, version)
    new = render_format(bundle, "facturx", validated)
    assert differences(document_tree(former(bundle, validated)), document_tree(new)) == []


@pytest.mark.parametrize("version, language, lines", [("1.5.0", "en", None), ("1.5.0", None, 60), ("1.7.0", None, 60)])
def test_the_same_in_english_and_over_several_pages(templates, version, language, lines):
    validated, bundle = issue(templates, "invoice", version, language, lines)
    new = render_format(bundle, "facturx", validated)
    with pikepdf.open(io.BytesIO(new)) as doc:
        if lines:
            assert len(doc.pages) > 1
        assert doc.Root.Lang == ("en-GB" if language == "en" else "fr-FR")
    assert differences(document_tree(former(bundle, validated)), document_tree(new)) == []


def test_the_comparison_sees_a_missing_output_intent(templates):
    """The check can fail: the plain PDF, embedded without the PDF/A-3b additions, differs."""
    validated, bundle = issue(templates, "invoice", "1.5.0")
    new = render_format(bundle, "facturx", validated)
    with pikepdf.open(io.BytesIO(new)) as doc:
        del doc.Root["/OutputIntents"]
        buffer = io.BytesIO()
        doc.save(buffer, deterministic_id=True)
    found = differences(document_tree(former(bundle, validated)), document_tree(buffer.getvalue()))
    assert found == ["/catalog/OutputIntents: only in former"]


def test_the_facturx_is_the_pdf_with_the_pdfa3b_markers_and_the_archived_xml(templates):
    validated, bundle = issue(templates, "invoice", "1.0.0")
    assert validated.einvoice is not None
    xml, level = validated.einvoice
    pdf = render_format(bundle, "pdf", validated)
    new = render_format(bundle, "facturx", validated)
    assert new.startswith(b"%PDF-1.7\n")
    with pikepdf.open(io.BytesIO(pdf)) as plain, pikepdf.open(io.BytesIO(new)) as doc:
        assert [len(bytes(i)) for i in doc.trailer.ID] == [16, 16]  # PDF/A (6.1.3): a file identifier
        # the same pages: the Factur-X is made from the PDF, not written again
        assert [p.Contents.read_bytes() for p in doc.pages] == [p.Contents.read_bytes() for p in plain.pages]
        assert "/OutputIntents" not in plain.Root and "/Metadata" not in plain.Root
        (intent,) = doc.Root.OutputIntents
        assert intent.Type == "/OutputIntent" and intent.S == "/GTS_PDFA1"
        icc = intent.DestOutputProfile.read_bytes()
        assert intent.DestOutputProfile.N == 3
        assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "  # an ICC profile (signature), RGB data
        assert icc == facturx.srgb()[1] and "sRGB" in str(intent.OutputConditionIdentifier)
        xmp = etree.fromstring(doc.Root.Metadata.read_bytes())
        assert xmp.findtext(f".//{{{facturx.NS['pdfaid']}}}part") == "3"
        assert xmp.findtext(f".//{{{facturx.NS['pdfaid']}}}conformance") == "B"
        assert xmp.findtext(f".//{{{facturx.NS['fx']}}}ConformanceLevel") == "EN 16931"
        (spec,) = doc.Root.AF
        assert spec.AFRelationship == "/Data" and spec.F == spec.UF == "factur-x.xml"
        assert spec.EF.F.Subtype == "/text/xml" and spec.EF.F.Params.Size == len(xml)
        assert bytes(spec.EF.F.Params.CheckSum) == hashlib.md5(xml).digest()
        assert spec.EF.F.Params.ModDate == "D:20261120000000+00'00'"  # invoice.json: issued 2026-11-20
        assert doc.Root.Names.EmbeddedFiles.Names[1].objgen == spec.objgen
    # what the factur-x package reads back: the archived XML, at its level
    assert facturx.read_back(new) == ("factur-x.xml", xml, level)
    assert (level, validated.document.issue_date) == ("en16931", date(2026, 11, 20))

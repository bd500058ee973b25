"""Factur-X PDF/A metadata, checked by a strict validator: Apache PDFBox Preflight
(Debian's libpdfbox2-java, installed by scripts/setup.sh) on a Factur-X of each document
type. Preflight only knows PDF/A-1b; the few rules it applies that PDF/A-3 relaxes are
allowed below, each with its reason, and nothing else may fail."""
from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import facturx
import pikepdf
import pytest
from lxml import etree

from docsvc.einvoice.facturx import NS as XMP_NS
from docsvc.rendering import TemplateRegistry
from docsvc.usecases.issuing import RenderDocument
from tests.conftest import ROOT, load_fixture

JARS = ("preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging", "javax.activation", "jaxb-api")
CLASSPATH = ":".join(f"/usr/share/java/{jar}.jar" for jar in JARS)

#: (Preflight code, what its message says): rules of PDF/A-1b (ISO 19005-1) that PDF/A-3b
#: (ISO 19005-3) lifts. Matched on the message too, so another failure under the same code
#: (e.g. a CIDSet present but incomplete, which PDF/A-3 still forbids) is not excused.
PDFA1_ONLY = (
    # PDF/A-1 forbids embedded files; PDF/A-3 allows them, and Factur-X is one (factur-x.xml).
    ("1.4.7", "EmbeddedFile entry is present in the Names dictionary"),
    ("1.2.9", "EmbeddedFile entry is present in a FileSpecification dictionary"),
    # PDF/A-1 is based on PDF 1.4: no OpenType (FontFile3 /OpenType) fonts; PDF/A-2 and -3 allow them.
    ("3.1.3", "invalid /Subtype /OpenType in /FontFile3 stream"),
    # PDF/A-1 requires a CIDSet for subset CID fonts; PDF/A-2 and -3 make it optional (6.2.11.4.2).
    ("3.1.11", "The CIDSet entry is missing"),
    # pdfaid:part is 3 by design: Preflight expects 1.
    ("7.11.2", "part must be 1"),
)

ONE_OF_EACH_TYPE = ["invoice", "credit_note", "deposit_invoice", "progress_invoice_2", "final_invoice"]


def preflight(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """Preflight's errors as (code, details)."""
    path = tmp_path / "facturx.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(["java", "-cp", CLASSPATH, "org.apache.pdfbox.preflight.Validator_A1b", "xml", str(path)],
                         capture_output=True, timeout=120)
    assert run.returncode == 0 and run.stdout.lstrip().startswith(b"<?xml"), run.stderr.decode()[-2000:]
    report = etree.fromstring(run.stdout)
    return [(e.findtext("code"), e.findtext("details")) for e in report.iter("error")]


def excused(code: str, details: str) -> bool:
    return any(code == c and fragment in details for c, fragment in PDFA1_ONLY)


@pytest.fixture(scope="module")
def service():
    return RenderDocument(TemplateRegistry([ROOT / "templates"]))


def facturx_of(service, name: str, language: str | None = None) -> bytes:
    raw = load_fixture(name)
    raw["template"] = {"name": "classic"}  # the latest shipped classic, not the fixtures' pinned 1.0.0
    raw["formats"] = ["facturx"]
    if language:
        raw["language"] = language
    return service(raw, "facturx")[0]


@pytest.mark.parametrize("name, language", [(n, None) for n in ONE_OF_EACH_TYPE] + [("invoice", "en")])
def test_preflight_finds_nothing_that_pdfa3_forbids(service, tmp_path, name, language):
    pdf = facturx_of(service, name, language)
    errors = preflight(pdf, tmp_path)
    assert [e for e in errors if not excused(*e)] == []
    assert ("7.11.2", "Error on MetaData, part must be 1") in errors  # Preflight did read our XMP


def test_every_document_info_entry_has_its_xmp_twin(service):
    pdf = facturx_of(service, "progress_invoice_2")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        info = {k: str(v) for k, v in doc.docinfo.items()}
        xmp = etree.fromstring(doc.Root.Metadata.read_bytes())
    assert set(info) == {"/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer", "/CreationDate",
                         "/ModDate"}

    def one(prefix, name):
        (el,) = xmp.iterfind(f".//{{{XMP_NS[prefix]}}}{name}")
        return "".join(el.itertext()).strip()

    # progress_invoice_2.json: situation no. 2, number F-2026-0131, issued 2026-11-30 by Atelier Durand Rénovation
    assert info["/Title"] == one("dc", "title") == "Facture de situation F-2026-0131"
    assert info["/Author"] == one("dc", "creator") == "Atelier Durand Rénovation"
    assert info["/Subject"] == one("dc", "description")
    assert info["/Keywords"] == one("pdf", "Keywords") == "Factur-X, Facture de situation, F-2026-0131"
    assert info["/Creator"] == one("xmp", "CreatorTool")
    assert info["/Producer"] == one("pdf", "Producer")
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261130000000+00'00'"
    assert one("xmp", "CreateDate") == one("xmp", "ModifyDate") == "2026-11-30T00:00:00+00:00"
    # each rdf:Description declares the namespaces of the properties it holds
    for description in xmp.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"):
        for child in description:
            prefix = re.match(r"\{([^}]*)\}", child.tag).group(1)
            assert prefix in description.nsmap.values(), (child.tag, description.nsmap)
    # the fx: extension schema names the four properties Factur-X 1.0 defines
    names = [e.text for e in xmp.iterfind(f".//{{{XMP_NS['pdfaProperty']}}}name")]
    assert sorted(names) == ["ConformanceLevel", "DocumentFileName", "DocumentType", "Version"]
    assert one("fx", "DocumentFileName") == "factur-x.xml" and one("fx", "DocumentType") == "INVOICE"


def test_preflight_sees_the_xmp_the_factur_x_package_writes_alone(service, tmp_path):
    """The check can fail: the package's own XMP (namespaces only on x:xmpmeta) is refused."""
    ours = facturx_of(service, "invoice")
    with pikepdf.open(io.BytesIO(ours)) as doc:  # our PDF/A-3b page content, the package's metadata
        doc.Root.Metadata = pikepdf.Stream(doc, facturx.generate_xmp_bytes(
            "factur-x", "en16931", None, {"author": "A", "keywords": "K", "title": "T", "subject": "S"}),
            Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
        buffer = io.BytesIO()
        doc.save(buffer)
    errors = [e for e in preflight(buffer.getvalue(), tmp_path) if not excused(*e)]
    assert any(code.startswith("7.") for code, _ in errors), errors


def test_preflight_refuses_the_facturx_without_its_output_intent(service, tmp_path):
    """The check can fail: the page colours are DeviceRGB, which PDF/A allows only under an
    RGB output intent, the one einvoice.facturx.embed adds to the PDF."""
    ours = facturx_of(service, "invoice")
    with pikepdf.open(io.BytesIO(ours)) as doc:
        del doc.Root["/OutputIntents"]
        buffer = io.BytesIO()
        doc.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    errors = [e for e in preflight(buffer.getvalue(), tmp_path) if not excused(*e)]
    assert errors and {code for code, _ in errors} <= {"2.4.1", "2.4.3"}, errors
    assert any("without Color Profile" in details for _, details in errors), errors

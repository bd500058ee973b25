"""Factur-X: the PDF made PDF/A-3b, with its CII XML embedded (relationship Data), in one
pikepdf pass over the PDF WeasyPrint wrote.

WeasyPrint's pdf/a-3b variant writes the same page streams, fonts and resources as its
plain PDF (the variant adds no tags and changes no drawing); what it adds is the sRGB
output intent (GTS_PDFA1, the ICC profile WeasyPrint ships), an /srgb entry in the
resources' colour spaces, the XMP, a trailer /ID, and the print flag on annotations. So
instead of writing the pages a second time, `embed` adds those to the plain PDF, then what
the `factur-x` package added (`factur-x.xml` as an EmbeddedFile with /Params, its
Filespec with AFRelationship Data, /AF, /Names, /PageMode UseAttachments, /Lang), then the
document info and the XMP built from it, so every info entry has its XMP twin with the
same value (PDF/A 6.7.3) and each rdf:Description declares the namespaces it uses (strict
readers such as PDFBox Preflight look there, not on x:xmpmeta). Dates are the issue date,
so the same document always gives the same bytes. tests/integration/test_facturx_pdfa.py
checks that the result holds the same objects as the former path (WeasyPrint's pdf/a-3b,
then the factur-x package), and test_pdfa_preflight.py runs PDFBox Preflight on it.
"""
from __future__ import annotations

import hashlib
import io
from datetime import date
from functools import cache
from importlib.resources import files

import facturx
import pikepdf
from facturx.facturx import FACTURX_FILENAME, FACTURX_LEVEL2xmp
from lxml import etree
from weasyprint.css import ColorProfile

from .. import __version__
from ..billing.model import Document

PRODUCER = f"docsvc {__version__}"

X = "adobe:ns:meta/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"pdfaid": "http://www.aiim.org/pdfa/ns/id/", "dc": "http://purl.org/dc/elements/1.1/",
      "pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/",
      "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/", "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
      "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
      "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"}

#: The fx: properties, as the Factur-X 1.0 specification describes them in its extension schema.
FX_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)

LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}


@cache
def srgb() -> tuple[str, bytes]:
    """The output intent's profile: the bytes of the sRGB ICC profile WeasyPrint embeds in a
    PDF/A, and the name it gives it (read the same way, through its ColorProfile; the bytes
    are the file's: ColorProfile.content re-serialises the profile once its name is read)."""
    content = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
    profile = ColorProfile(io.BytesIO(content), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))
    return profile.name, content


def embed(pdf: bytes, xml: bytes, level: str, doc: Document, title: str) -> bytes:
    """The Factur-X PDF/A-3b of `pdf`, the plain PDF WeasyPrint wrote for the document."""
    info = {"/Title": f"{title} {doc.number}", "/Author": doc.seller.name,
            "/Subject": f"{title} {doc.number} — {doc.seller.name} → {doc.buyer.name}",
            "/Keywords": f"Factur-X, {title}, {doc.number}", "/Creator": PRODUCER, "/Producer": PRODUCER}
    fx = {"DocumentType": "INVOICE", "DocumentFileName": FACTURX_FILENAME, "Version": "1.0",
          "ConformanceLevel": FACTURX_LEVEL2xmp[level]}
    stamp_info = f"D:{doc.issue_date.strftime('%Y%m%d')}000000+00'00'"
    with pikepdf.open(io.BytesIO(pdf)) as out:
        root = out.Root
        # PDF/A-3b, as WeasyPrint's variant writes it: the sRGB output intent ...
        name, content = srgb()
        profile = out.make_indirect(pikepdf.Stream(out, content, N=3))
        root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1, OutputConditionIdentifier=name, Info=name,
            DestOutputProfile=profile)])
        seen: set[tuple[int, int]] = set()
        for page in out.pages:
            for spaces in _colour_spaces(page.obj.get("/Resources"), seen):
                if "/srgb" not in spaces:
                    spaces["/srgb"] = pikepdf.Array([pikepdf.Name.ICCBased, profile])
            for annotation in page.obj.get("/Annots", ()):
                annotation["/F"] = 4  # printed (ISO 19005-3, 6.3.2)
        # ... then factur-x.xml, as the factur-x package embeds it (its name, relationship and level names) ...
        attached = out.make_indirect(pikepdf.Stream(out, xml, Type=pikepdf.Name.EmbeddedFile,
                                                    Subtype=pikepdf.Name("/text/xml"), Params=pikepdf.Dictionary(
                                                        CheckSum=pikepdf.String(hashlib.md5(xml).digest()),
                                                        ModDate=stamp_info, Size=len(xml))))
        spec = out.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Filespec, AFRelationship=pikepdf.Name.Data, Desc="Factur-X XML file",
            F=FACTURX_FILENAME, UF=FACTURX_FILENAME, EF=pikepdf.Dictionary(F=attached, UF=attached)))
        root.AF = out.make_indirect(pikepdf.Array([spec]))
        if "/Names" not in root:
            root.Names = pikepdf.Dictionary()
        root.Names.EmbeddedFiles = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String(FACTURX_FILENAME), spec]))
        root.PageMode = pikepdf.Name.UseAttachments
        root.Lang = LANGUAGES[doc.language]
        # ... and the document info with its XMP twins: one value per fact (PDF/A 6.7.3)
        for key in list(out.docinfo.keys()):
            del out.docinfo[key]
        for key, value in info.items():
            out.docinfo[key] = value
        out.docinfo["/CreationDate"] = out.docinfo["/ModDate"] = stamp_info
        root.Metadata = out.make_indirect(pikepdf.Stream(out, xmp_packet(info, doc.issue_date, fx),
                                                         Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML))
        buffer = io.BytesIO()
        # a classic cross-reference table, as before: PDF/A-3 allows xref streams, PDFBox Preflight (PDF/A-1) not
        out.save(buffer, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.disable)
        return buffer.getvalue()


def _colour_spaces(resources: pikepdf.Object | None, seen: set[tuple[int, int]], depth: int = 0):
    """The colour space dictionaries of a page's resources and of the forms it draws (the
    page numbers stamped over a document laid out in parts), each once: WeasyPrint's pages
    share one resource dictionary per file written."""
    if resources is None or depth > 8:
        return
    if resources.is_indirect:
        if resources.objgen in seen:
            return
        seen.add(resources.objgen)
    spaces = resources.get("/ColorSpace")
    if isinstance(spaces, pikepdf.Dictionary):
        yield spaces
    xobjects = resources.get("/XObject")
    for xobject in (xobjects.values() if isinstance(xobjects, pikepdf.Dictionary) else ()):
        if xobject.get("/Subtype") == "/Form":
            yield from _colour_spaces(xobject.get("/Resources"), seen, depth + 1)


def xmp_packet(info: dict[str, str], issued: date, fx: dict[str, str]) -> bytes:
    """The XMP of a Factur-X PDF/A-3b: identification, the info entries' twins, the fx:
    extension schema and its values; each rdf:Description carries its own xmlns."""
    stamp = f"{issued.isoformat()}T00:00:00+00:00"
    root = etree.Element(f"{{{X}}}xmpmeta", nsmap={"x": X})
    rdf = etree.SubElement(root, f"{{{RDF}}}RDF", nsmap={"rdf": RDF})

    def description(*prefixes):
        return etree.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""},
                                nsmap={p: NS[p] for p in prefixes})

    def prop(parent, prefix, name, text=None, **attrs):
        el = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrs)
        el.text = text
        return el

    def container(parent, prefix, name, kind, text, lang=None):
        box = etree.SubElement(prop(parent, prefix, name), f"{{{RDF}}}{kind}")
        li = etree.SubElement(box, f"{{{RDF}}}li", {XML_LANG: lang} if lang else {})
        li.text = text

    d = description("pdfaid")
    prop(d, "pdfaid", "part", "3")
    prop(d, "pdfaid", "conformance", "B")
    d = description("dc")
    container(d, "dc", "title", "Alt", info["/Title"], "x-default")
    container(d, "dc", "creator", "Seq", info["/Author"])
    container(d, "dc", "description", "Alt", info["/Subject"], "x-default")
    d = description("pdf")
    prop(d, "pdf", "Producer", info["/Producer"])
    prop(d, "pdf", "Keywords", info["/Keywords"])
    d = description("xmp")
    prop(d, "xmp", "CreatorTool", info["/Creator"])
    for name in ("CreateDate", "ModifyDate", "MetadataDate"):
        prop(d, "xmp", name, stamp)

    d = description("pdfaExtension", "pdfaSchema", "pdfaProperty")
    bag = etree.SubElement(prop(d, "pdfaExtension", "schemas"), f"{{{RDF}}}Bag")
    schema = etree.SubElement(bag, f"{{{RDF}}}li", {f"{{{RDF}}}parseType": "Resource"})
    prop(schema, "pdfaSchema", "schema", "Factur-X PDFA Extension Schema")
    prop(schema, "pdfaSchema", "namespaceURI", NS["fx"])
    prop(schema, "pdfaSchema", "prefix", "fx")
    seq = etree.SubElement(prop(schema, "pdfaSchema", "property"), f"{{{RDF}}}Seq")
    for name, text in FX_PROPERTIES:
        li = etree.SubElement(seq, f"{{{RDF}}}li", {f"{{{RDF}}}parseType": "Resource"})
        prop(li, "pdfaProperty", "name", name)
        prop(li, "pdfaProperty", "valueType", "Text")
        prop(li, "pdfaProperty", "category", "external")
        prop(li, "pdfaProperty", "description", text)

    d = description("fx")
    for name in ("DocumentType", "DocumentFileName", "Version", "ConformanceLevel"):
        prop(d, "fx", name, fx[name])

    body = etree.tostring(root, encoding="utf-8", pretty_print=True)
    return (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body
            + b'<?xpacket end="w"?>')


def read_back(pdf: bytes) -> tuple[str, bytes, str]:
    """What an accountant's software sees: the embedded file name, the XML, its level."""
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    return name, xml, facturx.get_level(etree.fromstring(xml))

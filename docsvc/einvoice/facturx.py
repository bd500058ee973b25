"""Factur-X: the PDF/A-3b rendering with its CII XML embedded (relationship Data).

WeasyPrint writes the PDF/A-3b (fonts embedded, sRGB output intent); the `factur-x`
package embeds `factur-x.xml` with its Filespec and /AF. We then write the document info
and rebuild the XMP from it, so every info entry has its XMP twin with the same value
(PDF/A 6.7.3) and each rdf:Description declares the namespaces it uses (strict readers
such as PDFBox Preflight look there, not on x:xmpmeta). Dates are the issue date, so the
same document always gives the same bytes.
"""
from __future__ import annotations

import io
from datetime import date

import facturx
import pikepdf
from lxml import etree

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


def embed(pdf_a3: bytes, xml: bytes, level: str, doc: Document, title: str) -> bytes:
    """The Factur-X PDF: `pdf_a3` must already be PDF/A-3b."""
    info = {"/Title": f"{title} {doc.number}", "/Author": doc.seller.name,
            "/Subject": f"{title} {doc.number} — {doc.seller.name} → {doc.buyer.name}",
            "/Keywords": f"Factur-X, {title}, {doc.number}", "/Creator": PRODUCER, "/Producer": PRODUCER}
    out = facturx.generate_from_binary(pdf_a3, xml, flavor="factur-x", level=level, check_xsd=False,
                                       lang={"fr": "fr-FR", "en": "en-GB"}[doc.language])
    return _harmonise(out, info, doc.issue_date)


def _harmonise(pdf: bytes, info: dict[str, str], issued: date) -> bytes:
    """Write the document info, then the XMP from it: one value per fact (PDF/A 6.7.3)."""
    stamp_info = f"D:{issued.strftime('%Y%m%d')}000000+00'00'"
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        fx = _fx_values(doc.Root.Metadata.read_bytes())
        for key in list(doc.docinfo.keys()):
            del doc.docinfo[key]
        for key, value in info.items():
            doc.docinfo[key] = value
        doc.docinfo["/CreationDate"] = doc.docinfo["/ModDate"] = stamp_info
        doc.Root.Metadata = pikepdf.Stream(doc, xmp_packet(info, issued, fx), Type=pikepdf.Name.Metadata,
                                           Subtype=pikepdf.Name.XML)
        for spec in doc.Root.AF:
            params = spec.EF.F.get("/Params")
            if params is not None:
                params["/ModDate"] = stamp_info
        buffer = io.BytesIO()
        doc.save(buffer, deterministic_id=True)
        return buffer.getvalue()


def _fx_values(xmp: bytes) -> dict[str, str]:
    """The fx: values the factur-x package wrote (file name, type, version, level)."""
    tree = etree.fromstring(xmp)
    return {name: tree.findtext(f".//{{{NS['fx']}}}{name}") for name, _ in FX_PROPERTIES}


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

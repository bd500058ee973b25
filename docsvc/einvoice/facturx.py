"""Factur-X: the PDF/A-3b rendering with its CII XML embedded (relationship Data).

WeasyPrint writes the PDF/A-3b (fonts embedded, sRGB output intent); the `factur-x`
package embeds `factur-x.xml` with its Filespec, /AF and the fx: XMP extension schema.
We then make the XMP and the document info agree (Producer, dates), with dates set to
the issue date so the same document always gives the same bytes.
"""
from __future__ import annotations

import io
import re
from datetime import date

import facturx
import pikepdf

from .. import __version__
from ..billing.model import Document

PRODUCER = f"docsvc {__version__}"


def embed(pdf_a3: bytes, xml: bytes, level: str, doc: Document, title: str) -> bytes:
    """The Factur-X PDF: `pdf_a3` must already be PDF/A-3b."""
    metadata = {"author": doc.seller.name, "keywords": "Factur-X, " + title, "title": f"{title} {doc.number}",
                "subject": f"{title} {doc.number} — {doc.seller.name} → {doc.buyer.name}"}
    out = facturx.generate_from_binary(pdf_a3, xml, flavor="factur-x", level=level, check_xsd=False,
                                       pdf_metadata=metadata, lang={"fr": "fr-FR", "en": "en-GB"}[doc.language])
    return _harmonise(out, doc.issue_date)


def _harmonise(pdf: bytes, issued: date) -> bytes:
    """One Producer and one set of dates in both the XMP and the document info (PDF/A 6.7.3)."""
    stamp_xmp = f"{issued.isoformat()}T00:00:00+00:00"
    stamp_info = f"D:{issued.strftime('%Y%m%d')}000000+00'00'"
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        xmp = doc.Root.Metadata.read_bytes().decode("utf-8")
        xmp = re.sub(r"<pdf:Producer>[^<]*</pdf:Producer>", f"<pdf:Producer>{PRODUCER}</pdf:Producer>", xmp)
        for tag in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
            xmp = re.sub(rf"<{tag}>[^<]*</{tag}>", f"<{tag}>{stamp_xmp}</{tag}>", xmp)
        doc.Root.Metadata = pikepdf.Stream(doc, xmp.encode("utf-8"), Type=pikepdf.Name.Metadata,
                                           Subtype=pikepdf.Name.XML)
        doc.docinfo["/Producer"] = PRODUCER
        doc.docinfo["/CreationDate"] = stamp_info
        doc.docinfo["/ModDate"] = stamp_info
        for spec in doc.Root.AF:
            params = spec.EF.F.get("/Params")
            if params is not None:
                params["/ModDate"] = stamp_info
        buffer = io.BytesIO()
        doc.save(buffer, deterministic_id=True)
        return buffer.getvalue()


def read_back(pdf: bytes) -> tuple[str, bytes, str]:
    """What an accountant's software sees: the embedded file name, the XML, its level."""
    from lxml import etree

    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    return name, xml, facturx.get_level(etree.fromstring(xml))

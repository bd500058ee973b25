"""Factur-X through the API: validated before archiving, embedded, readable back."""
import hashlib
import io

import pikepdf
from lxml import etree

from docsvc.einvoice.cii import NS
from docsvc.einvoice.facturx import read_back
from tests.conftest import load_fixture, quote_example
from tests.e2e.test_api import post


def test_facturx_is_archived_with_its_xml_and_reads_back(client):
    raw = load_fixture("progress_invoice_1")
    raw["formats"] = ["pdf", "facturx"]
    for earlier in ("deposit_invoice", "deposit_invoice_2"):  # its deposits, so the history checks pass
        assert post(client, load_fixture(earlier)).status_code == 201
    r = post(client, raw)
    assert r.status_code == 201, r.json
    files = {f["format"]: f for f in r.json["files"]}
    assert set(files) == {"pdf", "facturx", "xml"}
    pdf = client.get(files["facturx"]["url"])
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="912345675-F-2026-0120.facturx.pdf"'
    assert hashlib.sha256(pdf.data).hexdigest() == files["facturx"]["sha256"]
    xml = client.get(files["xml"]["url"])
    assert xml.mimetype == "application/xml"
    name, embedded, level = read_back(pdf.data)
    assert (name, level) == ("factur-x.xml", "extended")  # two deposits referenced: EXTENDED
    assert embedded == xml.data
    tree = etree.fromstring(embedded)
    # situation 1's gross, as the API computed it, is the XML's grand total
    assert tree.findtext(".//ram:GrandTotalAmount", namespaces=NS) == r.json["totals"]["gross_total"]
    with pikepdf.open(io.BytesIO(pdf.data)) as doc:
        meta = doc.open_metadata()
        assert meta.pdfa_status == "3B"
        assert meta.get("pdf:Producer") == str(doc.docinfo["/Producer"])
        assert doc.Root.Metadata.read_bytes().count(b"<rdf:RDF") == 1
        assert b"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in doc.Root.Metadata.read_bytes()
        assert len(doc.Root.AF) == 1 and doc.Root.AF[0].AFRelationship == "/Data"
        assert doc.Root.AF[0].EF.F.Subtype == "/text/xml"
        assert "/GTS_PDFA1" == str(doc.Root.OutputIntents[0].S)
        for page in doc.pages:
            for font in page.Resources.Font.values():
                descriptor = (font.DescendantFonts[0].FontDescriptor if "/DescendantFonts" in font
                              else font.FontDescriptor)
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))  # embedded


def test_rules_the_schema_cannot_see_are_422_with_rule_ids(client, archived):
    raw = quote_example()
    raw["formats"] = ["facturx"]
    raw["buyer"] = {"name": "Bauhaus GmbH", "address": {"lines": ["Gutenbergstraße 21"], "postcode": "68167",
                                                        "city": "Mannheim", "country": "DE"}}
    for line in raw["lines"]:  # an intra-EU supply, but the buyer's VAT id is missing
        line.update(vat_rate="0", vat_category="K", vat_exemption_reason="Exonération de TVA, article 262 ter I du CGI")
    r = post(client, raw)  # first: the buyer's VAT number (BR-IC-02), for the PDF as much as the e-invoice
    assert r.status_code == 422 and "BR-IC-02" in r.json["errors"]["buyer.vat_id"][0], r.json
    raw["formats"] = ["pdf"]
    assert post(client, raw).json["errors"] == r.json["errors"]
    raw["formats"] = ["facturx"]
    raw["buyer"]["vat_id"] = "DE136695976"  # a German VAT number with a valid check digit (python-stdnum)
    r = post(client, raw)  # then: an intra-EU supply is dated (BR-IC-11), and docsvc invents no date
    assert r.status_code == 422 and "delivery_date" in r.json["errors"], r.json
    assert archived() == {}
    raw["delivery_date"] = "2026-11-20"
    assert post(client, raw).status_code == 201


def test_validate_runs_the_official_rules_too(client):
    raw = quote_example()
    raw["formats"] = ["facturx"]
    r = post(client, raw, "/v1/documents/validate")
    assert r.status_code == 200

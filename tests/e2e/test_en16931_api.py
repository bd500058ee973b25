"""The whole EN 16931 invoice issued through the API (Flask's test client, a filesystem archive):
201, the totals in the resource, the three originals archived, and the Factur-X XML, read back
from the archive, stating what the PDF and the DOCX print. Figures: tests/unit/test_en16931_billing.py
`everything()`, worked by hand there (net 181.40, VAT 22.44, gross 203.84, rounding 0.01, due 203.85)."""
from __future__ import annotations

import io

import pikepdf
from lxml import etree

from tests.originals import docx_text, flat, pdf_text
from tests.unit.test_en16931_billing import everything

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def test_a_whole_en16931_invoice_is_issued_and_its_originals_tell_one_story(client):
    raw = {**everything(), "formats": ["pdf", "docx", "facturx"]}  # classic, latest: 1.7.3
    r = client.post("/v1/documents", json=raw)
    assert r.status_code == 201, r.json
    resource = r.json
    assert resource["template"]["version"] == "1.7.3"
    totals = resource["totals"]
    assert (totals["line_total"], totals["allowance_total"], totals["charge_total"]) == ("168.40", "2.00", "15.00")
    assert (totals["net_total"], totals["vat_total"], totals["gross_total"]) == ("181.40", "22.44", "203.84")
    assert (totals["rounding_amount"], totals["amount_due"]) == ("0.01", "203.85")
    files = {f["format"]: f for f in resource["files"]}
    assert set(files) == {"pdf", "docx", "facturx", "xml"}

    xml = client.get(files["xml"]["url"]).data
    tree = etree.fromstring(xml)
    sums = tree.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    stated = {e.tag.split("}")[1]: e.text for e in sums}
    assert stated["LineTotalAmount"] == "168.40" and stated["AllowanceTotalAmount"] == "2.00"
    assert stated["ChargeTotalAmount"] == "15.00" and stated["TaxBasisTotalAmount"] == "181.40"
    assert stated["RoundingAmount"] == "0.01" and stated["DuePayableAmount"] == "203.85"
    header = tree.findall(".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge", NS)
    assert sorted(h.findtext("ram:Reason", namespaces=NS) for h in header) == ["Frais de port", "Remise globale"]
    # the Factur-X PDF carries the same XML, byte for byte
    with pikepdf.open(io.BytesIO(client.get(files["facturx"]["url"]).data)) as pdf:
        assert pdf.attachments["factur-x.xml"].get_file().read_bytes() == xml

    for text in (pdf_text(client.get(files["pdf"]["url"]).data),
                 flat(docx_text(client.get(files["docx"]["url"]).data))):
        for figure in ("168,40 €", "−2,00 €", "15,00 €", "181,40 €", "22,44 €", "203,84 €", "0,01 €", "203,85 €",
                       "Remise globale (2 % de 100,00 €)", "Frais de port", "0,00101 €"):
            assert flat(figure) in text, figure


def test_a_percent_without_its_base_is_refused_naming_the_path_and_nothing_is_archived(client, archived):
    raw = everything()
    del raw["allowances"][0]["base"]
    r = client.post("/v1/documents", json=raw)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert "allowances.0.base" in r.json["errors"]
    assert archived() == {}

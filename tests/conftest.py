import json
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(), parse_float=Decimal)


@pytest.fixture
def invoice_payload() -> dict:
    return load_fixture("invoice")


@pytest.fixture
def credit_note_payload() -> dict:
    return load_fixture("credit_note")


def quote_example() -> dict:
    """DOMAIN.md's worked quote D-2026-0007 as a plain invoice payload."""
    party = {
        "address": {"lines": ["14 rue des Tanneurs"], "postcode": "69007", "city": "Lyon", "country": "FR"},
    }
    return {
        "type": "invoice", "number": "F-2026-0007", "issue_date": "2026-10-01",
        "seller": {**party, "name": "Atelier Durand Rénovation", "siren": "912345675",
                   "vat_id": "FR65912345675", "legal_form": "SARL", "share_capital": "20000.00"},
        "buyer": {**party, "name": "SCI Les Tilleuls", "siren": "845123983"},
        "operation": "mixed",
        "lines": [
            {"description": "Plomberie", "quantity": "1", "unit": "C62", "unit_price": "2400.00", "vat_rate": "10"},
            {"description": "Chauffe-eau", "quantity": "1", "unit": "C62", "unit_price": "1850.00",
             "discount": {"percent": "10"}, "vat_rate": "20"},
            {"description": "Main-d'œuvre", "quantity": "12.5", "unit": "HUR", "unit_price": "52.00",
             "vat_rate": "10"},
        ],
        "payment": {"terms_days": 30, "late_penalty_rate": "12.00"},
    }


@pytest.fixture
def quote_payload() -> dict:
    return quote_example()


QUOTE = {
    "number": "D-2026-0007", "date": "2026-10-01",
    "lines": [
        {"id": "L1", "description": "Plomberie", "quantity": "1", "unit_price": "2400.00", "vat_rate": "10"},
        {"id": "L2", "description": "Chauffe-eau", "quantity": "1", "unit_price": "1850.00",
         "discount": {"percent": "10"}, "vat_rate": "20"},
        {"id": "L3", "description": "Main-d'œuvre", "quantity": "12.5", "unit": "HUR", "unit_price": "52.00",
         "vat_rate": "10"},
    ],
}

#: DOMAIN.md's 30 % deposit on D-2026-0007, as a later document lists it.
DEPOSIT_30 = {"type": "deposit_invoice", "number": "FA-2026-0010", "issue_date": "2026-10-05",
              "net_total": "1414.50", "gross_total": "1605.90",
              "vat": [{"rate": "10", "base": "915.00", "amount": "91.50"},
                      {"rate": "20", "base": "499.50", "amount": "99.90"}]}


def cycle_payload(doc_type: str, number: str, **fields) -> dict:
    """A document of the acompte / situation / solde cycle on DOMAIN.md's quote."""
    raw = quote_example()
    del raw["lines"]
    raw.update({"type": doc_type, "number": number, "issue_date": "2026-10-05", "quote": QUOTE, **fields})
    return raw


@pytest.fixture(autouse=True)
def _own_index(tmp_path, monkeypatch):
    """Each test's processes get their own search index (an S3 archive's default index is
    ./var/index.sqlite3, which tests must not share with each other or with a developer)."""
    monkeypatch.setenv("DOCSVC_DATABASE_URL", f"sqlite:///{tmp_path / 'index.sqlite3'}")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """One SeaweedFS for the whole run; each test takes its own bucket."""
    from tests.seaweedfs import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(seaweedfs, monkeypatch):
    """AWS_* and the endpoint in the environment, as an operator would set them."""
    for key, value in seaweedfs.env().items():
        monkeypatch.setenv(key, value)
    return seaweedfs


@pytest.fixture(scope="session")
def postgresql():
    """One throwaway PostgreSQL for the whole run (initdb in a temporary folder); each test
    takes its own database with new_database()."""
    from tests.postgres import PostgreSQL

    server = PostgreSQL().start()
    yield server
    server.remove()

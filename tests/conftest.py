import json
import os
import shlex
import subprocess
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


def franchise_invoice(**seller) -> dict:
    """The invoice fixture from a micro-entrepreneur in franchise en base (art. 293 B): no VAT
    number, no share capital, every line exempt (category E)."""
    raw = load_fixture("invoice")
    kept = {k: v for k, v in raw["seller"].items() if k not in ("vat_id", "share_capital", "registration")}
    raw["seller"] = {**kept, "name": "Jean Durand", "legal_form": "EI", **seller}
    raw["lines"] = [{"description": "Dépose de l'ancienne baignoire et évacuation", "quantity": "1", "unit": "C62",
                     "unit_price": "380.00", "vat_rate": "0", "vat_category": "E",
                     "vat_exemption_reason": "TVA non applicable, art. 293 B du CGI"}]
    raw.update(formats=["pdf", "facturx"], payments=[])
    return raw


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


# ------------------------------------------------------------------ the e2e mark, enforced
# `-m "not e2e"` (make test-fast) must start no server. A test that starts `docsvc serve`,
# `docsvc worker` or redis-server (in its body or through a fixture) without the e2e mark
# fails, naming what it started: the mark can't be forgotten on a new test.


def server_started_by(args) -> str | None:
    """What `args` (as given to Popen) starts: `docsvc serve`, `docsvc worker`, `redis-server` or None."""
    try:
        if isinstance(args, (str, bytes)):
            argv = shlex.split(os.fsdecode(args))
        elif isinstance(args, os.PathLike):
            argv = [os.fsdecode(args)]
        else:
            argv = [os.fsdecode(a) for a in args]
    except (TypeError, ValueError):
        return None
    program = Path(argv[0]).name if argv else ""
    if program == "redis-server":
        return program
    if program == "docsvc" and len(argv) > 1 and argv[1] in ("serve", "worker"):
        return f"docsvc {argv[1]}"
    return None


_running: list = [None]  # the test being set up, run or torn down
_popen_key = pytest.StashKey[type]()  # subprocess.Popen as it was, put back at the end


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _running[0] = item
    try:
        return (yield)
    finally:
        _running[0] = None


class _E2ECheckedPopen(subprocess.Popen):
    def __init__(self, *args, **kwargs):
        started = server_started_by(args[0] if args else kwargs.get("args", ()))
        item = _running[0]
        if started and item is not None and item.get_closest_marker("e2e") is None:
            pytest.fail(f"{item.nodeid} starts {started} but is not marked e2e: add @pytest.mark.e2e "
                        "(or pytestmark = pytest.mark.e2e for the module)", pytrace=False)
        super().__init__(*args, **kwargs)


def pytest_configure(config):
    config.stash[_popen_key] = subprocess.Popen
    subprocess.Popen = _E2ECheckedPopen  # subprocess.run and friends create theirs through it


def pytest_unconfigure(config):
    subprocess.Popen = config.stash.get(_popen_key, subprocess.Popen)


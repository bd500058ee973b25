"""The e-invoice's official rules checked in a process of their own while the pages are laid
out (issue 16): the same verdict as in the web worker, nothing archived before it, and a
dead checking process costs no document.

The CII writer is made to break a rule (the amount due off by 1 000 €, BR-CO-16) the way a
bug in it would: the payload itself is valid, so only the schematron can refuse it.
"""
from __future__ import annotations

import os
import signal
import time

import pytest

from docsvc.billing.document import enrich
from docsvc.einvoice import rules_process
from docsvc.einvoice.cii import build_cii
from docsvc.einvoice.rules_process import RulesCheck
from docsvc.errors import InvalidPayload
from docsvc.rendering import TemplateRegistry
from docsvc.schemas.payload import load_payload
from docsvc.usecases import checking
from docsvc.usecases.checking import CheckDocument
from docsvc.usecases.issuing import IssueDocument
from tests.conftest import ROOT, quote_example
from tests.fakes import InMemoryArchive
from tests.integration.test_cii import _tamper


@pytest.fixture(scope="module")
def templates():
    return TemplateRegistry([ROOT / "templates"])


def factur_x(number: str = "F-2026-0007") -> dict:
    raw = quote_example()
    raw["number"] = number
    raw["formats"] = ["pdf", "facturx"]
    return raw


def broken_cii(monkeypatch) -> None:
    build = checking.build_cii

    def with_wrong_amount_due(document):
        xml, level = build(document)
        return _tamper(xml, ".//ram:DuePayableAmount", "999.99"), level
    monkeypatch.setattr(checking, "build_cii", with_wrong_amount_due)


@pytest.mark.parametrize("separate", [True, False], ids=["child process", "in the worker"])
def test_a_broken_e_invoice_is_refused_and_nothing_is_archived(templates, monkeypatch, separate):
    broken_cii(monkeypatch)
    archive = InMemoryArchive()
    issue = IssueDocument(archive, CheckDocument(archive, templates, rules_process=separate))
    with pytest.raises(InvalidPayload) as refused:
        issue(factur_x())
    assert refused.value.errors["facturx"][0].startswith("BR-CO-16: ")
    assert "BR-CO-16" in str(refused.value)
    assert archive.writes == []  # the PDF was rendered while the rules were checked, and thrown away
    if separate:
        pid = rules_process.child_pid()
        assert pid is not None and pid != os.getpid()


def test_the_child_process_gives_the_worker_s_verdict_on_a_valid_e_invoice(templates):
    archive = InMemoryArchive()
    issued = IssueDocument(archive, CheckDocument(archive, templates, rules_process=True))(factur_x())
    assert issued.created is True
    assert [f["format"] for f in issued.resource["files"]] == ["pdf", "facturx", "xml"]
    # the claim, the files, then the resource: the check changed nothing in the archive's order
    assert archive.writes[0].startswith("claims/") and archive.writes[-1].endswith("resource.json")
    assert len(archive.writes) == 5


def test_a_killed_checking_process_costs_no_document(templates):
    archive = InMemoryArchive()
    issue = IssueDocument(archive, CheckDocument(archive, templates, rules_process=True))
    issue(factur_x("F-2026-0101"))  # starts the child
    pid = rules_process.child_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the pool notices the death (its management thread)
        try:
            os.kill(pid, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            break
    # checked in the worker this time (the pool is broken), and issued all the same
    issued = issue(factur_x("F-2026-0102"))
    assert issued.created is True and len(issued.resource["files"]) == 3
    # the next one gets a new checking process
    issue(factur_x("F-2026-0103"))
    new = rules_process.child_pid()
    assert new is not None and new != pid


def test_a_check_whose_process_dies_midway_is_done_again_in_the_worker():
    raw = quote_example()
    raw["lines"] = [dict(raw["lines"][i % 3], id=str(i)) for i in range(1500)]  # about 2 s of schematrons
    xml, level = build_cii(enrich(load_payload(raw)))
    small, _ = build_cii(enrich(load_payload(quote_example())))
    assert RulesCheck(small, level, True, separate=True).failures() == []  # the child is up, its stylesheets compiled
    pid = rules_process.child_pid()
    check = RulesCheck(xml, level, True, separate=True)
    time.sleep(0.3)
    assert check._future is not None and not check._future.done()  # midway
    os.kill(pid, signal.SIGKILL)
    assert check.failures() == []  # the whole check again, here: a valid invoice stays valid
    assert rules_process.child_pid() is None  # the broken pool was dropped; the next check starts a new one


def test_the_setting_is_one_or_zero():
    from docsvc.settings import Settings, SettingsError

    assert Settings.from_env({}).rules_process is True  # on by default
    assert Settings.from_env({"DOCSVC_RULES_PROCESS": "0"}).rules_process is False
    assert Settings.from_env({"DOCSVC_RULES_PROCESS": "1"}).rules_process is True
    with pytest.raises(SettingsError, match="DOCSVC_RULES_PROCESS: expected 1 or 0, got 'yes'"):
        Settings.from_env({"DOCSVC_RULES_PROCESS": "yes"})


@pytest.mark.parametrize("value", ["1", "0"])
def test_the_service_checks_where_the_setting_says(tmp_path, value):
    from docsvc.bootstrap import bootstrap
    from docsvc.settings import Settings

    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}", "DOCSVC_RULES_PROCESS": value,
                                  "DOCSVC_DATABASE_URL": f"sqlite:///{tmp_path / 'index.sqlite3'}"})
    services = bootstrap(settings)
    assert services.check.rules_process is (value == "1")
    assert services.issue.check is services.check  # the issue use case checks with it

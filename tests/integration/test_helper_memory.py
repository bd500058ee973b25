"""A process a worker started (the e-invoice's rules, the parts of a long invoice) grown past
DOCSVC_WORKER_MAX_RSS_MB is stopped once idle and started again when next needed, as the
worker itself is replaced: Saxon and WeasyPrint keep their peak, so a helper would otherwise
stay at it for the worker's whole life. Real processes: the rules' checking process."""
from __future__ import annotations

import logging
import time

from docsvc import processes
from docsvc.billing.document import enrich
from docsvc.einvoice import rules_process
from docsvc.einvoice.cii import build_cii
from docsvc.einvoice.rules_process import RulesCheck
from docsvc.processes import rss_mb
from docsvc.schemas.payload import load_payload
from docsvc.serving import recycle_when_bloated
from tests.conftest import quote_example


def cii(lines: int = 0) -> tuple[bytes, str]:
    raw = quote_example()
    if lines:
        raw["lines"] = [dict(raw["lines"][i % 3], id=str(i)) for i in range(lines)]
    return build_cii(enrich(load_payload(raw)))


def gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if rss_mb(pid) is None:
            return True
        time.sleep(0.05)
    return False


def test_a_checking_process_past_the_limit_is_stopped_when_idle_and_a_new_one_checks_next():
    xml, level = cii()
    assert RulesCheck(xml, level, True, separate=True).failures() == []
    pid = rules_process.child_pid()
    size = rss_mb(pid)
    assert pid is not None and size is not None and size > 50  # Saxon and its compiled stylesheets
    # under the limit: kept
    assert rules_process.POOL.drop_if_bigger(size + 10_000) == []
    assert rules_process.child_pid() == pid
    # over it: dropped, the process ends, and the next check starts another that gives the verdict
    dropped = rules_process.POOL.drop_if_bigger(50)
    assert [p for p, _ in dropped] == [pid] and dropped[0][1] > 50
    assert rules_process.child_pid() is None and gone(pid)
    assert RulesCheck(xml, level, True, separate=True).failures() == []
    assert rules_process.child_pid() not in (None, pid)


def test_a_process_at_work_is_left_alone():
    small, level = cii()
    assert RulesCheck(small, level, True, separate=True).failures() == []  # the child is up
    pid = rules_process.child_pid()
    big, _ = cii(1500)  # about 2 s of schematrons
    check = RulesCheck(big, level, True, separate=True)
    time.sleep(0.3)
    assert check._future is not None and not check._future.done()
    assert rules_process.POOL.drop_if_bigger(50) == []  # busy: not now
    assert pid not in [p for p, _ in processes.recycle_bloated(50)]  # (other pools of this process may go)
    assert check.failures() == [] and rules_process.child_pid() == pid
    assert pid in [p for p, _ in processes.recycle_bloated(50)]  # idle again: now
    assert gone(pid)


class FakeWorker:
    def __init__(self):
        self.pid, self.alive, self.log = 4242, True, logging.getLogger("test.worker")


def test_docsvc_serve_s_hook_stops_the_bloated_helper_and_says_so(caplog):
    xml, level = cii()
    assert RulesCheck(xml, level, True, separate=True).failures() == []
    pid = rules_process.child_pid()
    worker = FakeWorker()
    hook = recycle_when_bloated(max_rss_mb=64)
    with caplog.at_level(logging.INFO, logger="test.worker"):
        hook(worker, None, {}, None)
    assert gone(pid) and rules_process.child_pid() is None
    assert any(f"its process {pid} at" in r.getMessage() and "DOCSVC_WORKER_MAX_RSS_MB=64" in r.getMessage()
               for r in caplog.records)
    # this pytest process is far past 64 MB too: the worker itself is to be replaced
    assert worker.alive is False

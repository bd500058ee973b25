"""A long invoice issued through `docsvc serve` is laid out in parts, in parallel processes
started by the gunicorn worker (issue 16, item 4): the archived PDF and Factur-X are numbered
over the whole document, carry the subtotal from one part to the next, come back the same
on a retry, and the processes go away with the server."""
from __future__ import annotations

import io
import json
import re
from decimal import Decimal as D
from pathlib import Path

import pikepdf
import pytest

from tests.e2e.conftest import call, start_server, stop_server
from tests.integration.test_parts import carried, flat, ninety_lines
from tests.originals import pdf_pages

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> set[int]:
    """Every process under `pid`, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, ppid in parents.items() if ppid == parent}
        todo.extend(children - found)
        found |= children
    return found


def test_a_long_invoice_is_laid_out_in_parts_by_the_server(tmp_path):
    base, proc, log = start_server(tmp_path, {"DOCSVC_PARALLEL_LINES": "40", "DOCSVC_RENDER_PROCESSES": "2",
                                              "DOCSVC_WORKERS": "1"})
    try:
        raw = ninety_lines()
        raw["formats"] = ["pdf", "facturx"]
        status, _, body = call("POST", base + "/v1/documents", raw)
        assert status == 201, body
        resource = json.loads(body)
        files = {f["format"]: f for f in resource["files"]}
        pdf = call("GET", base + files["pdf"]["url"])[2]
        pages = pdf_pages(pdf, layout=True, clean=flat)
        assert [re.search(r"Page (\d+) / (\d+)", p).groups() for p in pages] == [
            (str(n), str(len(pages))) for n in range(1, len(pages) + 1)]
        # the second part (lines 62 to 90) starts the page where the document laid out whole
        # turns one (tests/integration/test_parts.py), carrying 1 + ... + 61 = 61 x 62 / 2 = 1 891,00 €
        second = next(i for i, page in enumerate(pages) if "Article numéro 62 " in page)
        assert carried(pages[second - 1], "À reporter") == carried(pages[second], "Report") == D("1891.00")
        assert "Article numéro 61 " in pages[second - 1]
        # the Factur-X is the same pages as PDF/A-3b with the archived CII inside
        facturx = call("GET", base + files["facturx"]["url"])[2]
        xml = call("GET", base + files["xml"]["url"])[2]
        with pikepdf.open(io.BytesIO(facturx)) as document:
            assert len(document.pages) == len(pages)
            assert document.attachments["factur-x.xml"].get_file().read_bytes() == xml
        # a retry answers the original, the same bytes
        status, _, again = call("POST", base + "/v1/documents", raw)
        assert status == 200 and json.loads(again)["files"] == resource["files"]
        workers = descendants(proc.pid)
        assert len(workers) >= 1 + 2  # the gunicorn worker and the two processes laying out parts
    finally:
        stop_server(proc)
    assert not {pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]}, log.read_text()

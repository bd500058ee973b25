"""Where a long invoice's pages turn, guessed before it is laid out (page_plan.py, issue 16).

The guess is checked against the document laid out whole by WeasyPrint on classic 1.7.1:
lines whose descriptions take 1 to 12 lines, with gross prices, allowances and charges
under them, prices per a base quantity, in French and in English. The last page is the
closing figures' (the template keeps the last lines with them): the guess is not asked
to know where it starts, and parts never meet there.
"""
from __future__ import annotations

import random

import pytest

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering.page_plan import item_rows, page_starts, snap
from docsvc.rendering.registry import TemplateRegistry
from docsvc.schemas.payload import load_payload
from tests.conftest import ROOT, load_fixture

WORDS = ("pose fourniture carrelage grès cérame mural sol évacuation plomberie alimentation raccordement "
         "cuivre multicouche isolation laine soufflée combles reprise enduit finition peinture satinée "
         "menuiserie aluminium double vitrage").split()


@pytest.fixture(scope="module")
def bundle():
    return TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.1")


def invoice(seed: int, lines: int = 150, language: str = "fr", long: bool = False) -> dict:
    """An invoice of `lines` lines drawn at random (the same for a seed): descriptions of 2
    to 30 words (90 with `long`), one line in 10 at a gross price per 100, one in 20 with an
    allowance and a charge."""
    pick = random.Random(seed)
    raw = load_fixture("invoice")
    raw["language"], raw["payments"] = language, []
    raw["template"] = {"name": "classic", "version": "1.7.1"}
    made = []
    for i in range(lines):
        words = pick.choice([2, 4, 6, 9, 14, 22, 30] + ([60, 90] if long else []))
        line = {"id": str(i), "description": " ".join(pick.choice(WORDS) for _ in range(words)).capitalize(),
                "quantity": "2", "unit": "C62", "unit_price": "10.00", "vat_rate": "20"}
        draw = pick.random()
        if draw < 0.1:
            del line["unit_price"]
            line.update(gross_price="12.50", price_discount="2.50", base_quantity="100")
        elif draw < 0.15:
            line["allowances"] = [{"percent": "5", "reason": "Remise fidélité", "reason_code": "95"}]
            line["charges"] = [{"amount": "3.00", "reason": "Emballage", "reason_code": "ABL"}]
        made.append(line)
    raw["lines"] = made
    return as_plain(enrich(load_payload(raw)))


def laid_out_starts(bundle, document) -> list[int]:
    """The index of the first line on each page, WeasyPrint's layout read back."""
    pages = [page for page, _ in item_rows(bundle.lay_out(document))]
    return [i for i, page in enumerate(pages) if i == 0 or page != pages[i - 1]]


@pytest.mark.parametrize(("seed", "language", "long"), [(1, "fr", False), (2, "fr", False), (3, "en", False),
                                                        (4, "fr", True), (5, "en", True)])
def test_the_guess_is_where_weasyprint_turns_every_page_but_the_closing_one(bundle, seed, language, long):
    document = invoice(seed, language=language, long=long)
    actual = laid_out_starts(bundle, document)
    guessed = page_starts(bundle, document)
    assert len(actual) >= 6
    assert [s for s in guessed if s < actual[-1]] == actual[:-1]


def test_the_guess_stops_after_the_line_asked_for(bundle):
    document = invoice(1)
    every = page_starts(bundle, document)
    after = next(s for s in every if s > 40)
    assert page_starts(bundle, document, until=40) == every[:every.index(after) + 1]


def test_boundaries_move_to_the_nearest_page_start():
    # halves of 90 lines meet at 45: 61 is 16 lines away, 25 is 20
    assert snap([(0, 45), (45, 90)], [0, 25, 61, 86]) == [(0, 61), (61, 90)]
    # as near on both sides (45 - 40 = 50 - 45): the earlier one
    assert snap([(0, 45), (45, 90)], [0, 40, 50]) == [(0, 40), (40, 90)]
    # a start among the last 4 lines is the closing figures' page: never a boundary
    assert snap([(0, 45), (45, 90)], [0, 87]) == []
    # three parts of 100 lines (boundaries 33 and 67), pages of 30 lines
    assert snap([(0, 33), (33, 67), (67, 100)], [0, 30, 60, 90]) == [(0, 30), (30, 60), (60, 100)]
    # one page start for two boundaries: two parts
    assert snap([(0, 33), (33, 67), (67, 100)], [0, 50]) == [(0, 50), (50, 100)]
    assert snap([], [0, 30]) == []

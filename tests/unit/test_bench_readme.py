"""The benchmarks write their tables into the README between named markers (bench/readme.py)."""
from __future__ import annotations

import pytest

from bench.readme import MissingBlock, replace_block
from tests.conftest import ROOT

README = """# Performance
Narrative before.
<!-- bench:render -->
old table
<!-- /bench:render -->
Narrative after.
"""


def test_only_the_named_block_is_replaced():
    new = replace_block(README, "render", "| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert new == ("# Performance\nNarrative before.\n<!-- bench:render -->\n| a | b |\n|---|---|\n| 1 | 2 |\n"
                   "<!-- /bench:render -->\nNarrative after.\n")
    assert replace_block(new, "render", "| a | b |\n|---|---|\n| 1 | 2 |") == new  # a rerun: the same text


@pytest.mark.parametrize("text", [
    "# Performance\nno block\n",
    README + README,  # two blocks of one name: which one?
    "<!-- /bench:render -->\n<!-- bench:render -->\n",  # the end before the start
], ids=["missing", "twice", "reversed"])
def test_a_readme_without_exactly_one_block_is_refused(text):
    with pytest.raises(MissingBlock):
        replace_block(text, "render", "table")


@pytest.mark.parametrize("name", ["render", "http"])
def test_the_project_readme_has_the_blocks_make_bench_writes(name):
    text = (ROOT / "README.md").read_text()
    assert replace_block(text, name, "x") != text

"""A benchmark writes its latest table into the README itself (issue 16, item 6), between
two markers that name it, so the figures there are what the script printed, with the
machine it ran on, and not copied by hand:

    <!-- bench:render -->
    ...replaced on each run...
    <!-- /bench:render -->

Everything outside the markers (the narrative, earlier runs kept for comparison) is left
as it is. A README without the markers is refused rather than appended to.
"""
from __future__ import annotations

from pathlib import Path


class MissingBlock(ValueError):
    """The README has no (or more than one) block of that name."""


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def replace_block(text: str, name: str, content: str) -> str:
    """`text` with the block `name` holding `content` (and nothing else)."""
    start, end = markers(name)
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise MissingBlock(f"expected one {start} ... {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{content.strip()}\n{end}{tail}"


def write_block(readme: Path, name: str, content: str) -> None:
    readme.write_text(replace_block(readme.read_text(), name, content))

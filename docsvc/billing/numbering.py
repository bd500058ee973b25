"""Invoice numbering: the law asks for continuous, chronological series (CGI, annexe II,
art. 242 nonies A, 7°); docsvc checks their order. A number is its series' prefix and a
sequence number, "F-2026-" and 142 for "F-2026-0142"; a seller may keep several series
(FA- for deposits, A- for credit notes), each in the order of its dates. Pure: the
archive's documents come in."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

_SERIES = re.compile(r"(.*?)(\d+)")


def series_of(number: str) -> tuple[str, int] | None:
    """("F-2026-", 142) for "F-2026-0142"; None for a number that does not end in digits."""
    match = _SERIES.fullmatch(number)
    return (match.group(1), int(match.group(2))) if match else None


def out_of_order(number: str, issued: date, others: Iterable[tuple[str, date]]) -> list[tuple[str, date]]:
    """The documents of the same series whose place contradicts this one's date: a lower
    number dated later, or a higher number dated earlier. The same day is never out of order."""
    mine = series_of(number)
    if mine is None:
        return []
    out = []
    for other, day in others:
        theirs = series_of(other)
        if theirs is None or theirs[0] != mine[0] or other == number:
            continue
        if (theirs[1] < mine[1] and day > issued) or (theirs[1] > mine[1] and day < issued):
            out.append((other, day))
    return out


def order_problem(number: str, issued: date, conflicts: list[tuple[str, date]]) -> dict[str, list[str]]:
    """The refusal, naming the number and each document it would contradict."""
    if not conflicts:
        return {}
    series = series_of(number)
    prefix = series[0] if series else ""
    told = ", ".join(f"{other} of {day.isoformat()}" for other, day in sorted(conflicts))
    return {"number": [f"{number} of {issued.isoformat()} is out of order in this seller's series "
                       f"{prefix or 'of numbers'}…: {told}. Numbers follow their dates "
                       "(CGI, annexe II, art. 242 nonies A): a new document takes the next number."]}

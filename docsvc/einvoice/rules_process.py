"""The official e-invoicing rules checked in a process of their own, while the pages are laid out.

The XSD and the two schematrons (EN 16931, French CTC) cost about 35 ms on a one-page
invoice and 3 s on 2 000 lines, in saxonche, which holds the GIL: in a thread they overlap
nothing. In a child process they run while the parent lays the pages out, so a Factur-X
adds a few milliseconds to the PDF instead of the checks' whole time when a core is free,
and a long invoice waits for the longer of the two instead of their sum (issue 16). Saxon,
about 140 MB with the stylesheets compiled, then lives in that child rather than in every
web worker, and a crash in its native code ends the child, not the worker.

Nothing is archived before the verdict is in (IssueDocument). The child is spawned (no
lock or thread of the parent is inherited) on the first Factur-X, and kept; it compiles
the stylesheets once, as the parent did before. A daemonic process (a Celery prefork
child) may not start one, and checks where it is; so does a caller whose child died
(killed, out of memory): the next check gets a new child.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..processes import SpawnedPool
from .validate import Failure, validate

#: the one checking process of this process
POOL = SpawnedPool()


def child_pid() -> int | None:
    """The checking process's pid, once started (tests kill it to see the fallback)."""
    return next(iter(POOL.pids()), None)


class RulesCheck:
    """The verdict of the XSD and the schematrons on one CII, being reached."""

    def __init__(self, xml: bytes, level: str, french_rules: bool, separate: bool):
        self._args = (xml, level, french_rules)
        self._failures: list[Failure] | None = None
        self._future: Future[list[Failure]] | None = None
        self._pool: ProcessPoolExecutor | None = None
        if separate and not multiprocessing.current_process().daemon:
            try:
                self._pool = POOL.get()
                self._future = self._pool.submit(validate, *self._args)
                return
            except RuntimeError:  # BrokenProcessPool (the child died), or a pool shut down at exit
                if self._pool is not None:
                    POOL.drop(self._pool)
        self._failures = validate(*self._args)

    def failures(self) -> list[Failure]:
        """Every failed rule (none: the CII may be issued); waits for the child if it is still at it."""
        if self._failures is None:
            assert self._future is not None and self._pool is not None
            try:
                self._failures = self._future.result()
            except BrokenProcessPool:
                POOL.drop(self._pool)
                self._failures = validate(*self._args)
        return self._failures

"""`docsvc serve` caps glibc's malloc arenas before forking its workers (serving.py): a
worker runs each request in a new thread, and with glibc's default each thread may take
an arena of its own, over which the heap spreads and grows (issue 16, memory per worker).

Checked in a fresh interpreter, where 8 threads allocate at once and glibc's malloc_stats()
then lists the arenas ("Arena 0:", "Arena 1:", ...) on stderr."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

THREADS = """
import ctypes, sys, threading
if sys.argv[1] == "capped":
    from docsvc.serving import fewer_malloc_arenas
    assert fewer_malloc_arenas()
barrier = threading.Barrier(8)
def allocate():
    barrier.wait()  # all at once, so that glibc hands out arenas concurrently
    [bytearray(4096) for _ in range(20000)]
threads = [threading.Thread(target=allocate) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
ctypes.CDLL(None).malloc_stats()
"""


def arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", THREADS, mode], capture_output=True, text=True, env=env,
                          check=True)
    return done.stderr.count("Arena ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_served_workers_use_at_most_two_arenas():
    assert arenas("default") > 2  # glibc's default: threads that allocate together get arenas of their own
    assert arenas("capped") <= 2


def test_an_explicit_malloc_arena_max_is_left_to_glibc(monkeypatch):
    from docsvc.serving import fewer_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert fewer_malloc_arenas() is False

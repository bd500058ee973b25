"""The processes a worker starts for work its own threads can't share out (issue 16): the
parts of a long invoice (rendering/parts.py) and the e-invoice's rules (einvoice/rules_process.py).

One home for how they are kept: a pool of spawned processes (no lock or thread of the
parent is inherited) per process that uses it, started on first use and kept, replaced
when one of them died (the caller then does the work itself), stopped when the process
exits, and dropped between two tasks when one of its processes has grown past the
worker's memory limit (`recycle_bloated`, called by `docsvc serve` after each request).
"""
from __future__ import annotations

import atexit
import multiprocessing
import threading
import weakref
from concurrent.futures import ProcessPoolExecutor

#: every pool of this process, for recycle_bloated
_POOLS: weakref.WeakSet[SpawnedPool] = weakref.WeakSet()


def rss_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory (Linux /proc), None when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class SpawnedPool:
    """One ProcessPoolExecutor of spawned processes at a time."""

    def __init__(self, max_tasks_per_child: int | None = None):
        self.max_tasks_per_child = max_tasks_per_child
        self._pool: ProcessPoolExecutor | None = None
        self._size = 0
        self._lock = threading.Lock()
        atexit.register(self.stop)
        _POOLS.add(self)

    def get(self, processes: int = 1) -> ProcessPoolExecutor:
        """The pool, started with `processes` processes if there is none or it has another size."""
        with self._lock:
            if self._pool is None or self._size != processes:
                if self._pool is not None:
                    self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                                 max_tasks_per_child=self.max_tasks_per_child)
                self._size = processes
            return self._pool

    def drop(self, pool: ProcessPoolExecutor) -> None:
        """Forgets a broken pool (the next `get` starts a new one) and shuts it down."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def current(self) -> ProcessPoolExecutor | None:
        return self._pool

    def pids(self) -> list[int]:
        """The pool's processes, once started (tests kill them to see the fallbacks)."""
        return _pids(self._pool)

    def drop_if_bigger(self, max_mb: float) -> list[tuple[int, float]]:
        """Drops the pool when it has no task in flight and one of its processes is bigger than
        `max_mb` (the next task starts new ones); the processes found bigger, with their MB.

        Saxon and WeasyPrint keep what a huge invoice made them allocate, so a helper
        process would otherwise stay at its peak for the worker's whole life."""
        with self._lock:
            pool = self._pool
            if pool is None or getattr(pool, "_pending_work_items", None):
                return []
            bigger = [(pid, mb) for pid in _pids(pool) if (mb := rss_mb(pid)) is not None and mb > max_mb]
            if not bigger:
                return []
            self._pool = None
        pool.shutdown(wait=False)  # a task another thread submitted meanwhile is still done
        return bigger

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _pids(pool: ProcessPoolExecutor | None) -> list[int]:
    return list(getattr(pool, "_processes", None) or {})


def recycle_bloated(max_mb: float) -> list[tuple[int, float]]:
    """Every idle pool of this process with a process bigger than `max_mb` dropped; the
    processes it found bigger."""
    return [found for pool in list(_POOLS) for found in pool.drop_if_bigger(max_mb)]

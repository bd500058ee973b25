"""The processes a worker starts for work its own threads can't share out (issue 16): the
parts of a long invoice (rendering/parts.py) and the e-invoice's rules (einvoice/rules_process.py).

One home for how they are kept: a pool of spawned processes (no lock or thread of the
parent is inherited) per process that uses it, started on first use and kept, replaced
when one of them died (the caller then does the work itself), stopped when the process
exits.
"""
from __future__ import annotations

import atexit
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor


class SpawnedPool:
    """One ProcessPoolExecutor of spawned processes at a time."""

    def __init__(self, max_tasks_per_child: int | None = None):
        self.max_tasks_per_child = max_tasks_per_child
        self._pool: ProcessPoolExecutor | None = None
        self._size = 0
        self._lock = threading.Lock()
        atexit.register(self.stop)

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
        return list(getattr(self._pool, "_processes", None) or {})

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

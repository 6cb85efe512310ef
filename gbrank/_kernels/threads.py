"""The thread pool that runs the kernels, and the number of threads it uses.

Kernels are compiled with ``nogil=True`` and handle a range of groups (or of
rows of one big group), so plain Python threads run them in parallel. Unlike
numba's ``parallel=True`` this needs no OpenMP runtime (whose spinning workers
starve the engines' own threads), compiles several times faster, and lets a
long call stop at Ctrl-C: the work is cut into chunks of about
:data:`CHUNK_NS` nanoseconds that run on pool threads while the calling thread
waits, handling signals. A ``KeyboardInterrupt`` stops the workers after their
current chunk and reaches the caller at once (within :data:`_WAIT_SECONDS`):
a chunk cannot be cut below one query, so a worker busy with one huge query
(seconds for a single query of millions of rows) finishes it in the
background, its result discarded. Pool threads are daemons, so exiting Python
does not wait for them, and the pool starts a thread whenever none is idle, so
a later call never waits for abandoned work. Work estimated below
:data:`PARALLEL_NS` runs in the calling thread.
"""

from __future__ import annotations

import itertools
import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gbrank._validation import check_int

CHUNK_NS = 20e6
"""Target duration of one chunk of work (20 ms): the latency of Ctrl-C."""

PARALLEL_NS = 1e6
"""Work estimated below this (1 ms) runs in the calling thread, in one piece."""

_WAIT_SECONDS = 0.1  # the calling thread wakes up this often to handle signals
_GRACE_SECONDS = 0.5  # after an error, how long to wait for workers to stop


def available_cores() -> int:
    """Return the number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)  # pragma: no cover - macOS, Windows


_num_threads: int | None = None
_in_pool = threading.local()


def get_num_threads() -> int:
    """Return the number of kernel threads (default: every available core)."""
    return available_cores() if _num_threads is None else _num_threads


def set_num_threads(n_threads: int | None) -> None:
    """Set the number of threads of the gbrank kernels (None: every core).

    Parameters
    ----------
    n_threads : int or None
        An integer >= 1, or None to use every available core.
    """
    global _num_threads
    _num_threads = check_int(n_threads, "n_threads", allow_none=True)


@contextmanager
def num_threads(n_threads: int | None) -> Iterator[None]:
    """Use ``n_threads`` kernel threads inside a ``with`` block (None: no change)."""
    if n_threads is None:
        yield
        return
    previous = _num_threads
    set_num_threads(n_threads)
    try:
        yield
    finally:
        set_num_threads(previous)


class _Pool:
    """Daemon threads that run submitted calls; one is started when none is idle."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], int]]
        self._tasks = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._started = 0

    def submit(self, function: Callable[[int], Any], argument: int) -> Future[Any]:
        """Run ``function(argument)`` on a pool thread; return its future."""
        future: Future[Any] = Future()
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                self._started += 1
                name = f"gbrank-{self._started}"
                threading.Thread(target=self._serve, name=name, daemon=True).start()
        self._tasks.put((future, function, argument))
        return future

    def _serve(self) -> None:
        _in_pool.active = True
        while True:
            future, function, argument = self._tasks.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(argument))
                except BaseException as error:  # handed to the caller
                    future.set_exception(error)
            with self._lock:
                self._idle += 1


_POOL = _Pool()


def run_chunks(work: Callable[[int, int], None], n_chunks: int) -> None:
    """Call ``work(worker, chunk)`` for every ``chunk`` in ``range(n_chunks)``.

    Up to :func:`get_num_threads` pool threads (workers numbered ``0 ..
    n_workers - 1``) take the chunks in increasing order while the calling
    thread waits, handling signals; a worker's calls never overlap, so
    ``worker`` can index per-worker scratch space. Exceptions, including a
    ``KeyboardInterrupt`` in the calling thread, stop every worker after its
    current chunk and are re-raised (without waiting more than
    :data:`_GRACE_SECONDS` for a worker in a long chunk). Called from a pool
    thread (nested), the chunks run there, in order.

    Parameters
    ----------
    work : callable
        ``work(worker, chunk)``, typically a ``nogil`` kernel call.
    n_chunks : int
        Number of chunks.
    """
    if getattr(_in_pool, "active", False):
        for chunk in range(n_chunks):
            work(0, chunk)
        return
    n_workers = max(min(get_num_threads(), n_chunks), 1)
    counter = itertools.count()
    stop = threading.Event()

    def loop(worker: int) -> None:
        while not stop.is_set():
            chunk = next(counter)
            if chunk >= n_chunks:
                return
            work(worker, chunk)

    futures = [_POOL.submit(loop, worker) for worker in range(n_workers)]
    try:
        pending: set[Future[None]] = set(futures)
        while pending:
            done, pending = wait(
                pending, timeout=_WAIT_SECONDS, return_when=FIRST_EXCEPTION
            )
            if any(future.exception() is not None for future in done):
                break
    finally:
        stop.set()
        wait(futures, timeout=_GRACE_SECONDS)
    for future in futures:
        error = future.exception() if future.done() else None
        if error is not None:
            raise error


def chunk_count(total_ns: float, n_items: int) -> int:
    """Return into how many chunks to cut ``total_ns`` of work over ``n_items``.

    A multiple of :func:`get_num_threads` (chunks of equal cost dealt to the
    threads then finish together: 3 chunks on 2 threads take as long as 4) of
    at most about :data:`CHUNK_NS` each, and at most one chunk per item.

    Parameters
    ----------
    total_ns : float
        Estimated nanoseconds of all the work.
    n_items : int
        Number of items (groups, rows, positions) the work splits into.

    Returns
    -------
    int
    """
    threads = get_num_threads()
    rounds = max(math.ceil(total_ns / (CHUNK_NS * threads)), 1)
    return max(min(rounds * threads, n_items), 1)


def group_ranges(cost: NDArray[np.floating], n_chunks: int) -> NDArray[np.int64]:
    """Cut groups ``0 .. n_groups`` into at most ``n_chunks`` ranges of equal cost.

    Parameters
    ----------
    cost : ndarray of float64, shape (n_groups,)
        Estimated cost of each group.
    n_chunks : int
        Wanted number of ranges.

    Returns
    -------
    ndarray of int64
        Range bounds ``[0, ..., n_groups]``, strictly increasing.
    """
    n_groups = cost.size
    total = np.cumsum(cost)
    targets = total[-1] * np.arange(1, n_chunks) / n_chunks
    cuts = np.searchsorted(total, targets, side="right")
    return np.unique(np.concatenate(([0], cuts, [n_groups]))).astype(np.int64)


def run_groups(
    kernel: Callable[[int, int], None], cost_ns: NDArray[np.floating]
) -> None:
    """Run ``kernel(first, stop)`` over ranges of groups covering all of them.

    Parameters
    ----------
    kernel : callable
        ``kernel(first, stop)`` handles groups ``first <= g < stop``.
    cost_ns : ndarray of float64, shape (n_groups,)
        Estimated nanoseconds of work of each group: small work runs in the
        calling thread in one call, large work (one big group included) in
        chunks of about :data:`CHUNK_NS` dealt to the pool threads, so that the
        calling thread stays free to handle Ctrl-C.
    """
    n_groups = cost_ns.size
    total = float(cost_ns.sum())
    if total < PARALLEL_NS:
        kernel(0, n_groups)
        return
    bounds = group_ranges(cost_ns, chunk_count(total, n_groups))
    run_chunks(lambda _, c: kernel(int(bounds[c]), int(bounds[c + 1])), bounds.size - 1)

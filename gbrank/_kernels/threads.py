"""The thread pool that runs the kernels, and the number of threads it uses.

Kernels are compiled with ``nogil=True`` and handle a range of groups (or of
rows of one big group), so plain Python threads run them in parallel. Unlike
numba's ``parallel=True`` this needs no OpenMP runtime (whose spinning workers
starve the engines' own threads), compiles several times faster, and lets a
long call stop at Ctrl-C: the work is cut into chunks of about
:data:`CHUNK_NS` nanoseconds, and between chunks the calling thread handles
signals (a ``KeyboardInterrupt`` stops the workers after their current chunk).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

import numpy as np
from numpy.typing import NDArray

from gbrank._validation import check_int

CHUNK_NS = 20e6
"""Target duration of one chunk of work (20 ms): the latency of Ctrl-C."""

PARALLEL_NS = 1e6
"""Work estimated below this (1 ms) runs in the calling thread, in one piece."""

_WAIT_SECONDS = 0.1  # the calling thread wakes up this often to handle signals


def available_cores() -> int:
    """Return the number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)  # pragma: no cover - macOS, Windows


_num_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
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


def _executor(n_workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n_workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(n_workers, thread_name_prefix="gbrank")
            _pool_size = n_workers
        return _pool


def run_chunks(work: Callable[[int, int], None], n_chunks: int) -> None:
    """Call ``work(worker, chunk)`` for every ``chunk`` in ``range(n_chunks)``.

    Up to :func:`get_num_threads` workers (numbered ``0 .. n_workers - 1``) take
    the chunks in increasing order; a worker's calls never overlap, so ``worker``
    can index per-worker scratch space. Exceptions, including a
    ``KeyboardInterrupt`` in the calling thread, stop every worker after its
    current chunk and are re-raised.

    Parameters
    ----------
    work : callable
        ``work(worker, chunk)``, typically a ``nogil`` kernel call.
    n_chunks : int
        Number of chunks.
    """
    n_workers = min(get_num_threads(), n_chunks)
    if n_workers <= 1 or getattr(_in_pool, "active", False):
        for chunk in range(n_chunks):
            work(0, chunk)
        return
    counter = itertools.count()
    stop = threading.Event()

    def loop(worker: int) -> None:
        _in_pool.active = True
        while not stop.is_set():
            chunk = next(counter)
            if chunk >= n_chunks:
                return
            work(worker, chunk)

    pool = _executor(n_workers)
    futures: list[Future[None]] = [pool.submit(loop, w) for w in range(n_workers)]
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
        wait(futures)
    for future in futures:
        future.result()


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
        calling thread in one call, large work in chunks of about
        :data:`CHUNK_NS` dealt to the threads.
    """
    n_groups = cost_ns.size
    total = float(cost_ns.sum())
    if total < PARALLEL_NS or n_groups == 1:
        kernel(0, n_groups)
        return
    n_chunks = min(max(math.ceil(total / CHUNK_NS), get_num_threads()), n_groups)
    bounds = group_ranges(cost_ns, n_chunks)
    run_chunks(lambda _, c: kernel(int(bounds[c]), int(bounds[c + 1])), bounds.size - 1)

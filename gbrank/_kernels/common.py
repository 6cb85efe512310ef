"""Small numba helpers shared by the kernel families."""

from __future__ import annotations

import math
import pickle
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numba.core import caching, event
from numpy.typing import NDArray

LN2 = math.log(2.0)

SPREAD_FOR_RATIOS = 600.0
"""Largest tempered spread of a group's scores for which pairs take
``exp(-|d|)`` as a product of per-row exponentials and inverses (all of them
normal floats within it); beyond it, each pair takes its own ``exp``."""


class _CompileNotice(event.Listener):
    """Say once on stderr that gbrank kernels are being compiled.

    numba compiles a kernel on its first use and caches it on disk; loading
    from the cache raises no compile event, so the notice appears only in a
    fresh environment (or after an upgrade), before the wait.
    """

    said = False

    def on_start(self, ev: Any) -> None:
        module = getattr(ev.data["dispatcher"].py_func, "__module__", None)
        if self.said or not (module or "").startswith("gbrank."):
            return
        type(self).said = True
        sys.stderr.write(
            "gbrank: compiling numba kernels (first use only, cached afterwards)\n"
        )
        sys.stderr.flush()

    def on_end(self, ev: Any) -> None:
        """Nothing to do when a compilation ends."""


event.register("numba:compile", _CompileNotice())

_load_index = caching.IndexDataCacheFile._load_index


def _load_gbrank_index(self: caching.IndexDataCacheFile) -> dict[Any, Any]:
    """Load numba's cache index, treating gbrank's stale indexes as empty.

    An index pickles the types of a kernel's arguments; one written by an older
    gbrank whose kernel types have since moved or gone fails to unpickle, and
    numba raises instead of recompiling (it checks the source stamp only after
    unpickling). For gbrank's kernels such an index is discarded (the kernel is
    compiled again and the index rewritten); other packages' caches are
    untouched.
    """
    try:
        return _load_index(self)
    except (AttributeError, ImportError, pickle.UnpicklingError):
        parts = Path(self._cache_path).parts
        if "gbrank" in parts and "_kernels" in parts:
            return {}
        raise


caching.IndexDataCacheFile._load_index = _load_gbrank_index  # type: ignore[method-assign]

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_INSERTION_SORT_SIZE = 24


@njit(cache=True, nogil=True)
def argsort_descending(keys: Array, index: IntArray) -> IntArray:
    """Sort ``index`` (int64 positions into ``keys``) by ``keys``, descending, stably.

    Equal keys keep the order they have in ``index``. A merge sort of (key,
    position) pairs copied side by side, with an insertion sort for short runs;
    it compiles far faster than NumPy's ``argsort(kind="mergesort")`` in numba.
    Returns the sorted positions (a new array).
    """
    n = index.size
    out = index.copy()
    values = np.empty(n)
    for i in range(n):  # a loop, not keys[index]: numba compiles it much faster
        values[i] = keys[index[i]]
    for lo in range(0, n, _INSERTION_SORT_SIZE):
        hi = min(lo + _INSERTION_SORT_SIZE, n)
        for i in range(lo + 1, hi):
            item, key = out[i], values[i]
            j = i - 1
            while j >= lo and values[j] < key:
                out[j + 1], values[j + 1] = out[j], values[j]
                j -= 1
            out[j + 1], values[j + 1] = item, key
    if n <= _INSERTION_SORT_SIZE:
        return out
    spare, spare_values = np.empty(n, dtype=np.int64), np.empty(n)
    width = _INSERTION_SORT_SIZE
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if values[j] > values[i]:
                    spare[k], spare_values[k] = out[j], values[j]
                    j += 1
                else:
                    spare[k], spare_values[k] = out[i], values[i]
                    i += 1
                k += 1
            while i < mid:
                spare[k], spare_values[k] = out[i], values[i]
                i += 1
                k += 1
            while j < hi:
                spare[k], spare_values[k] = out[j], values[j]
                j += 1
                k += 1
        out, spare = spare, out
        values, spare_values = spare_values, values
        width *= 2
    return out


@njit(cache=True, nogil=True)
def valid_rows(labels: Array, start: int, stop: int) -> IntArray:
    """Return the indices of the valid rows (label >= 0) of ``start:stop``."""
    n_valid = 0
    for i in range(start, stop):
        if labels[i] >= 0:
            n_valid += 1
    rows = np.empty(n_valid, dtype=np.int64)
    k = 0
    for i in range(start, stop):
        if labels[i] >= 0:
            rows[k] = i
            k += 1
    return rows


@njit(cache=True, nogil=True, inline="always")
def valid_by_label(labels: Array, start: int, stop: int) -> IntArray:
    """Return the valid rows of ``start:stop`` by label, descending, ties by row."""
    return argsort_descending(labels, valid_rows(labels, start, stop))


@njit(cache=True, nogil=True, inline="always")
def top_exponentials(
    labels: Array, scores: Array, start: int, stop: int, e_out: Array
) -> tuple[int, int, float]:
    """Find the top valid row of ``start:stop``; write the others' ``exp(s - s_top)``.

    The top row is the first valid row of the largest score. Each other valid
    row i gets ``e_i = exp(s_i - s_top) <= 1`` in ``e_out[i]`` (the top row's
    entry is not written). Returns the top row (-1 without a valid row), the
    number of valid rows and ``R``, the sum of the ``e_i``: then ``p_i = e_i /
    (1 + R)`` and the top row's ``1 - p = R / (1 + R)`` are exact.
    """
    top = -1
    n_valid = 0
    for i in range(start, stop):
        if labels[i] >= 0:
            n_valid += 1
            if top < 0 or scores[i] > scores[top]:
                top = i
    rest = 0.0
    if top < 0:
        return top, n_valid, rest
    s_top = scores[top]
    for i in range(start, stop):
        if labels[i] >= 0 and i != top:
            e = math.exp(scores[i] - s_top)
            e_out[i] = e
            rest += e
    return top, n_valid, rest


@njit(cache=True, nogil=True, inline="always")
def list_weight(labels: Array, weights: Array, valid: IntArray) -> tuple[float, float]:
    """Return ``sum y_i`` and the list weight ``W = sum w_i y_i / sum y_i``.

    Over the rows ``valid``; ``W`` is 0 when ``sum y_i <= 0`` (a list without a
    relevant row, which the metric losses skip). A list's weight is the mean of
    its rows' weights, weighted by label, in the approximate-rank and NeuralSort
    losses.
    """
    label_sum = 0.0
    weighted = 0.0
    for a in range(valid.size):
        label_sum += labels[valid[a]]
        weighted += weights[valid[a]] * labels[valid[a]]
    if label_sum <= 0.0:
        return label_sum, 0.0
    return label_sum, weighted / label_sum


@njit(cache=True, nogil=True, inline="always")
def logaddexp(a: float, b: float) -> float:
    """``log(exp(a) + exp(b))`` without overflow; either may be -inf."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


class Rows(NamedTuple):
    """The flat inputs of a loss kernel (see the package conventions)."""

    labels: NDArray[np.float64]
    scores: NDArray[np.float64]
    weights: NDArray[np.float64]
    offsets: NDArray[np.int64]


class Terms(NamedTuple):
    """The outputs of a loss kernel: unreduced loss, gradient and hessian."""

    loss: NDArray[np.float64]
    grad: NDArray[np.float64]
    hess: NDArray[np.float64]


@njit(cache=True, nogil=True, inline="always")
def mix64(x: np.uint64) -> np.uint64:
    """splitmix64's finaliser: a bijective scramble of 64 bits."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@njit(cache=True, nogil=True, inline="always")
def hash_keys(k0: Any, k1: Any, k2: Any, k3: Any) -> np.uint64:
    """Hash four non-negative integer keys to 64 random-looking bits.

    :func:`mix64` of the keys times odd constants, xor-ed: the counter-based
    random numbers of sampled pairs and YetiRank's noise (the same for a seed
    in every round and for any number of threads).
    """
    x = np.uint64(k0) * np.uint64(0x9E3779B97F4A7C15)
    x ^= np.uint64(k1) * np.uint64(0xC2B2AE3D27D4EB4F)
    x ^= np.uint64(k2) * np.uint64(0x165667B19E3779F9)
    x ^= np.uint64(k3) * np.uint64(0x27D4EB2F165667C5)
    return mix64(x)


@njit(cache=True, nogil=True, inline="always")
def exp2_gain(label: float) -> float:
    """Return the exponential gain ``2^y - 1`` of a label (exact near 0)."""
    return math.expm1(label * LN2)


@njit(cache=True, nogil=True)
def ratio_exponentials(tempered: Array, e: Array, inverse: Array) -> bool:
    """Write ``e = exp(t - max t)`` and ``1 / e`` for tempered scores t; return True.

    A pair's ``exp(t_b - t_a)`` is then ``e[b] * inverse[a]``: one ``exp`` per
    row instead of one per pair. Returns False, writing nothing, when the
    values spread more than :data:`SPREAD_FOR_RATIOS`.
    """
    n = tempered.size
    if n == 0:
        return False
    top = bottom = tempered[0]
    for a in range(n):  # loops, not array expressions: numba compiles them faster
        top, bottom = max(top, tempered[a]), min(bottom, tempered[a])
    if top - bottom > SPREAD_FOR_RATIOS:
        return False
    for a in range(n):
        e[a] = math.exp(tempered[a] - top)
        inverse[a] = 1.0 / e[a]
    return True

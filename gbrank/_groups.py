"""Query structure: group sizes, per-row query ids or offsets -> int64 offsets.

Every public entry point that takes ``group=`` or ``qid=`` converts them here, once,
into a :class:`Groups` object holding ``offsets`` (``offsets[g]:offsets[g + 1]`` are
the rows of query ``g``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True, eq=False)
class Groups:
    """Contiguous query groups of a flat array of rows.

    Parameters
    ----------
    offsets : ndarray of int64, shape (n_groups + 1,)
        ``offsets[0] == 0``, strictly increasing, ``offsets[-1] == n_rows``.
    """

    offsets: NDArray[np.int64]

    @property
    def n_groups(self) -> int:
        """Number of query groups."""
        return self.offsets.size - 1

    @property
    def n_rows(self) -> int:
        """Total number of rows."""
        return int(self.offsets[-1])

    @property
    def sizes(self) -> NDArray[np.int64]:
        """Number of rows of each group."""
        return np.diff(self.offsets)

    def row_group(self) -> NDArray[np.int64]:
        """Group index of every row, shape (n_rows,)."""
        return np.repeat(np.arange(self.n_groups, dtype=np.int64), self.sizes)


def groups_from_sizes(group: ArrayLike, n_rows: int) -> Groups:
    """Validate group sizes and convert them to offsets.

    Parameters
    ----------
    group : array-like of int, shape (n_groups,)
        Number of rows of each query, in row order (LightGBM / XGBoost ``group=``).
    n_rows : int
        Number of rows the sizes must add up to.

    Returns
    -------
    Groups
    """
    sizes = np.asarray(group)
    if sizes.ndim != 1:
        raise ValueError(
            f"group must be a 1-D array of group sizes, got shape {sizes.shape}."
        )
    if sizes.size == 0:
        raise ValueError("group is empty: pass at least one group size.")
    if sizes.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(sizes) | (sizes != np.round(sizes)))
        if bad.size:
            raise ValueError(
                f"group sizes must be integers; "
                f"group[{bad[0]}] = {sizes[bad[0]].item()!r}."
            )
    elif sizes.dtype.kind not in "iub":
        raise TypeError(
            f"group must hold integer group sizes, got dtype {sizes.dtype}."
        )
    sizes = sizes.astype(np.int64)
    bad = np.flatnonzero(sizes <= 0)
    if bad.size:
        raise ValueError(
            f"group sizes must be positive; group[{bad[0]}] = {sizes[bad[0]]}. "
            "Drop empty queries before passing group sizes."
        )
    total = int(sizes.sum())
    if total != n_rows:
        raise ValueError(
            f"group sizes sum to {total} but there are {n_rows} rows; "
            "group[g] must be the number of rows of query g, in row order."
        )
    offsets = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return Groups(offsets)


def groups_from_qid(qid: ArrayLike, n_rows: int) -> Groups:
    """Validate per-row query ids and convert their contiguous runs to offsets.

    Parameters
    ----------
    qid : array-like, shape (n_rows,)
        Query id of every row. The rows of a query must be contiguous (as in the
        svmlight ``qid:`` format and XGBoost's ``qid=``); ids need not be sorted.

    n_rows : int
        Number of rows.

    Returns
    -------
    Groups
    """
    ids = np.asarray(qid)
    if ids.ndim != 1:
        raise ValueError(f"qid must be 1-D (one id per row), got shape {ids.shape}.")
    if ids.size != n_rows:
        raise ValueError(f"qid has {ids.size} entries but there are {n_rows} rows.")
    if n_rows == 0:
        raise ValueError("qid is empty: there are no rows.")
    if ids.dtype.kind == "O":
        raise TypeError("qid must be a numeric or string array, not dtype object.")
    if ids.dtype.kind == "f" and not np.all(np.isfinite(ids)):
        raise ValueError(f"qid contains NaN or inf at row {_first_nonfinite(ids)}.")
    starts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    run_ids = ids[np.concatenate(([0], starts))]
    unique, first = np.unique(run_ids, return_index=True)
    if unique.size != run_ids.size:
        seen = np.zeros(run_ids.size, dtype=bool)
        seen[first] = True
        run = int(np.flatnonzero(~seen)[0])
        row = int(starts[run - 1])
        raise ValueError(
            f"qid must be contiguous runs: query id {run_ids[run].item()!r} "
            f"appears again at "
            f"row {row} after other queries. Sort the rows by qid (stably) first."
        )
    offsets = np.concatenate(([0], starts, [n_rows])).astype(np.int64)
    return Groups(offsets)


def groups_from_offsets(ptr: ArrayLike, n_rows: int) -> Groups:
    """Validate group offsets (XGBoost ``group_ptr``) and wrap them.

    Parameters
    ----------
    ptr : array-like of int, shape (n_groups + 1,)
        ``ptr[0] == 0``, strictly increasing, ``ptr[-1] == n_rows``; rows
        ``ptr[g]:ptr[g + 1]`` form query ``g``.
    n_rows : int
        Number of rows.

    Returns
    -------
    Groups
    """
    offsets = np.asarray(ptr)
    if offsets.ndim != 1 or offsets.size < 2 or offsets.dtype.kind not in "iu":
        raise ValueError(
            "group offsets must be a 1-D integer array [0, ..., n_rows] with at "
            f"least 2 entries, got shape {offsets.shape} and dtype {offsets.dtype}."
        )
    offsets = offsets.astype(np.int64)
    if offsets[0] != 0 or offsets[-1] != n_rows or np.any(np.diff(offsets) <= 0):
        raise ValueError(
            f"group offsets must increase strictly from 0 to n_rows={n_rows}; got "
            f"{offsets[0]}..{offsets[-1]}"
            + (" with an empty group." if np.any(np.diff(offsets) <= 0) else ".")
        )
    return Groups(offsets)


def make_groups(
    n_rows: int, group: ArrayLike | None = None, qid: ArrayLike | None = None
) -> Groups:
    """Build :class:`Groups` from exactly one of ``group`` sizes or ``qid``.

    With neither, all rows form one group.
    """
    if group is not None and qid is not None:
        raise ValueError(
            "pass either group (group sizes) or qid (per-row query ids), not both."
        )
    if qid is not None:
        return groups_from_qid(qid, n_rows)
    if group is not None:
        return groups_from_sizes(group, n_rows)
    return Groups(np.array([0, n_rows], dtype=np.int64))


def _first_nonfinite(values: NDArray) -> int:
    return int(np.flatnonzero(~np.isfinite(values))[0])

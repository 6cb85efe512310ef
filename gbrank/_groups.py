"""Query structure: group sizes, per-row query ids or offsets -> int64 offsets.

Every public entry point that takes ``group=`` or ``qid=`` converts them here, once,
into a :class:`Groups` object holding ``offsets`` (``offsets[g]:offsets[g + 1]`` are
the rows of query ``g``).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._validation import check_int


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
    bad = np.flatnonzero(sizes <= 0)
    if bad.size:
        raise ValueError(
            f"group sizes must be positive; group[{bad[0]}] = {sizes[bad[0]].item()}. "
            "Drop empty queries before passing group sizes."
        )
    # a size above n_rows could wrap around int64 when converted or summed
    fits = not np.any(sizes > n_rows)
    offsets = np.zeros(sizes.size + 1, dtype=np.int64)
    if fits:
        np.cumsum(sizes.astype(np.int64), out=offsets[1:])
    # sizes in [1, n_rows]: a sum that wrapped around int64 shows as a decrease
    if not fits or offsets[-1] != n_rows or np.any(offsets[1:] <= offsets[:-1]):
        total = sum(int(size) for size in sizes)  # exact, only on this error path
        raise ValueError(
            f"group sizes sum to {total} but there are {n_rows} rows; "
            "group[g] must be the number of rows of query g, in row order."
        )
    return Groups(offsets)


def as_query_ids(qid: ArrayLike, n_rows: int, name: str = "qid") -> NDArray[Any]:
    """Validate per-row query ids; return them as a numeric or string array.

    Parameters
    ----------
    qid : array-like, shape (n_rows,)
        Query id of every row: numbers or strings (an object array, e.g. a
        pandas column, must hold one of the two throughout).
    n_rows : int
        Number of rows.
    name : str, default "qid"
        The argument's name, used in error messages.

    Returns
    -------
    ndarray
        The ids, of a numeric or string dtype (a new array only when ``qid``
        had dtype object).
    """
    ids = np.asarray(qid)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one id per row), got shape {ids.shape}.")
    if ids.size != n_rows:
        raise ValueError(f"{name} has {ids.size} entries but there are {n_rows} rows.")
    if n_rows == 0:
        raise ValueError(f"{name} is empty: there are no rows.")
    if ids.dtype.kind == "O":
        ids = _uniform_ids(ids, name)
    if ids.dtype.kind not in "biufUS":
        raise TypeError(
            f"{name} must hold numbers or strings, got dtype {ids.dtype}; convert "
            f"it with np.asarray({name}, dtype=str)."
        )
    if ids.dtype.kind == "f" and not np.all(np.isfinite(ids)):
        row = _first_nonfinite(ids)
        raise ValueError(
            f"{name} contains NaN or inf at row {row}; every row needs a query id "
            "(drop the row or give it an id)."
        )
    return ids


def _id_kind(value: object) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, numbers.Real):
        return "number"
    return type(value).__name__


def _uniform_ids(ids: NDArray[Any], name: str) -> NDArray[Any]:
    """Numbers or strings from an object array of ids, or a TypeError naming a row."""
    kinds = [_id_kind(value) for value in ids]
    odd = next((row for row, kind in enumerate(kinds) if kind != kinds[0]), None)
    if odd is not None or kinds[0] not in ("str", "number"):
        row = 0 if odd is None else odd
        raise TypeError(
            f"{name} must hold numbers or strings of one kind; {name}[0] is "
            f"{type(ids[0]).__name__} {ids[0]!r} but {name}[{row}] is "
            f"{type(ids[row]).__name__} {ids[row]!r}. Give every row an id of the "
            f"same kind, e.g. np.asarray({name}, dtype=str)."
        )
    if kinds[0] == "str":
        return ids.astype(str)
    numeric = np.asarray(ids.tolist())
    if numeric.dtype.kind == "O":
        raise ValueError(
            f"{name} holds integers beyond int64; renumber the queries (any ids "
            "that fit in int64, or strings, will do)."
        )
    return numeric


def groups_from_qid(qid: ArrayLike, n_rows: int) -> Groups:
    """Validate per-row query ids and convert their contiguous runs to offsets.

    Parameters
    ----------
    qid : array-like, shape (n_rows,)
        Query id of every row. The rows of a query must be contiguous (as in the
        svmlight ``qid:`` format and XGBoost's ``qid=``); ids need not be sorted.
        Numbers or strings (see :func:`as_query_ids`).
    n_rows : int
        Number of rows.

    Returns
    -------
    Groups
    """
    ids = as_query_ids(qid, n_rows)
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


def query_folds(
    group: ArrayLike,
    n_splits: int = 5,
    *,
    shuffle: bool = True,
    random_state: int | None = 0,
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Cross-validation folds that keep every query whole.

    Queries (in a random order with ``shuffle``) are cut into ``n_splits``
    consecutive runs of about the same number of rows; fold k validates on the
    rows of run k and trains on the others. Pass the result as ``folds=`` to
    ``lightgbm.cv`` (or use :func:`gbrank.lightgbm.cv`).

    Parameters
    ----------
    group : array-like of int, shape (n_groups,)
        Group sizes, in row order.
    n_splits : int, default 5
        Number of folds, at least 2 and at most the number of queries.
    shuffle : bool, default True
        Whether to assign queries to folds in a random order.
    random_state : int or None, default 0
        Seed of that order.

    Returns
    -------
    list of (train_rows, valid_rows)
        Sorted int64 row indices; every query's rows are all in one of them.
    """
    sizes = np.asarray(group)
    n_rows = int(sizes.sum()) if sizes.dtype.kind in "biuf" and sizes.size else 0
    groups = groups_from_sizes(sizes, n_rows)
    n_groups = groups.n_groups
    if n_groups < 2:
        raise ValueError(
            f"cross-validation needs at least 2 queries to keep them whole; group "
            f"has {n_groups}."
        )
    check_int(n_splits, "n_splits", minimum=2)
    if n_splits > n_groups:
        raise ValueError(
            f"n_splits={n_splits} folds of whole queries need at least {n_splits} "
            f"queries; group has {n_groups}. Use fewer folds."
        )
    order = (
        np.random.default_rng(random_state).permutation(n_groups)
        if shuffle
        else np.arange(n_groups)
    )
    ordered = groups.sizes[order]
    middle = np.cumsum(ordered) - ordered / 2.0  # each query's middle row, in order
    fold_of = np.empty(n_groups, dtype=np.int64)
    fold_of[order] = np.minimum(middle * n_splits // n_rows, n_splits - 1)
    counts = np.bincount(fold_of, minlength=n_splits)
    if not counts.all():
        raise ValueError(
            f"cannot cut {n_groups} queries into n_splits={n_splits} folds of "
            f"similar size: the largest query holds {groups.sizes.max()} of the "
            f"{n_rows} rows. Use fewer folds."
        )
    row_fold = np.repeat(fold_of, groups.sizes)
    rows = np.arange(n_rows, dtype=np.int64)
    return [
        (rows[row_fold != fold], rows[row_fold == fold]) for fold in range(n_splits)
    ]


def shared_query(parts: Iterable[Iterable[Any]]) -> tuple[Any, int, int] | None:
    """Find a query id that occurs in two parts of a data set.

    Parameters
    ----------
    parts : iterable of iterables of query ids
        The query ids of each part (a file, a partition), in order; read lazily,
        so a generator may check each part as it goes. An id repeated inside
        one part does not count.

    Returns
    -------
    tuple or None
        ``(query_id, first_part, other_part)`` for the first id met again in a
        later part (parts numbered from 0), or None if the parts share no id.
    """
    owner: dict[Any, int] = {}
    for index, ids in enumerate(parts):
        for value in ids:
            first = owner.setdefault(value, index)
            if first != index:
                return value, first, index
    return None


class MissingQueryError(ValueError):
    """Rows that a ranking loss or metric needs grouped into queries came without.

    A ``ValueError``: gbrank never guesses a query structure (treating every row
    as one query gives results that look plausible and are wrong).
    """


def missing_queries(subject: str, how: str, one_query: str) -> MissingQueryError:
    """Return the error for ranking input without its query structure.

    Parameters
    ----------
    subject : str
        What came without it, e.g. ``"the training lightgbm.Dataset"``.
    how : str
        How to give it, in the caller's words (a sentence without final stop).
    one_query : str
        How to rank all rows as one query on purpose, e.g. ``"pass group=[100]"``.

    Returns
    -------
    MissingQueryError
    """
    return MissingQueryError(
        f"the query structure of {subject} is missing (which rows form each "
        f"query; a ranking loss or metric needs it): {how}. To rank all rows as "
        f"one query on purpose, {one_query}."
    )


def one_group(n_rows: int) -> Groups:
    """All ``n_rows`` rows as one query (for callers that mean exactly that)."""
    return Groups(np.array([0, n_rows], dtype=np.int64))


def make_groups(
    n_rows: int,
    group: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    *,
    subject: str = "y_true",
) -> Groups:
    """Build :class:`Groups` from exactly one of ``group`` sizes or ``qid``.

    With neither, raise :class:`MissingQueryError` (``subject`` names the data
    in the message); :func:`one_group` is one query on purpose.
    """
    if group is not None and qid is not None:
        raise ValueError(
            "pass either group (group sizes) or qid (per-row query ids), not both."
        )
    if qid is not None:
        return groups_from_qid(qid, n_rows)
    if group is not None:
        return groups_from_sizes(group, n_rows)
    raise missing_queries(
        subject,
        "pass group= (the number of rows of each query, in row order) or qid= (a "
        "query id per row)",
        f"pass group=[{n_rows}]",
    )


def _first_nonfinite(values: NDArray) -> int:
    return int(np.flatnonzero(~np.isfinite(values))[0])

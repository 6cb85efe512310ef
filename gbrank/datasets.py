r"""Ranking data sets: svmlight/LETOR files, the bundled sample and synthetic data.

Every loader returns a :class:`RankingData` whose query structure is given twice,
consistently: as group sizes (LightGBM's ``group=``) and as per-row query ids
(XGBoost's and scikit-learn's ``qid=``).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import DTypeLike, NDArray
from scipy import sparse

from gbrank._groups import (
    MissingQueryError,
    groups_from_qid,
    groups_from_sizes,
    shared_query,
)
from gbrank._validation import check_choice, check_int, check_real

__all__ = [
    "DEFAULT_MAX_FEATURES",
    "TABLE_SUFFIXES",
    "Fold",
    "RankingData",
    "letor_folds",
    "load_sample",
    "load_svmlight",
    "load_table",
    "make_ranking",
    "split_by_query",
]

# A feature value spelled NULL (LETOR 4.0 rank-aggregation sets): missing.
_NULL = re.compile(rb":NULL(?=\s)")

# Lines parsed at once when looking for the line that sklearn could not parse.
_CHUNK_LINES = 10_000

DEFAULT_MAX_FEATURES = 1_000_000
"""Most feature columns :func:`load_svmlight` accepts unless told otherwise.

The engines allocate memory for every column, used or not (LightGBM and XGBoost
take about 0.5-1 KB each, measured), so one stray index such as ``2000000000:1``
would otherwise cost tens of gigabytes.
"""
# Feature indices of the bundled sample run from 1 to 300 (1-based) in both splits.
_SAMPLE_N_FEATURES = 300


@dataclass(frozen=True, eq=False)
class RankingData:
    """Features, relevance labels and query structure of a ranking data set.

    Rows of a query are contiguous. The object unpacks as
    ``X, y, group, qid = data``.

    Attributes
    ----------
    X : scipy.sparse.csr_matrix or ndarray, shape (n_rows, n_features)
        Features: CSR from svmlight files (LETOR files are sparse, and LightGBM,
        XGBoost and scikit-learn accept CSR as is), a dense ndarray from
        :func:`make_ranking`.
    y : ndarray of float64, shape (n_rows,)
        Graded relevance labels.
    group : ndarray of int64, shape (n_queries,)
        Number of rows of each query, in row order; sums to ``n_rows``.
    qid : ndarray of int64, shape (n_rows,)
        Query id of every row, constant over each query's run of rows.
    feature_names : tuple of str or None
        Names of the columns of ``X`` (tables: :func:`load_table`), else None.
    """

    X: sparse.csr_matrix | NDArray[np.floating]
    y: NDArray[np.float64]
    group: NDArray[np.int64]
    qid: NDArray[np.int64]
    feature_names: tuple[str, ...] | None = None

    def __iter__(self) -> Iterator[sparse.csr_matrix | NDArray]:
        """Iterate over ``X, y, group, qid``."""
        return iter((self.X, self.y, self.group, self.qid))


def load_svmlight(
    path: str | os.PathLike[str],
    *,
    query_file: str | os.PathLike[str] | None = None,
    n_features: int | None = None,
    dtype: DTypeLike = np.float64,
    zero_based: bool | Literal["auto"] = "auto",
    max_features: int | None = DEFAULT_MAX_FEATURES,
) -> RankingData:
    r"""Load a ranking data set in svmlight / LETOR format.

    Query boundaries come from ``qid:<id>`` tokens on the lines (MSLR-WEB, Yahoo!
    LTR, XGBoost) or from a query file of group sizes, one per line
    (LightGBM's ``<path>.query``). If both are present they must agree. Feature
    values spelled ``NULL`` (LETOR 4.0's rank-aggregation sets MQ2007-agg and
    MQ2008-agg: the base ranker did not rank the document) are read as NaN,
    which both engines treat as missing; so is ``nan``.

    Parameters
    ----------
    path : str or path-like
        The svmlight file: ``<label> [qid:<id>] <index>:<value> ... [# comment]``.
    query_file : str or path-like, optional
        File of group sizes, one per line, in row order. If None, ``path`` with
        ``.query`` appended is used when that file exists.
    n_features : int, optional
        Number of columns of ``X``. Pass the training file's ``X.shape[1]`` when
        loading its validation or test file, so that the shapes agree.
    dtype : dtype, default=np.float64
        Data type of ``X``; ``y`` is always float64.
    zero_based : bool or "auto", default="auto"
        Whether feature indices start at 0, as in
        :func:`sklearn.datasets.load_svmlight_file`. ``"auto"`` assumes 1-based
        indices unless index 0 occurs; pass a bool when loading files in pairs.
    max_features : int or None, default 1_000_000
        Refuse a file with more feature columns (the largest feature index sets
        the count; the engines spend memory on every column). None: no limit.

    Returns
    -------
    RankingData
        ``X`` is a ``scipy.sparse.csr_matrix``.

    Raises
    ------
    FileNotFoundError
        If ``path`` or an explicit ``query_file`` does not exist.
    ValueError
        If a line cannot be parsed (the message names the line; a ``qid:`` or
        feature index beyond 64-bit integers included), only some lines carry
        ``qid:``, the rows of a query are not contiguous, the query file does
        not match the rows, the file has no query information, or it has more
        than ``max_features`` columns.
    OSError
        If a file cannot be read (the message names it).

    See Also
    --------
    sklearn.datasets.load_svmlight_file : The parser used here.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from gbrank.datasets import load_svmlight
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "tiny.txt"
    ...     _ = path.write_text("2 qid:7 1:0.5\n0 qid:7 2:1.0\n1 qid:3 1:0.2\n")
    ...     X, y, group, qid = load_svmlight(path)
    >>> X.shape, group.tolist(), qid.tolist()
    ((3, 2), [2, 1], [7, 7, 3])
    """
    check_int(max_features, "max_features", allow_none=True)
    path = Path(path)
    if not _is_file(path, "svmlight file"):
        raise FileNotFoundError(f"svmlight file not found: '{path}'.")
    query_path: Path | None
    if query_file is None:
        sibling = path.with_name(path.name + ".query")
        query_path = sibling if _is_file(sibling, "query file") else None
    else:
        query_path = Path(query_file)
        if not _is_file(query_path, "query file"):
            raise FileNotFoundError(f"query file not found: '{query_path}'.")

    from sklearn.datasets import load_svmlight_file  # a slow import: only when used

    def parse(source: str | io.BytesIO) -> tuple[sparse.csr_matrix, NDArray, NDArray]:
        return load_svmlight_file(
            source,
            n_features=n_features,
            dtype=dtype,
            zero_based=zero_based,
            query_id=True,
        )

    try:
        try:
            X, y, file_qid = parse(os.fspath(path))
        except ValueError:
            text = _with_missing_values(path)
            if text is None:
                raise
            X, y, file_qid = parse(io.BytesIO(text))
    except (ValueError, OverflowError) as error:
        line = _first_bad_line(path, n_features=n_features, zero_based=zero_based)
        where = "" if line is None else f" at line {line}"
        hint = (
            " (a qid: or feature index beyond 64-bit integers)"
            if isinstance(error, OverflowError)
            else ""
        )
        raise ValueError(
            f"cannot parse svmlight file '{path}'{where}: {error}{hint}"
        ) from error
    n_rows = X.shape[0]
    if n_rows == 0:
        raise ValueError(f"svmlight file '{path}' holds no rows.")
    if max_features is not None and X.shape[1] > max_features:
        raise ValueError(
            f"svmlight file '{path}' has {X.shape[1]:,} feature columns (its "
            f"largest feature index sets the count), more than max_features="
            f"{max_features:,}: the engines allocate memory for every column "
            "(about 1 GB per million). Renumber the features, or raise the limit "
            "(max_features=; command line: --max-features)."
        )

    if file_qid.size == n_rows:
        try:
            group = groups_from_qid(file_qid, n_rows).sizes
        except ValueError as error:
            raise ValueError(f"svmlight file '{path}': {error}") from error
        qid = file_qid.astype(np.int64, copy=False)
        if query_path is not None:
            from_file = _read_query_file(query_path, n_rows, path)
            _check_same_groups(group, from_file, path, query_path)
    elif file_qid.size:
        raise ValueError(
            f"svmlight file '{path}': only {file_qid.size} of its {n_rows} rows have "
            "a qid: token; give every line a qid:<id> or none."
        )
    elif query_path is not None:
        group = _read_query_file(query_path, n_rows, path)
        qid = np.repeat(np.arange(group.size, dtype=np.int64), group)
    else:
        raise MissingQueryError(
            f"svmlight file '{path}' has no qid: tokens and there is no query file "
            f"'{path.name}.query'; pass query_file= (one group size per line) or "
            "write qid:<id> after each label."
        )
    return RankingData(X=X, y=y.astype(np.float64, copy=False), group=group, qid=qid)


TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".parquet": "", ".pq": ""}
"""File suffixes :func:`load_table` knows, with their delimiter ("": Parquet)."""


def load_table(
    path: str | os.PathLike[str],
    *,
    label_column: str,
    query_column: str,
    feature_columns: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> RankingData:
    r"""Load a ranking data set from a CSV/TSV or Parquet table with a header.

    One row per document: a label column, a query column (ids of any kind:
    numbers or text) and feature columns. Rows of a query need not be
    adjacent: they are gathered (stably) in the order in which the queries
    first appear. CSV and TSV are read with NumPy alone; Parquet needs pandas
    and pyarrow (``pip install pandas pyarrow``).

    Parameters
    ----------
    path : str or path-like
        ``.csv`` (comma), ``.tsv`` / ``.tab`` (tab), ``.parquet`` / ``.pq``; any
        other name is read as CSV, or with ``delimiter``.
    label_column, query_column : str
        Names of the relevance label and query id columns.
    feature_columns : sequence of str, optional
        The feature columns, in this order; default: every other column, in
        file order.
    delimiter : str, optional
        Field separator of a text table (default: by suffix, else a comma).

    Returns
    -------
    RankingData
        ``X`` a dense float64 array, ``qid`` query numbers 0, 1, ... in order of
        first appearance, ``feature_names`` the feature columns.

    Raises
    ------
    ValueError
        If a named column is missing (the message lists the columns), a label
        or feature is not a number (line and column named; write ``nan`` for a
        missing feature value), a label is NaN, or a query id is empty.
    ImportError
        If a Parquet file is read without pandas and pyarrow.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from gbrank.datasets import load_table
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "tiny.csv"
    ...     _ = path.write_text("query,grade,f1,f2\nq7,2,0.5,1\nq3,1,0.2,0\nq7,0,0,1\n")
    ...     data = load_table(path, label_column="grade", query_column="query")
    >>> data.X.tolist(), data.group.tolist(), data.feature_names
    ([[0.5, 1.0], [0.0, 1.0], [0.2, 0.0]], [2, 1], ('f1', 'f2'))
    """
    path = Path(path)
    if not _is_file(path, "table"):
        raise FileNotFoundError(f"table not found: '{path}'.")
    sep = (
        TABLE_SUFFIXES.get(path.suffix.lower(), ",") if delimiter is None else delimiter
    )
    if sep:
        header = _csv_header(path, sep)
        names = _table_columns(
            header, label_column, query_column, feature_columns, path
        )
        labels, queries, X = _read_csv(path, sep, header, names)
    else:
        labels, queries, X, names = _read_parquet(
            path, label_column, query_column, feature_columns
        )
    return _table_data(path, labels, queries, X, tuple(names[2:]))


def _csv_header(path: Path, delimiter: str) -> list[str]:
    with path.open(newline="", encoding="utf-8") as stream:
        header = next(csv.reader(stream, delimiter=delimiter), None)
    if not header:
        raise ValueError(f"table '{path}' is empty: it needs a header line.")
    return [name.strip() for name in header]


def _table_columns(
    header: Sequence[str],
    label: str,
    query: str,
    features: Sequence[str] | None,
    path: Path,
) -> list[str]:
    """``[label, query, *features]``, each a column of ``header``."""
    if features is None:
        features = [name for name in header if name not in (label, query)]
    names = [label, query, *features]
    missing = [name for name in names if name not in header]
    if missing:
        raise ValueError(
            f"table '{path}' has no column {missing[0]!r}; its columns: "
            f"{', '.join(header)}."
        )
    if not features:
        raise ValueError(f"table '{path}' has no feature columns.")
    return names


def _read_csv(
    path: Path, delimiter: str, header: Sequence[str], names: Sequence[str]
) -> tuple[NDArray[np.float64], NDArray[np.str_], NDArray[np.float64]]:
    """Labels, query ids and features of a text table (NumPy's parser)."""
    where = {name: header.index(name) for name in names}
    numeric = [where[names[0]], *(where[name] for name in names[2:])]
    read: Callable[..., Any] = functools.partial(
        np.loadtxt, path, delimiter=delimiter, skiprows=1, comments=None, quotechar='"'
    )
    with warnings.catch_warnings():
        # an empty table: the caller says so
        warnings.filterwarnings("ignore", "loadtxt: input contained no data")
        try:
            values = read(dtype=np.float64, usecols=numeric, ndmin=2)
        except ValueError as error:
            raise ValueError(
                f"cannot read table '{path}': {_column_named(str(error), header)} "
                "(labels and features must be numbers; write nan for a missing "
                "feature value)"
            ) from error
        queries = read(dtype=str, usecols=[where[names[1]]], ndmin=1)
    return values[:, 0], np.char.strip(queries), values[:, 1:]


def _column_named(message: str, header: Sequence[str]) -> str:
    """NumPy's parse error, its 0-based row and 1-based column as the user sees them."""

    def where(match: re.Match[str]) -> str:
        row, column = int(match.group(1)), int(match.group(2))
        name = header[column - 1] if 0 < column <= len(header) else str(column)
        return f"in data row {row + 1} (after the header), column {name!r}"

    return _NUMPY_PLACE.sub(where, message)


_NUMPY_PLACE = re.compile(r"at row (\d+), column (\d+)")


def _read_parquet(
    path: Path, label: str, query: str, features: Sequence[str] | None
) -> tuple[NDArray[np.float64], NDArray[np.str_], NDArray[np.float64], list[str]]:
    """Labels, query ids, features and column names of a Parquet table."""
    hint = f"reading Parquet ('{path}') needs pandas and pyarrow: pip install "
    hint += "pandas pyarrow"
    try:
        import pandas as pd

        frame = pd.read_parquet(path)
    except ImportError as error:
        raise ImportError(f"{hint} ({error})") from error
    header = [str(name) for name in frame.columns]
    frame.columns = header
    names = _table_columns(header, label, query, features, path)
    for name in [names[0], *names[2:]]:
        if frame[name].dtype.kind not in "biuf":
            raise ValueError(
                f"table '{path}' column {name!r} has dtype {frame[name].dtype}; "
                "labels and features must be numbers."
            )
    X = frame[names[2:]].to_numpy(dtype=np.float64)
    labels = frame[names[0]].to_numpy(dtype=np.float64)
    queries = frame[names[1]].astype(str).to_numpy(dtype=str)
    return labels, queries, X, names


def _table_data(
    path: Path,
    labels: NDArray[np.float64],
    queries: NDArray[np.str_],
    X: NDArray[np.float64],
    feature_names: tuple[str, ...],
) -> RankingData:
    """Gather each query's rows (order of first appearance) into RankingData."""
    if labels.size == 0:
        raise ValueError(f"table '{path}' holds no rows.")
    bad = np.flatnonzero(np.isnan(labels))
    if bad.size:
        raise ValueError(
            f"table '{path}': the label of data row {bad[0] + 1} is missing (NaN)."
        )
    empty = np.flatnonzero(queries == "")
    if empty.size:
        raise MissingQueryError(
            f"table '{path}': data row {empty[0] + 1} has an empty query id; "
            "every row needs one."
        )
    _, first, inverse = np.unique(queries, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    codes = rank[inverse.ravel()]
    rows = np.argsort(codes, kind="stable")
    return RankingData(
        X=X[rows],
        y=labels[rows],
        group=np.bincount(codes).astype(np.int64),
        qid=codes[rows],
        feature_names=feature_names,
    )


@dataclass(frozen=True, eq=False)
class Fold:
    """One fold of a LETOR-style cross-validation: train, validation and test data.

    Attributes
    ----------
    name : str
        ``"Fold1"``, ``"Fold2"``, ...
    train, vali, test : RankingData
        With the same number of feature columns.
    """

    name: str
    train: RankingData
    vali: RankingData
    test: RankingData


_SPLITS = ("train", "vali", "test")
_SUBSETS = 5


def letor_folds(
    path: str | os.PathLike[str],
    *,
    n_features: int | None = None,
    max_features: int | None = DEFAULT_MAX_FEATURES,
) -> Iterator[Fold]:
    r"""Read the folds of a LETOR / MSLR data set directory, one fold at a time.

    Two layouts are read:

    - ``Fold1 .. FoldK/{train,vali,test}.txt`` (MSLR-WEB10K/30K, LETOR 3.0 and
      4.0, Istella): the folds as they are;
    - ``S1.txt .. S5.txt`` (LETOR 4.0's five subsets): the LETOR rotation,
      fold k training on subsets k, k+1, k+2, validating on k+3 and testing on
      k+4 (modulo 5), so that every subset is tested once.

    Parameters
    ----------
    path : str or path-like
        The data set directory.
    n_features : int, optional
        Read every file with this many feature columns. Without it, all files
        must have the same number (the largest feature index of each file):
        files of different data sets are refused.
    max_features : int or None, default 1_000_000
        See :func:`load_svmlight`.

    Yields
    ------
    Fold
        Folds in order; a fold's data is read when it is reached, so that a
        large data set (MSLR-WEB30K) holds one fold in memory at a time.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a directory, holds neither layout, or a fold lacks
        one of its three files.
    ValueError
        If files have different numbers of feature columns (without
        ``n_features``), a query's rows are in two files of a fold, or a file
        cannot be parsed (see :func:`load_svmlight`; NULL values are missing).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from gbrank.datasets import letor_folds
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for k in range(1, 6):
    ...         lines = f"1 qid:{k}0 1:0.5 2:1\n0 qid:{k}0 1:0.1 2:0\n"
    ...         _ = (Path(folder) / f"S{k}.txt").write_text(lines)
    ...     folds = list(letor_folds(folder))
    >>> [(f.name, f.train.group.size, int(f.test.qid[0])) for f in folds[:2]]
    [('Fold1', 3, 50), ('Fold2', 3, 10)]
    """
    check_int(n_features, "n_features", allow_none=True)
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"data directory not found: '{root}'.")
    fold_dirs = sorted(
        (d for d in root.glob("Fold*") if d.is_dir() and d.name[4:].isdigit()),
        key=lambda d: int(d.name[4:]),
    )
    subsets = [root / f"S{k}.txt" for k in range(1, _SUBSETS + 1)]
    if fold_dirs:
        expected = [d / f"{split}.txt" for d in fold_dirs for split in _SPLITS]
    elif any(subset.is_file() for subset in subsets):
        expected = subsets
    else:
        raise FileNotFoundError(
            f"'{root}' holds no LETOR folds: expected Fold1..Fold5/"
            "{train,vali,test}.txt (MSLR, LETOR) or S1.txt..S5.txt (LETOR 4.0 "
            "subsets); point at the directory that holds them."
        )
    missing = [str(file) for file in expected if not file.is_file()]
    if missing:
        raise FileNotFoundError(
            f"'{root}' lacks {', '.join(missing)}: every fold needs train.txt, "
            "vali.txt and test.txt (or all five subsets S1..S5.txt)."
        )
    if fold_dirs:
        for folder in fold_dirs:
            files = [folder / f"{split}.txt" for split in _SPLITS]
            parts = _read_same_width(files, n_features, max_features)
            _check_disjoint_queries(parts, files)
            yield Fold(folder.name, *parts)
        return
    parts = _read_same_width(subsets, n_features, max_features)
    _check_disjoint_queries(parts, subsets)
    for k in range(_SUBSETS):
        train = _concatenate([parts[(k + i) % _SUBSETS] for i in range(3)])
        vali, test = parts[(k + 3) % _SUBSETS], parts[(k + 4) % _SUBSETS]
        yield Fold(f"Fold{k + 1}", train, vali, test)


def _read_same_width(
    files: list[Path], n_features: int | None, max_features: int | None
) -> list[RankingData]:
    """Load ``files`` (1-based indices, as LETOR's) with one column count."""
    parts = [
        load_svmlight(
            file, n_features=n_features, zero_based=False, max_features=max_features
        )
        for file in files
    ]
    widths = [part.X.shape[1] for part in parts]
    if len(set(widths)) > 1:
        wide, narrow = int(np.argmax(widths)), int(np.argmin(widths))
        raise ValueError(
            f"'{files[wide]}' has {widths[wide]} feature columns but "
            f"'{files[narrow]}' has {widths[narrow]}: are they from the same data "
            "set? If the data is sparse (svmlight files leave zero features out), "
            "pass n_features= with the data set's number of features."
        )
    return parts


def _check_disjoint_queries(parts: list[RankingData], files: list[Path]) -> None:
    """Raise if a query id occurs in two of ``files``."""
    shared = shared_query(np.unique(part.qid).tolist() for part in parts)
    if shared is not None:
        query, first, index = shared
        raise ValueError(
            f"query qid:{query} has rows in both '{files[first]}' and "
            f"'{files[index]}': a query must lie in one file, or the model "
            "is evaluated on queries it was trained on; re-split the data "
            "by query."
        )


def _concatenate(parts: list[RankingData]) -> RankingData:
    """Rows of ``parts`` one after another (queries stay whole)."""
    return RankingData(
        X=sparse.vstack([part.X for part in parts], format="csr"),
        y=np.concatenate([part.y for part in parts]),
        group=np.concatenate([part.group for part in parts]),
        qid=np.concatenate([part.qid for part in parts]),
    )


def load_sample(split: Literal["train", "test"] = "train") -> RankingData:
    """Load the LightGBM lambdarank example data shipped with gbrank.

    The ``rank.train`` / ``rank.test`` files of LightGBM's ``examples/lambdarank``
    (MIT License, Microsoft): an anonymised LETOR-style sample with 300 features
    (values 0.01 to 1.00) and labels 0 to 4.

    ============  ======  =======  ===================
    split         rows    queries  rows per query
    ============  ======  =======  ===================
    ``"train"``   3,005   201      1 to 27, median 15
    ``"test"``    768     50       6 to 24, median 16
    ============  ======  =======  ===================

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        Which file to load. Both have 300 columns.

    Returns
    -------
    RankingData
        ``X`` is a ``scipy.sparse.csr_matrix`` of shape (n_rows, 300).

    Examples
    --------
    >>> from gbrank.datasets import load_sample
    >>> data = load_sample("test")
    >>> data.X.shape, data.group.size
    ((768, 300), 50)
    """
    check_choice(split, "split", ("train", "test"))
    folder = files("gbrank._data") / "lightgbm_lambdarank"
    with (
        as_file(folder / f"rank.{split}") as data_path,
        as_file(folder / f"rank.{split}.query") as query_path,
    ):
        return load_svmlight(
            data_path,
            query_file=query_path,
            n_features=_SAMPLE_N_FEATURES,
            zero_based=False,
        )


def make_ranking(
    n_queries: int = 100,
    docs_per_query: int = 20,
    n_features: int = 20,
    *,
    n_relevance_levels: int = 5,
    vary_group_size: bool = True,
    noise: float = 0.5,
    dtype: DTypeLike = np.float64,
    random_state: int | np.random.Generator | None = None,
) -> RankingData:
    r"""Generate a synthetic ranking data set with graded labels.

    Features are standard normal. A hidden score mixes a linear and an
    interaction term (each of unit variance), a per-query offset and noise:

    .. math::

        s_i = 0.8\, x_i^\top w + 0.6\, x_{ia} x_{ib} + 0.5\, u_{q(i)}
              + \sigma \varepsilon_i,
        \qquad \|w\| = 1,\ u_q, \varepsilon_i \sim \mathcal{N}(0, 1),

    with random ``w`` and feature pair ``(a, b)``. Labels cut the scores at
    global quantiles :math:`1 - 2^{-k}`, :math:`k = 1, \dots, L - 1`, so level
    :math:`k < L - 1` holds a fraction :math:`2^{-(k + 1)}` of the rows and the
    top level :math:`2^{-(L - 1)}`: as in LETOR data, most documents are
    irrelevant, and the per-query offset makes the number of relevant documents
    vary between queries.

    Parameters
    ----------
    n_queries : int, default=100
        Number of queries.
    docs_per_query : int, default=20
        Rows per query (the mean when ``vary_group_size``).
    n_features : int, default=20
        Number of features.
    n_relevance_levels : int, default=5
        Number of label grades :math:`L \ge 2`; labels are ``0 .. L - 1``.
    vary_group_size : bool, default=True
        Draw each query's size uniformly from
        ``ceil(docs_per_query / 2) .. docs_per_query + docs_per_query // 2``
        (always at least 1) instead of using ``docs_per_query`` for all.
    noise : float, default=0.5
        Standard deviation :math:`\sigma \ge 0` of the score noise.
    dtype : {np.float64, np.float32}, default=np.float64
        Data type of ``X`` (float32 halves the memory: 3M rows x 136 features
        take 1.6 GB instead of 3.3 GB). ``y`` is always float64.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator; an int gives the same data on every call.

    Returns
    -------
    RankingData
        ``X`` is a dense ndarray of shape (n_rows, n_features), ``qid`` runs
        ``0 .. n_queries - 1``.

    Examples
    --------
    >>> from gbrank.datasets import make_ranking
    >>> data = make_ranking(n_queries=3, docs_per_query=4, random_state=0)
    >>> data.X.shape == (data.group.sum(), 20)
    True
    >>> sorted(set(data.y.tolist())) <= [0.0, 1.0, 2.0, 3.0, 4.0]
    True
    """
    check_int(n_queries, "n_queries")
    check_int(docs_per_query, "docs_per_query")
    check_int(n_features, "n_features")
    check_int(n_relevance_levels, "n_relevance_levels", minimum=2)
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float, np.number))
        or not np.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}.")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype}.")
    rng = np.random.default_rng(random_state)

    if vary_group_size:
        half = docs_per_query // 2
        group = rng.integers(
            docs_per_query - half,
            docs_per_query + half,
            size=n_queries,
            endpoint=True,
            dtype=np.int64,
        )
    else:
        group = np.full(n_queries, docs_per_query, dtype=np.int64)
    qid = np.repeat(np.arange(n_queries, dtype=np.int64), group)
    n_rows = qid.size

    shape = (n_rows, n_features)
    X = (
        rng.standard_normal(shape, dtype=np.float32)
        if dtype == np.float32
        else rng.standard_normal(shape)
    )
    weights = rng.standard_normal(n_features)
    weights /= np.linalg.norm(weights)
    a, b = rng.choice(n_features, size=2, replace=n_features == 1)
    score = 0.8 * (X @ weights.astype(dtype)).astype(np.float64)
    score += 0.6 * (X[:, a] * X[:, b])
    score += 0.5 * rng.standard_normal(n_queries)[qid]
    score += noise * rng.standard_normal(n_rows)

    cuts = np.quantile(score, 1 - 0.5 ** np.arange(1, n_relevance_levels))
    y = np.searchsorted(cuts, score, side="right").astype(np.float64)
    return RankingData(X=X, y=y, group=group, qid=qid)


def split_by_query(
    data: RankingData, test_size: float | int = 0.2, *, random_state: int = 0
) -> tuple[RankingData, RankingData]:
    """Split a ranking data set into train and test parts, whole queries each.

    The ranking counterpart of :func:`sklearn.model_selection.train_test_split`:
    a query's rows all go to the same side, so that no query is both learned
    and evaluated. Queries keep their order and their rows within each part.

    Parameters
    ----------
    data : RankingData
        The data to split (see :func:`load_svmlight`, :func:`make_ranking`).
    test_size : float in (0, 1) or int >= 1, default=0.2
        Fraction of the queries (rounded up), or number of queries, in the test
        part. At least one query stays in each part.
    random_state : int, default=0
        Seed of the random choice of test queries.

    Returns
    -------
    train, test : RankingData

    See Also
    --------
    sklearn.model_selection.GroupShuffleSplit : The same for arrays and
        cross-validation (``groups=qid``).

    Examples
    --------
    >>> from gbrank.datasets import make_ranking, split_by_query
    >>> train, test = split_by_query(make_ranking(n_queries=10), test_size=0.3)
    >>> train.group.size, test.group.size
    (7, 3)
    """
    n_queries = data.group.size
    if isinstance(test_size, (float, np.floating)):
        fraction = check_real(
            test_size, "test_size", low=0.0, high=1.0, low_open=True, high_open=True
        )
        n_test = math.ceil(fraction * n_queries)
    else:
        n_test = check_int(test_size, "test_size")
    if not 1 <= n_test < n_queries:
        raise ValueError(
            f"test_size={test_size!r} puts {n_test} of the {n_queries} queries in "
            "the test part; each part needs at least one query."
        )
    check_int(random_state, "random_state", minimum=0)
    is_test = np.zeros(n_queries, dtype=bool)
    is_test[np.random.default_rng(random_state).permutation(n_queries)[:n_test]] = True
    rows_in_test = np.repeat(is_test, data.group)
    return _rows(data, ~rows_in_test, ~is_test), _rows(data, rows_in_test, is_test)


def _rows(
    data: RankingData, rows: NDArray[np.bool_], queries: NDArray[np.bool_]
) -> RankingData:
    """Select rows of ``data`` that hold whole queries (``queries``)."""
    return RankingData(
        X=data.X[rows], y=data.y[rows], group=data.group[queries], qid=data.qid[rows]
    )


def _read_query_file(
    query_path: Path, n_rows: int, data_path: Path
) -> NDArray[np.int64]:
    """Read and validate a file of group sizes, one per line."""
    try:
        sizes = np.array(query_path.read_text().split(), dtype=np.int64)
        return groups_from_sizes(sizes, n_rows).sizes
    except ValueError as error:
        raise ValueError(
            f"query file '{query_path}' does not fit svmlight file '{data_path}' "
            f"({n_rows} rows); it must hold one positive integer group size per "
            f"line: {error}"
        ) from error


def _check_same_groups(
    from_qid: NDArray[np.int64],
    from_file: NDArray[np.int64],
    path: Path,
    query_path: Path,
) -> None:
    """Raise unless the qid runs and the query file give the same group sizes."""
    if np.array_equal(from_qid, from_file):
        return
    common = min(from_qid.size, from_file.size)
    differ = np.flatnonzero(from_qid[:common] != from_file[:common])
    first = int(differ[0]) if differ.size else common
    raise ValueError(
        f"the qid: tokens of svmlight file '{path}' give {from_qid.size} queries, "
        f"query file '{query_path}' gives {from_file.size}, first differing at "
        f"query {first}; remove the query file or make it match the qid tokens."
    )


def _with_missing_values(path: Path) -> bytes | None:
    """Return the file with its ``NULL`` values spelled ``nan`` (None: no NULL).

    LETOR 4.0's rank-aggregation sets (MQ2007-agg, MQ2008-agg) write ``NULL``
    where a base ranker did not rank a document.
    """
    text = path.read_bytes()
    if _NULL.search(text) is None:
        return None
    return _NULL.sub(b":nan", text)


def _first_bad_line(
    path: Path, *, n_features: int | None, zero_based: bool | Literal["auto"]
) -> int | None:
    """Return the 1-based number of the first line sklearn fails to parse."""
    with path.open("rb") as stream:
        lines = [_NULL.sub(b":nan", line) for line in stream]
    for start in range(0, len(lines), _CHUNK_LINES):
        chunk = lines[start : start + _CHUNK_LINES]
        if _parses(b"".join(chunk), n_features, zero_based):
            continue
        for offset, line in enumerate(chunk):
            if not _parses(line, n_features, zero_based):
                return start + offset + 1
    return None


def _parses(
    data: bytes, n_features: int | None, zero_based: bool | Literal["auto"]
) -> bool:
    from sklearn.datasets import load_svmlight_file

    try:
        load_svmlight_file(
            io.BytesIO(data),
            n_features=n_features,
            zero_based=zero_based,
            query_id=True,
        )
    except (ValueError, OverflowError):
        return False
    return True


def _is_file(path: Path, what: str) -> bool:
    """``path.is_file()``, or an ``OSError`` naming the file (e.g. name too long)."""
    try:
        return path.is_file()
    except OSError as error:
        raise OSError(
            error.errno, f"cannot open {what} '{path}': {error.strerror}"
        ) from error

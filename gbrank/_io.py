"""Files of the command line: a training/validation pair in, a booster out."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from scipy import sparse

from gbrank._files import write_file
from gbrank._groups import MissingQueryError
from gbrank.datasets import (
    DEFAULT_MAX_FEATURES,
    TABLE_SUFFIXES,
    RankingData,
    _csv_header,
    load_sample,
    load_svmlight,
    load_table,
)
from gbrank.engines import get_engine


@dataclass(frozen=True)
class Columns:
    """The columns of a table file named on the command line (None: not given)."""

    label: str | None = None
    query: str | None = None
    features: tuple[str, ...] | None = None

    def given(self) -> bool:
        """Whether any column was named (then the files are tables)."""
        return self.label is not None or self.query is not None


def load_pair(
    train_path: Path | None,
    valid_path: Path | None,
    *,
    index_base: Literal["auto", "0", "1"] = "auto",
    max_features: int | None = DEFAULT_MAX_FEATURES,
    columns: Columns | None = None,
) -> tuple[RankingData, RankingData, str, str]:
    """Load training and validation data with the same columns.

    No paths means the bundled sample (``rank.train`` / ``rank.test``); a
    training file without a validation file is validated on itself. A
    validation file without a training file, or one that uses features beyond
    the training file's highest, is refused: it is another data set. (Fewer is
    fine: svmlight files leave out zeros, so a feature may never show.)

    Parameters
    ----------
    train_path, valid_path : Path or None
        svmlight files (with ``qid:`` tokens or a ``.query`` side file), or
        tables (CSV, TSV, Parquet: :func:`~gbrank.datasets.load_table`) when
        their suffix says so or ``columns`` names columns. The validation
        table is read with the training table's feature columns.
    index_base : {"auto", "0", "1"}
        First feature index of svmlight files. ``"auto"``: 0 when feature 0
        occurs in either file, else 1, decided for both files together (as
        scikit-learn's ``load_svmlight_files``), so that their columns line up.
    max_features : int or None
        Most feature columns an svmlight file may have (see
        :func:`~gbrank.datasets.load_svmlight`).
    columns : Columns, optional
        Label, query and feature columns of tables (``--label-column``, ...).

    Returns
    -------
    train, valid : RankingData
    train_name, valid_name : str
        Where the data came from, for messages.
    """
    columns = columns or Columns()
    if train_path is None and valid_path is not None:
        raise ValueError(
            f"--valid {valid_path} needs --train: validating on it a model of the "
            "bundled sample would mix two data sets"
        )
    if train_path is None and columns.given():
        raise ValueError(
            "--label-column and --query-column name columns of a table given with "
            "--train"
        )
    files = [path for path in (train_path, valid_path) if path is not None]
    if len({_is_table(path, columns) for path in files}) > 1:
        raise ValueError(
            f"--train {train_path} and --valid {valid_path} are not the same kind "
            "of file: give two svmlight files or two tables"
        )
    if files and _is_table(files[0], columns):
        return _read_tables(train_path, valid_path, columns)
    if index_base == "auto":
        zero_based = any(_has_index_zero(path) for path in files)
    else:
        zero_based = index_base == "0"
    train, train_name = _read(train_path, "train", zero_based, max_features)
    if valid_path is None and train_path is not None:
        return train, train, train_name, f"{train_name} (training data: pass --valid)"
    valid, valid_name = _read(valid_path, "test", zero_based, max_features)
    n_columns = train.X.shape[1]
    if valid.X.shape[1] > n_columns:
        raise ValueError(
            f"{valid_name} has {valid.X.shape[1]} features, {train_name} only "
            f"{n_columns}: the model would never see features "
            f"{n_columns + 1 - zero_based}..{valid.X.shape[1] - zero_based}; "
            "are both files from the same data set?"
        )
    return train, _widen(valid, n_columns), train_name, valid_name


def _is_table(path: Path, columns: Columns) -> bool:
    return columns.given() or path.suffix.lower() in TABLE_SUFFIXES


def _read_tables(
    train_path: Path | None, valid_path: Path | None, columns: Columns
) -> tuple[RankingData, RankingData, str, str]:
    """Training and validation tables; the validation one with the same features."""
    assert train_path is not None  # checked by load_pair
    if columns.label is None or columns.query is None:
        raise ValueError(
            f"{train_path} is a table: name its label column with --label-column "
            f"and its query column with --query-column{_listed_columns(train_path)}"
        )
    named = {"label_column": columns.label, "query_column": columns.query}
    train = load_table(train_path, **named, feature_columns=columns.features)
    if valid_path is None:
        name = f"{train_path} (training data: pass --valid)"
        return train, train, str(train_path), name
    valid = load_table(valid_path, **named, feature_columns=train.feature_names)
    return train, valid, str(train_path), str(valid_path)


def _listed_columns(path: Path) -> str:
    """``"; its columns: a, b, c"`` for a text table, else ""."""
    delimiter = TABLE_SUFFIXES.get(path.suffix.lower(), ",")
    try:
        return f"; its columns: {', '.join(_csv_header(path, delimiter))}"
    except (OSError, UnicodeDecodeError, ValueError):
        return ""


# a "0:<value>" feature before any "#" comment on a line
_INDEX_ZERO = re.compile(rb"^[^#\n]*?[ \t]0:", re.MULTILINE)


def _has_index_zero(path: Path) -> bool:
    """Whether any line of the file uses feature index 0 (False if unreadable)."""
    try:
        return _INDEX_ZERO.search(path.read_bytes()) is not None
    except OSError:
        return False  # the loader reports the missing file


def _read(
    path: Path | None, split: str, zero_based: bool, max_features: int | None
) -> tuple[RankingData, str]:
    if path is None:
        return load_sample(split), f"bundled sample rank.{split}"  # type: ignore[arg-type]
    try:
        data = load_svmlight(path, zero_based=zero_based, max_features=max_features)
        return data, str(path)
    except MissingQueryError as error:
        raise MissingQueryError(
            f"{path} has no qid: tokens and there is no query file {path}.query "
            "beside it: write qid:<id> after each label, put the group sizes (one "
            f"per line) in {path}.query, or give a CSV/TSV table with "
            "--query-column and --label-column"
        ) from error
    except ValueError as error:
        if "index 0" in str(error):
            hint = "0-based indices? pass --index-base 0"
        elif _looks_like_table(path):
            hint = (
                "a CSV/TSV table? name a .csv/.tsv file, or pass --label-column and "
                "--query-column"
            )
        else:
            raise
        raise ValueError(f"{error} ({hint})") from error


def _looks_like_table(path: Path) -> bool:
    """Whether the first line reads like a table's header (separators, no ``:``)."""
    try:
        with path.open("rb") as stream:
            first = stream.readline(4096)
    except OSError:
        return False
    return (b"," in first or b"\t" in first) and b":" not in first


def _widen(data: RankingData, n_columns: int) -> RankingData:
    """Pad ``data.X`` with empty columns up to ``n_columns``."""
    n_rows, have = data.X.shape
    if have == n_columns:
        return data
    extra = sparse.csr_matrix((n_rows, n_columns - have))
    return replace(data, X=sparse.hstack([data.X, extra], format="csr"))


def describe(data: RankingData, name: str) -> str:
    """One line: where the data came from and its size."""
    n_rows, n_columns = data.X.shape
    return f"{name}: {n_rows} rows, {data.group.size} queries, {n_columns} features"


def check_output_path(path: Path, option: str) -> None:
    """Raise ``ValueError`` now, before training, if ``path`` cannot take a file.

    A symbolic link is followed (its target is written). The target must not be
    a folder; its folder must exist and be writable, and its name must fit the
    file system (the temporary file of :func:`write_file` has a short name of
    its own).

    Parameters
    ----------
    path : Path
        Where a file will be written.
    option : str
        The command-line option naming it, used in messages.
    """
    target = Path(os.path.realpath(path))
    linked = target != Path(os.path.abspath(path))
    shown = f"{option} {path}" + (f" (a link to {target})" if linked else "")
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"{shown}: folder '{folder}' does not exist")
    longest = os.pathconf(folder, "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    if len(os.fsencode(target.name)) > longest:
        raise ValueError(
            f"{shown}: the file name has {len(os.fsencode(target.name))} bytes, "
            f"more than the {longest} this file system allows; choose a shorter name"
        )
    if target.is_dir():
        raise ValueError(f"{shown} is a folder; give a file name, e.g. {path}/model")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{shown}: folder '{folder}' is not writable")


def save_booster(booster: Any, engine: str, path: Path) -> None:
    """Write ``booster`` in its engine's format (see :func:`write_file`).

    The format is the engine's (:meth:`~gbrank.engines.base.Engine.model_bytes`:
    LightGBM's text model; XGBoost UBJSON for a ``.ubj`` path, JSON otherwise),
    loadable with the engine's own API or ``Engine.load_model``.
    """
    write_file(path, get_engine(engine).model_bytes(booster, path))

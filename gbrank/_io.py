"""Files of the command line: a training/validation pair in, a booster out."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from scipy import sparse

from gbrank._files import write_file
from gbrank.datasets import (
    DEFAULT_MAX_FEATURES,
    RankingData,
    load_sample,
    load_svmlight,
)
from gbrank.engines import get_engine


def load_pair(
    train_path: Path | None,
    valid_path: Path | None,
    *,
    index_base: Literal["auto", "0", "1"] = "auto",
    max_features: int | None = DEFAULT_MAX_FEATURES,
) -> tuple[RankingData, RankingData, str, str]:
    """Load training and validation data with the same number of columns.

    No paths means the bundled sample (``rank.train`` / ``rank.test``); a
    training file without a validation file is validated on itself. A
    validation file without a training file, or one that uses features beyond
    the training file's highest, is refused: it is another data set. (Fewer is
    fine: svmlight files leave out zeros, so a feature may never show.)

    Parameters
    ----------
    train_path, valid_path : Path or None
        svmlight files (with ``qid:`` tokens or a ``.query`` side file).
    index_base : {"auto", "0", "1"}
        First feature index. ``"auto"``: 0 when feature 0 occurs in either
        file, else 1, decided for both files together (as scikit-learn's
        ``load_svmlight_files``), so that their columns line up.
    max_features : int or None
        Most feature columns a file may have (see
        :func:`~gbrank.datasets.load_svmlight`).

    Returns
    -------
    train, valid : RankingData
    train_name, valid_name : str
        Where the data came from, for messages.
    """
    if train_path is None and valid_path is not None:
        raise ValueError(
            f"--valid {valid_path} needs --train: validating on it a model of the "
            "bundled sample would mix two data sets"
        )
    files = [path for path in (train_path, valid_path) if path is not None]
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
    except ValueError as error:
        if "index 0" not in str(error):
            raise
        raise ValueError(f"{error} (0-based indices? pass --index-base 0)") from error


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

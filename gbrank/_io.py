"""Files of the command line: a training/validation pair in, a booster out."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from scipy import sparse

from gbrank.datasets import RankingData, load_sample, load_svmlight
from gbrank.engines import get_engine


def load_pair(
    train_path: Path | None,
    valid_path: Path | None,
    *,
    index_base: Literal["auto", "0", "1"] = "auto",
) -> tuple[RankingData, RankingData, str, str]:
    """Load training and validation data with the same number of columns.

    A missing path means the bundled sample (``rank.train`` / ``rank.test``);
    a training file without a validation file is validated on itself.

    Parameters
    ----------
    train_path, valid_path : Path or None
        svmlight files (with ``qid:`` tokens or a ``.query`` side file).
    index_base : {"auto", "0", "1"}
        First feature index. ``"auto"``: 0 when feature 0 occurs in either
        file, else 1, decided for both files together (as scikit-learn's
        ``load_svmlight_files``), so that their columns line up.

    Returns
    -------
    train, valid : RankingData
    train_name, valid_name : str
        Where the data came from, for messages.
    """
    files = [path for path in (train_path, valid_path) if path is not None]
    if index_base == "auto":
        zero_based = any(_has_index_zero(path) for path in files)
    else:
        zero_based = index_base == "0"
    train, train_name = _read(train_path, "train", zero_based)
    if valid_path is None and train_path is not None:
        return train, train, train_name, f"{train_name} (training data: pass --valid)"
    valid, valid_name = _read(valid_path, "test", zero_based)
    n_columns = max(train.X.shape[1], valid.X.shape[1])
    return _widen(train, n_columns), _widen(valid, n_columns), train_name, valid_name


# a "0:<value>" feature before any "#" comment on a line
_INDEX_ZERO = re.compile(rb"^[^#\n]*?[ \t]0:", re.MULTILINE)


def _has_index_zero(path: Path) -> bool:
    """Whether any line of the file uses feature index 0 (False if unreadable)."""
    try:
        return _INDEX_ZERO.search(path.read_bytes()) is not None
    except OSError:
        return False  # the loader reports the missing file


def _read(path: Path | None, split: str, zero_based: bool) -> tuple[RankingData, str]:
    if path is None:
        return load_sample(split), f"bundled sample rank.{split}"  # type: ignore[arg-type]
    try:
        return load_svmlight(path, zero_based=zero_based), str(path)
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


def save_booster(booster: Any, engine: str, path: Path) -> None:
    """Write ``booster`` in its engine's format, atomically.

    The format is the engine's (:meth:`~gbrank.engines.base.Engine.model_bytes`:
    LightGBM's text model; XGBoost UBJSON for a ``.ubj`` path, JSON otherwise),
    loadable with the engine's own API or ``Engine.load_model``. The bytes go
    to a temporary file in the same folder, are flushed to disk and renamed over
    ``path`` (``os.replace``), so an interrupted run never leaves a truncated
    model and an existing model stays intact until the new one is complete.
    """
    payload = get_engine(engine).model_bytes(booster, path)
    handle, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

"""gbrank: learning-to-rank losses as exact custom objectives for GBDT engines.

``import gbrank`` loads the losses (NumPy and numba): every public name of
:mod:`gbrank.losses` is one of gbrank's. The scikit-learn estimators, the
engines and the engines' adapters load when first used.
"""

from __future__ import annotations

import os

# The engines' OpenMP threads busy-wait between parallel regions by default; the
# gbrank objective runs between two of them, so spinning workers would steal its
# cores (measured on 2 busy cores: a LightGBM fit 0.6 s -> 6.8 s, native
# objective too). Passive waiting must be chosen before OpenMP starts: a user
# who runs lightgbm/xgboost before importing gbrank should export it themselves.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from typing import TYPE_CHECKING, Any

from gbrank._kernels.threads import get_num_threads, set_num_threads
from gbrank.losses import *  # noqa: F403  (every public name of gbrank.losses)
from gbrank.losses import __all__ as _LOSSES_ALL

if TYPE_CHECKING:
    from gbrank.sklearn import GBRankClassifier, GBRankRegressor

__version__ = "0.2.0"

_LAZY = {"GBRankClassifier": "gbrank.sklearn", "GBRankRegressor": "gbrank.sklearn"}
_SUBMODULES = {
    "dask",
    "datasets",
    "engines",
    "lightgbm",
    "metrics",
    "position",
    "sklearn",
    "significance",
    "testing",
    "xgboost",
}


def __getattr__(name: str) -> Any:
    """Import the estimators (and scikit-learn) and submodules on first use."""
    from importlib import import_module

    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return import_module(f"gbrank.{name}")
    raise AttributeError(f"module 'gbrank' has no attribute {name!r}")


__all__ = [
    *_LOSSES_ALL,
    "GBRankClassifier",
    "GBRankRegressor",
    "__version__",
    "get_num_threads",
    "set_num_threads",
]

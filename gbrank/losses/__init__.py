"""The loss registry: every gbrank loss by its snake_case name.

Built-in losses are listed in :data:`BUILTIN_LOSSES`; a user-defined loss joins
them with :func:`register_loss` (or, for a package, through the entry-point
group ``gbrank.losses``, loaded the first time the registry is read). After
that, :func:`get_loss`, both engines, the estimators, grid search and the
``gbrank losses`` command know it by name.

``import gbrank.losses`` imports neither LightGBM, XGBoost nor scikit-learn.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from typing import Any, TypeVar

from gbrank._validation import did_you_mean
from gbrank.losses.approx import (
    ApproxMRRLoss,
    ApproxNDCGLoss,
    GumbelApproxNDCGLoss,
)
from gbrank.losses.base import HESSIAN_FLOOR, REDUCTIONS, Batch, Loss
from gbrank.losses.classification import CategoricalCrossEntropyLoss
from gbrank.losses.lambdaloss import LambdaLoss
from gbrank.losses.lambdaweights import (
    DCGLambdaWeight,
    ERRLambdaWeight,
    LabelDiffLambdaWeight,
    LambdaWeight,
    MAPLambdaWeight,
    MRRLambdaWeight,
    NDCG2LambdaWeight,
    NDCGLambdaWeight,
    PrecisionLambdaWeight,
)
from gbrank.losses.listwise import (
    ListMLELoss,
    ListNetLoss,
    RankOneListNetLoss,
    SoftmaxLoss,
)
from gbrank.losses.neuralsort import NeuralNDCGLoss
from gbrank.losses.pairwise import (
    PairwiseHingeLoss,
    PairwiseLogisticLoss,
    PairwiseMeanSquaredError,
    PairwiseQRLoss,
    PairwiseSoftZeroOneLoss,
)
from gbrank.losses.pointwise import SigmoidCrossEntropyLoss
from gbrank.losses.query import QueryRMSELoss, QuerySoftmaxLoss
from gbrank.losses.regression import OrdinalLoss, PointwiseMeanSquaredError
from gbrank.losses.softmax_variants import Poly1SoftmaxLoss, UniqueSoftmaxLoss
from gbrank.losses.yetirank import YetiRankLoss

BUILTIN_LOSSES: tuple[type[Loss], ...] = (
    SigmoidCrossEntropyLoss,
    RankOneListNetLoss,
    SoftmaxLoss,
    ListNetLoss,
    ListMLELoss,
    CategoricalCrossEntropyLoss,
    PairwiseHingeLoss,
    PairwiseLogisticLoss,
    PairwiseSoftZeroOneLoss,
    PairwiseMeanSquaredError,
    Poly1SoftmaxLoss,
    UniqueSoftmaxLoss,
    ApproxNDCGLoss,
    ApproxMRRLoss,
    NeuralNDCGLoss,
    GumbelApproxNDCGLoss,
    PointwiseMeanSquaredError,
    OrdinalLoss,
    QueryRMSELoss,
    QuerySoftmaxLoss,
    PairwiseQRLoss,
    LambdaLoss,
    YetiRankLoss,
)

LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in BUILTIN_LOSSES}
"""Registered loss classes by name (read it through :func:`available_losses`)."""

DEFAULT_RANKING_LOSS = "yetirank"
"""The loss of ``GBRankRegressor()`` and ``gbrank train`` without ``--loss``."""

ENTRY_POINT_GROUP = "gbrank.losses"
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_plugins_loaded = False

L = TypeVar("L", bound=type[Loss])


def register_loss(cls: L, *, replace: bool = False) -> L:
    """Register a loss class under its ``name``; usable as a class decorator.

    Parameters
    ----------
    cls : type
        A subclass of :class:`gbrank.Loss` with a snake_case class attribute
        ``name`` that implements ``compute`` and ``compute_activation``.
    replace : bool, default False
        Whether a loss already registered under that name may be replaced.

    Returns
    -------
    type
        ``cls``, unchanged.

    Raises
    ------
    TypeError
        If ``cls`` is not a :class:`~gbrank.Loss` subclass implementing the hooks.
    ValueError
        If its ``name`` is missing or not snake_case, or already taken (unless
        ``replace``).

    Examples
    --------
    >>> import numpy as np
    >>> import gbrank
    >>> @gbrank.register_loss
    ... class HalfSquaredError(gbrank.Loss):
    ...     '''Pointwise ``w (s - y)^2 / 2``.'''
    ...     name = "half_squared_error_example"
    ...     needs_groups = False
    ...     def compute(self, batch, need_loss=True):
    ...         valid = batch.valid
    ...         w = np.where(valid, batch.weights, 0.0)
    ...         residual = np.where(valid, batch.scores - batch.labels, 0.0)
    ...         return 0.5 * w * residual**2, w * residual, w
    ...     def compute_activation(self, batch):
    ...         return batch.scores.copy()
    >>> gbrank.get_loss("half_squared_error_example").loss([1.0, 3.0], [0.0, 1.0])
    1.25
    >>> gbrank.unregister_loss("half_squared_error_example")
    """
    if not (isinstance(cls, type) and issubclass(cls, Loss)):
        raise TypeError(f"register_loss needs a subclass of gbrank.Loss, got {cls!r}.")
    for hook in ("compute", "compute_activation"):
        if getattr(cls, hook) is getattr(Loss, hook):
            raise TypeError(f"{cls.__name__} must implement {hook}(batch, ...).")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{cls.__name__}.name must be a snake_case string such as "
            f"'my_loss', got {name!r}."
        )
    if name in LOSSES and LOSSES[name] is not cls and not replace:
        raise ValueError(
            f"a loss named {name!r} is registered already ({LOSSES[name].__name__}); "
            "choose another name or pass replace=True."
        )
    LOSSES[name] = cls
    return cls


def unregister_loss(name: str) -> None:
    """Remove a user-registered loss (built-in losses stay).

    Parameters
    ----------
    name : str
        The registered name.
    """
    builtin = {cls.name for cls in BUILTIN_LOSSES}
    if name in builtin:
        raise ValueError(f"{name!r} is a built-in loss and cannot be unregistered.")
    if name not in LOSSES:
        raise ValueError(f"no loss named {name!r} is registered.")
    del LOSSES[name]


def _load_plugins() -> None:
    """Register the losses of installed packages (entry points), once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        register_loss(entry.load())


def available_losses() -> list[str]:
    """Sorted names of the registered losses."""
    _load_plugins()
    return sorted(LOSSES)


def get_loss(name: str | Loss, **params: Any) -> Loss:
    """Instantiate a registered loss by name.

    Parameters
    ----------
    name : str or Loss
        A registered name (see :func:`available_losses`), or a loss instance,
        returned as is (then ``params`` must be empty).
    **params
        Hyperparameters of the loss, e.g. ``temperature=0.5``.

    Returns
    -------
    Loss

    Examples
    --------
    >>> import gbrank
    >>> gbrank.get_loss("pairwise_hinge", temperature=0.5)
    PairwiseHingeLoss(temperature=0.5)
    """
    if isinstance(name, Loss):
        if params:
            raise ValueError(
                "parameters cannot be combined with a loss instance; "
                "use loss.set_params(...) instead."
            )
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"loss must be a loss name (str) or a gbrank.Loss instance, got "
            f"{type(name).__name__} {name!r}."
        )
    if name not in available_losses():
        hint = did_you_mean(name, available_losses())
        raise ValueError(
            f"unknown loss {name!r}{hint}; available: {', '.join(available_losses())}."
        )
    cls = LOSSES[name]
    valid = cls._param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"loss {name!r} has no parameter {', '.join(map(repr, unknown))}; its "
            f"parameters: {', '.join(valid) or 'none'}."
        )
    return cls(**params)


__all__ = [
    "BUILTIN_LOSSES",
    "DEFAULT_RANKING_LOSS",
    "HESSIAN_FLOOR",
    "LOSSES",
    "REDUCTIONS",
    "ApproxMRRLoss",
    "ApproxNDCGLoss",
    "Batch",
    "CategoricalCrossEntropyLoss",
    "DCGLambdaWeight",
    "ERRLambdaWeight",
    "GumbelApproxNDCGLoss",
    "LabelDiffLambdaWeight",
    "LambdaLoss",
    "LambdaWeight",
    "ListMLELoss",
    "ListNetLoss",
    "Loss",
    "MAPLambdaWeight",
    "MRRLambdaWeight",
    "NDCG2LambdaWeight",
    "NDCGLambdaWeight",
    "NeuralNDCGLoss",
    "OrdinalLoss",
    "PairwiseHingeLoss",
    "PairwiseLogisticLoss",
    "PairwiseMeanSquaredError",
    "PairwiseQRLoss",
    "PairwiseSoftZeroOneLoss",
    "PointwiseMeanSquaredError",
    "Poly1SoftmaxLoss",
    "PrecisionLambdaWeight",
    "QueryRMSELoss",
    "QuerySoftmaxLoss",
    "RankOneListNetLoss",
    "SigmoidCrossEntropyLoss",
    "SoftmaxLoss",
    "UniqueSoftmaxLoss",
    "YetiRankLoss",
    "available_losses",
    "get_loss",
    "register_loss",
    "unregister_loss",
]

"""The loss registry: every gbrank loss by its snake_case name.

``import gbrank.losses`` imports neither LightGBM, XGBoost nor scikit-learn.
"""

from __future__ import annotations

from typing import Any

from gbrank.losses.base import HESSIAN_FLOOR, REDUCTIONS, Loss
from gbrank.losses.classification import CategoricalCrossEntropyLoss
from gbrank.losses.lambdaweights import (
    DCGLambdaWeight,
    LabelDiffLambdaWeight,
    LambdaWeight,
    NDCGLambdaWeight,
)
from gbrank.losses.listwise import (
    ListMLELoss,
    ListNetLoss,
    RankOneListNetLoss,
    SoftmaxLoss,
)
from gbrank.losses.pairwise import (
    PairwiseHingeLoss,
    PairwiseLogisticLoss,
    PairwiseMeanSquaredError,
    PairwiseSoftZeroOneLoss,
)
from gbrank.losses.pointwise import SigmoidCrossEntropyLoss

LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (
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
    )
}


def available_losses() -> list[str]:
    """Sorted names of the registered losses."""
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
    if name not in LOSSES:
        raise ValueError(
            f"unknown loss {name!r}; available losses: {', '.join(available_losses())}."
        )
    return LOSSES[name](**params)


__all__ = [
    "HESSIAN_FLOOR",
    "LOSSES",
    "REDUCTIONS",
    "CategoricalCrossEntropyLoss",
    "DCGLambdaWeight",
    "LabelDiffLambdaWeight",
    "LambdaWeight",
    "ListMLELoss",
    "ListNetLoss",
    "Loss",
    "NDCGLambdaWeight",
    "PairwiseHingeLoss",
    "PairwiseLogisticLoss",
    "PairwiseMeanSquaredError",
    "PairwiseSoftZeroOneLoss",
    "RankOneListNetLoss",
    "SigmoidCrossEntropyLoss",
    "SoftmaxLoss",
    "available_losses",
    "get_loss",
]

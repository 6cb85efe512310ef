"""gbrank: learning-to-rank losses as exact custom objectives for GBDT engines."""

import os

# numba's OpenMP workers busy-wait after each parallel kernel and then starve the
# engines' own OpenMP threads (measured: an XGBoost fit 0.9 s -> 47 s on 2 cores).
# Passive waiting removes that; it must be set before OpenMP starts, so a user who
# imports lightgbm/xgboost first should export OMP_WAIT_POLICY=passive themselves.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from gbrank.losses import (
    LOSSES,
    CategoricalCrossEntropyLoss,
    DCGLambdaWeight,
    LabelDiffLambdaWeight,
    LambdaWeight,
    ListMLELoss,
    ListNetLoss,
    Loss,
    NDCGLambdaWeight,
    PairwiseHingeLoss,
    PairwiseLogisticLoss,
    PairwiseMeanSquaredError,
    PairwiseSoftZeroOneLoss,
    RankOneListNetLoss,
    SigmoidCrossEntropyLoss,
    SoftmaxLoss,
    available_losses,
    get_loss,
)
from gbrank.sklearn import GBRankClassifier, GBRankRegressor

__version__ = "0.1.0"

__all__ = [
    "LOSSES",
    "CategoricalCrossEntropyLoss",
    "DCGLambdaWeight",
    "GBRankClassifier",
    "GBRankRegressor",
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
    "__version__",
    "available_losses",
    "get_loss",
]

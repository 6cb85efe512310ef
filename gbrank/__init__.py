"""gbrank: learning-to-rank losses as exact custom objectives for GBDT engines."""

from gbrank.losses import (
    LOSSES,
    CategoricalCrossEntropyLoss,
    Loss,
    PairwiseHingeLoss,
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
    "GBRankClassifier",
    "GBRankRegressor",
    "Loss",
    "PairwiseHingeLoss",
    "RankOneListNetLoss",
    "SigmoidCrossEntropyLoss",
    "SoftmaxLoss",
    "__version__",
    "available_losses",
    "get_loss",
]

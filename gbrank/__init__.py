"""gbrank: learning-to-rank losses as exact custom objectives for GBDT engines."""

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

r"""CatBoost's query-wise losses: ``QueryRMSE`` and ``QuerySoftMax``.

Both are ranking losses (``needs_groups``): each query's loss depends on its
scores only through their differences, so shifting a query's scores changes
nothing. One value per query (``"sum_over_batch_size"`` divides by the number
of queries). CatBoost reports a *metric* next to each objective whose
normalisation no gbrank reduction expresses; each class says how to get it from
``loss(..., reduction="sum")``. CatBoost's derivatives ``Der1`` and ``Der2`` are
those of the negated loss (it maximises); gbrank returns the loss's gradient
and a positive hessian.
"""

from __future__ import annotations

import numpy as np

from gbrank._kernels import query as kernels
from gbrank._validation import check_positive, check_real
from gbrank.losses.base import Array, Batch, Loss
from gbrank.losses.listwise import group_softmax

ROW_NS = 10.0
"""Estimated nanoseconds of work per row, for cutting work into chunks."""


def _cost(batch: Batch) -> Array:
    return np.diff(batch.groups.offsets) * ROW_NS


class QueryRMSELoss(Loss):
    r"""CatBoost's ``QueryRMSE``: squared error after removing each query's mean.

    Notes
    -----
    Per query, with residuals :math:`r_i = y_i - s_i` and weights :math:`w_i`
    of its valid rows, :math:`W = \sum_i w_i` and the weighted mean residual
    :math:`\bar r = \sum_i w_i r_i / W`:

    .. math::

        \mathcal{L} = \frac{1}{2} \sum_i w_i (r_i - \bar r)^2, \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = -w_k (r_k - \bar r)

    (the terms from :math:`\partial \bar r / \partial s_k` cancel because
    :math:`\sum_i w_i (r_i - \bar r) = 0`). The hessian given to boosters is
    CatBoost's :math:`w_k`, a surrogate above the exact diagonal
    :math:`w_k (1 - w_k / W)` (the off-diagonal coupling is dropped); so
    ``approx_hessian`` is True. A Newton step moves each query's scores towards
    its labels up to a per-query constant, which no ranking metric sees.

    The loss is invariant to a per-query shift of the scores: a ranking loss.
    Labels are any numbers >= 0 (negative ones mark ignored rows). Rows of
    weight 0 and ignored rows take no part (gradient 0, hessian floor); a query
    of total weight 0 gives 0 (CatBoost's mean is then 0, with the same result).

    CatBoost's gradient is this one (``Der1 = w_k (r_k - \bar r)`` is its
    negative) and its ``Der2 = -w_k``. CatBoost's reported ``QueryRMSE`` metric
    is :math:`\sqrt{\sum_q \sum_i w_i (r_i - \bar r_q)^2 / \sum w} =`
    ``sqrt(2 * loss(..., reduction="sum") / sum(w))``, which no reduction
    expresses; the default reduction is the mean over queries
    (``"sum_over_batch_size"``). The activation is the identity.

    See Also
    --------
    PointwiseMeanSquaredError : the squared error without the per-query mean.

    References
    ----------
    CatBoost, ``QueryRMSE`` objective and metric:
    ``TQueryRmseError::CalcDersForQueries`` / ``CalcQueryAvrg``
    (catboost/private/libs/algo_helpers/error_functions.h) and
    ``TQueryRMSEMetric`` (catboost/libs/metrics/metric.cpp);
    https://catboost.ai/docs/en/concepts/loss-functions-ranking

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.QueryRMSELoss()
    >>> loss.loss([2.0, 0.0], [1.0, 1.0], reduction="sum")  # residuals 1, -1
    1.0
    >>> loss.loss([2.0, 0.0], [2.0, 2.0], reduction="sum")  # both scores + 1: same
    1.0
    """

    name = "query_rmse"
    per_group = True
    approx_hessian = True

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Squared error around every query's mean residual."""
        return self.run_groups(
            batch,
            lambda first, stop, rows, out: kernels.query_rmse(
                first, stop, rows, need_loss, out
            ),
            _cost(batch),
        )

    def compute_activation(self, batch: Batch) -> Array:
        """Return the scores unchanged (a copy)."""
        return batch.scores.copy()


class QuerySoftmaxLoss(Loss):
    r"""CatBoost's ``QuerySoftMax``: weighted softmax cross-entropy of a query.

    Parameters
    ----------
    beta : float, default 1.0
        Scale of the scores inside the softmax (CatBoost's ``beta``); > 0.
    lambda_reg : float, default 0.01
        Ridge added to the hessian (CatBoost's ``lambda``, ``LambdaReg``); >= 0.
        It changes only the booster's Newton step, not the loss or gradient.

    Notes
    -----
    Per query, over its valid rows of positive weight, with
    :math:`p_i = w_i e^{\beta s_i} / \sum_j w_j e^{\beta s_j}` (weights inside
    the softmax, as CatBoost's) and label mass :math:`S = \sum_i w_i y_i`:

    .. math::

        \mathcal{L} = -\sum_i w_i y_i \log p_i, \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = \beta (S p_k - w_k y_k)

        h_k = \beta S\,(\beta p_k (1 - p_k) + \lambda)

    :math:`h_k` is CatBoost's hessian: the exact diagonal
    :math:`\beta^2 S p_k (1 - p_k)` plus the ridge :math:`\beta S \lambda`, so
    ``approx_hessian`` is True (it is exact for ``lambda_reg=0``). The ridge
    grows with the list: on 100-row lists it about doubles the hessian and halves
    the Newton step (measured, ``benchmarks/quality.py`` settings, LightGBM:
    held-out NDCG@10 0.718 after 100 rounds against 0.763 with
    ``lambda_reg=0``; 0.789 against 0.790 after 300 rounds). Labels are
    any numbers >= 0 (negative ones mark ignored rows). A query without label
    mass (:math:`S = 0`) gives 0 loss and gradient; rows of weight 0 take no part
    (CatBoost gives them zero derivatives). A weight acts as a row multiplicity
    in the gradient (weight 2 = the row twice) and scales a whole query when
    shared by its rows (the softmax does not change). Unweighted, this is
    :class:`SoftmaxLoss` of :math:`\beta s`. One value per query; default
    reduction: the mean over queries (``"sum_over_batch_size"``). The activation
    is the softmax of :math:`\beta s` over the query's valid rows.

    CatBoost's ``Der1 = \beta (w_k y_k - S p_k)`` is this gradient's negative and
    its ``Der2`` is :math:`-h_k`. CatBoost's reported ``QuerySoftMax`` metric
    is this loss at :math:`\beta = 1` (whatever ``beta`` is) divided by the
    total label mass: for ``beta=1``, ``loss(..., reduction="sum") / sum(w * y)``.

    See Also
    --------
    SoftmaxLoss : ml4ir's softmax cross-entropy (weights outside the softmax).

    References
    ----------
    CatBoost, ``QuerySoftMax`` objective and metric:
    ``TQuerySoftMaxError::CalcDersForSingleQuery``
    (catboost/private/libs/algo_helpers/error_functions.cpp) and
    ``TQuerySoftMaxMetric`` (catboost/libs/metrics/metric.cpp);
    https://catboost.ai/docs/en/concepts/loss-functions-ranking

    Examples
    --------
    >>> import gbrank
    >>> round(gbrank.QuerySoftmaxLoss().loss([1.0, 0.0], [0.0, 0.0]), 6)  # log 2
    0.693147
    """

    name = "query_softmax"
    per_group = True
    approx_hessian = True

    def __init__(self, *, beta: float = 1.0, lambda_reg: float = 0.01):
        self.beta = beta
        self.lambda_reg = lambda_reg

    def check_params(self) -> None:
        """Validate ``beta`` (> 0) and ``lambda_reg`` (>= 0)."""
        check_positive(self.beta, "beta")
        check_real(self.lambda_reg, "lambda_reg", low=0.0)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Weighted softmax cross-entropy of every query."""
        beta, lambda_reg = float(self.beta), float(self.lambda_reg)
        return self.run_groups(
            batch,
            lambda first, stop, rows, out: kernels.query_softmax(
                first, stop, rows, beta, lambda_reg, need_loss, out
            ),
            _cost(batch),
        )

    def compute_activation(self, batch: Batch) -> Array:
        """Softmax of ``beta * s`` over each query's valid rows."""
        return group_softmax(batch, batch.scores * float(self.beta))

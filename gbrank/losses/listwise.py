r"""Listwise losses: functions of the softmax of a list's scores.

The activation of every listwise loss is the masked softmax of a list,

.. math::  p_i = \frac{e^{s_i}}{\sum_{j \in V} e^{s_j}}, \qquad i \in V,

over its valid rows :math:`V`; ignored rows get :math:`p_i = 0`. The unreduced loss
has one value per list, so ``"sum_over_batch_size"`` divides by the number of
lists.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gbrank import _kernels
from gbrank._validation import check_choice
from gbrank.losses.base import Array, Batch, Loss


class _ListwiseLoss(Loss):
    """Per-list losses on the masked softmax."""

    per_group = True

    def _activation(self, batch: Batch) -> Array:
        probabilities = np.zeros(batch.scores.size)
        _kernels.group_softmax(
            batch.scores, batch.valid, batch.groups.offsets, probabilities
        )
        return probabilities

    def _outputs(self, batch: Batch) -> tuple[Array, Array, Array]:
        n_rows = batch.scores.size
        return np.zeros(batch.groups.n_groups), np.zeros(n_rows), np.zeros(n_rows)


class SoftmaxLoss(_ListwiseLoss):
    r"""Softmax cross-entropy of a list (ml4ir / TF-Ranking ``softmax`` loss).

    Notes
    -----
    Per list, with label mass :math:`Y = \sum_i w_i y_i` (labels not normalised):

    .. math::

        \mathcal{L} = -\sum_i w_i y_i \log p_i, \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = Y p_k - w_k y_k, \qquad
        \frac{\partial^2 \mathcal{L}}{\partial s_k^2} = Y p_k (1 - p_k)

    The hessian is the exact diagonal. A list without relevant rows (:math:`Y=0`)
    has zero loss and gradient. Default reduction: the mean over lists
    (``"sum_over_batch_size"``), as ml4ir's.

    See Also
    --------
    ml4ir SoftmaxCrossEntropy, tfr.keras.losses.SoftmaxLoss : the neural twins.

    Examples
    --------
    >>> import gbrank
    >>> round(gbrank.SoftmaxLoss().loss([1.0, 0.0], [0.0, 0.0]), 6)  # log 2
    0.693147
    """

    name = "softmax"

    def __init__(self) -> None:
        pass

    def _compute(self, batch: Batch) -> tuple[Array, Array, Array]:
        values, grad, hess = self._outputs(batch)
        _kernels.softmax_cross_entropy(
            batch.labels, batch.scores, batch.weights, batch.groups.offsets,
            values, grad, hess,
        )  # fmt: skip
        return values, grad, hess


class RankOneListNetLoss(_ListwiseLoss):
    r"""ml4ir's ``RankOneListNet``: binary cross-entropy on softmax probabilities.

    Parameters
    ----------
    hessian : {"gauss_newton", "softmax"}, default "gauss_newton"
        The exact diagonal hessian is often negative (about 30 % of rows of
        one-click lists), so a positive surrogate is used. ``"gauss_newton"``:
        the Gauss-Newton diagonal (below), >= 0 and close in scale to the exact
        one. ``"softmax"``: :math:`W p_k (1 - p_k)` with :math:`W = \sum_i w_i`,
        conservative.

    Notes
    -----
    Per list of valid rows with click labels :math:`y_i \in [0, 1]`:

    .. math::

        \mathcal{L} = -\sum_i w_i\,[y_i \log p_i + (1 - y_i)\log(1 - p_i)]

        \frac{\partial \mathcal{L}}{\partial s_k} = W p_k - w_k y_k
            - p_k \sum_{i \ne k} w_i \frac{1 - y_i}{1 - p_i}

        h_k^{GN} = w_k\,[y_k (1 - p_k)^2 + (1 - y_k) p_k^2]
            + p_k^2 \sum_{i \ne k} w_i \Big[y_i + (1 - y_i)
              \Big(\frac{p_i}{1 - p_i}\Big)^2\Big]

    This is a *binary* cross-entropy of each row against its softmax probability,
    not softmax cross-entropy (see :class:`SoftmaxLoss`). A list with m clicks has
    infimum :math:`m \log m`; a list without clicks still pulls its scores
    together. A list with one valid row has :math:`p = 1` whatever its score: its
    loss is taken as 0 with zero gradient (ml4ir's clipped probabilities give the
    constant :math:`-(1-y)\log 10^{-7}` instead). All logs are computed exactly
    (log-softmax; :math:`\log(1 - p)` of the top row from the other rows' scores),
    with no clipping. Default reduction: the sum over rows divided by the number of
    lists (``"sum_over_batch_size"``), as ml4ir's.

    See Also
    --------
    ml4ir.applications.ranking.model.losses.listwise_losses.RankOneListNet
    SoftmaxLoss

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.RankOneListNetLoss()
    >>> round(loss.loss([1.0, 0.0], [0.0, 0.0]), 6)  # 2 log 2
    1.386294
    """

    name = "rank_one_listnet"
    approx_hessian = True
    label_bounds = (0.0, 1.0)
    _hessian_modes: ClassVar[dict[str, int]] = {
        "gauss_newton": _kernels.LISTNET_HESSIAN_GAUSS_NEWTON,
        "softmax": _kernels.LISTNET_HESSIAN_SOFTMAX,
    }

    def __init__(self, *, hessian: str = "gauss_newton"):
        self.hessian = hessian

    def _check_params(self) -> None:
        check_choice(self.hessian, "hessian", self._hessian_modes)

    def _compute(self, batch: Batch) -> tuple[Array, Array, Array]:
        values, grad, hess = self._outputs(batch)
        _kernels.rank_one_listnet(
            batch.labels, batch.scores, batch.weights, batch.groups.offsets,
            self._hessian_modes[self.hessian], values, grad, hess,
        )  # fmt: skip
        return values, grad, hess

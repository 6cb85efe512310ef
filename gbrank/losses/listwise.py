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

from gbrank._kernels import listwise as kernels
from gbrank._kernels.common import Rows, Terms
from gbrank._kernels.listwise import ListNetTarget, RankOneHessian
from gbrank._kernels.threads import run_groups
from gbrank._validation import check_choice
from gbrank.losses.base import Array, Batch, Loss, check_temperature

ROW_NS = 20.0
"""Estimated nanoseconds of listwise work per row, for cutting work into chunks."""


def _cost(batch: Batch) -> Array:
    return np.diff(batch.groups.offsets) * ROW_NS


def group_softmax(batch: Batch, scores: Array) -> Array:
    """Masked softmax of ``scores`` over each group's valid rows (0 elsewhere)."""
    probabilities = np.zeros(scores.size)
    valid, offsets = batch.valid, batch.groups.offsets
    run_groups(
        lambda first, stop: kernels.group_softmax(
            first, stop, scores, valid, offsets, probabilities
        ),
        _cost(batch),
    )
    return probabilities


class _ListwiseLoss(Loss):
    """Per-list losses on the masked softmax."""

    per_group = True

    def compute_activation(self, batch: Batch) -> Array:
        """Masked softmax of each list."""
        return group_softmax(batch, batch.scores)


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

    References
    ----------
    .. [1] S. Bruch, X. Wang, M. Bendersky, M. Najork, "An Analysis of the Softmax
       Cross Entropy Loss for Learning-to-Rank with Binary Relevance", ICTIR 2019.
    .. [2] tensorflow/ranking, ``tfr.keras.losses.SoftmaxLoss``.

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

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Softmax cross-entropy of every list."""
        return self.run_groups(
            batch,
            lambda first, stop, rows, out: kernels.softmax_cross_entropy(
                first, stop, rows, need_loss, out
            ),
            _cost(batch),
        )


class RankOneListNetLoss(_ListwiseLoss):
    r"""ml4ir's ``RankOneListNet``: binary cross-entropy on softmax probabilities.

    Parameters
    ----------
    hessian : {"gauss_newton", "softmax"}, default "gauss_newton"
        The exact diagonal hessian is often negative (about 30 % of rows of
        one-click lists), so a positive surrogate is used. ``"gauss_newton"``:
        the Gauss-Newton diagonal (below), >= 0 and close in scale to the exact
        one, but not an upper bound of it. ``"softmax"``: :math:`W p_k (1 - p_k)`
        with :math:`W = \sum_i w_i`, an upper bound, conservative.

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

    The exact diagonal is :math:`h_k^{GN} + (1 - 2 p_k)\, \partial\mathcal{L}/
    \partial s_k`; Gauss-Newton drops the second term, which may be positive, so
    it does not bound the exact diagonal (``hessian_bounds_exact`` is False for
    it). Adding the positive part back trains worse (measured: NDCG@10 0.754 ->
    0.746 on the bundled data, 0.784 -> 0.766 on 100-row lists, LightGBM).

    This is a *binary* cross-entropy of each row against its softmax probability,
    not softmax cross-entropy (see :class:`SoftmaxLoss`). A list with m clicks has
    infimum :math:`m \log m`; a list without clicks still pulls its scores
    together. A list with one valid row has :math:`p = 1` whatever its score: its
    loss is taken as 0 with zero gradient (ml4ir's clipped probabilities give the
    constant :math:`-(1-y)\log 10^{-7}` instead). All logs are computed exactly
    (log-softmax; :math:`\log(1 - p)` of the top row from the other rows' scores),
    with no clipping. Default reduction: the sum over rows divided by the number of
    lists (``"sum_over_batch_size"``), as ml4ir's.

    References
    ----------
    .. [1] Z. Cao, T. Qin, T.-Y. Liu, M.-F. Tsai, H. Li, "Learning to Rank: From
       Pairwise Approach to Listwise Approach", ICML 2007 (top-one probability).
    .. [2] salesforce/ml4ir, ``ml4ir.applications.ranking.model.losses.\
       listwise_losses.RankOneListNet``.

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
    _hessians: ClassVar[dict[str, RankOneHessian]] = {
        "gauss_newton": RankOneHessian.GAUSS_NEWTON,
        "softmax": RankOneHessian.SOFTMAX,
    }

    def __init__(self, *, hessian: str = "gauss_newton"):
        self.hessian = hessian

    @property
    def hessian_bounds_exact(self) -> bool:
        """Only the ``"softmax"`` surrogate bounds the exact diagonal."""
        return self.hessian == "softmax"

    def check_params(self) -> None:
        """Validate the hessian choice."""
        check_choice(self.hessian, "hessian", self._hessians)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Binary cross-entropies of every list's softmax."""
        hessian = int(self._hessians[self.hessian])
        return self.run_groups(
            batch,
            lambda first, stop, rows, out: kernels.rank_one_listnet(
                first, stop, rows, hessian, need_loss, out
            ),
            _cost(batch),
        )


class ListNetLoss(_ListwiseLoss):
    r"""ListNet: cross-entropy of the scores' softmax against the labels' one.

    Cao et al.'s top-one ListNet (and allRank's ``listNet``) by default;
    TF-Ranking's ``SoftmaxLoss`` with ``label_normalization="sum"``.

    Parameters
    ----------
    label_normalization : {"softmax", "sum"}, default "softmax"
        How labels become the target distribution :math:`q` of a list:
        ``"softmax"``: :math:`q_i = e^{y_i} / \sum_j e^{y_j}` (ListNet's top-one
        probability of the labels); ``"sum"``: :math:`q_i = y_i / \sum_j y_j`.
        The exponential target weighs high grades as NDCG's gains do and trains
        better on graded labels (measured, ``benchmarks/quality.py``, 100-row
        lists, LightGBM: 0.784 against 0.764 NDCG@10 for ``"sum"``).

    Notes
    -----
    Per list of valid rows, with :math:`p = \mathrm{softmax}(s)` and the list
    weight :math:`W = \sum_i w_i q_i` (the weight of a list with constant
    per-row weights):

    .. math::

        \mathcal{L} = -W \sum_i q_i \log p_i, \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = W (p_k - q_k), \qquad
        \frac{\partial^2 \mathcal{L}}{\partial s_k^2} = W p_k (1 - p_k)

    The hessian is the exact diagonal. A list without a positive label (all
    labels 0) contributes 0 loss and gradient, as in TF-Ranking (allRank's
    softmax target would make it uniform instead). Unlike
    :class:`SoftmaxLoss` (ml4ir), the labels are normalised, so every list with a
    positive label has the same total weight. Default reduction: the mean over
    lists (``"sum_over_batch_size"``).

    References
    ----------
    .. [1] Z. Cao, T. Qin, T.-Y. Liu, M.-F. Tsai, H. Li, "Learning to Rank: From
       Pairwise Approach to Listwise Approach", ICML 2007.
    .. [2] allegro/allRank, ``allrank.models.losses.listNet``.

    See Also
    --------
    allrank.models.losses.listNet : the neural twin (``"softmax"``, no epsilon).
    tfr.keras.losses.SoftmaxLoss : the neural twin of ``"sum"``.
    SoftmaxLoss : unnormalised labels.

    Examples
    --------
    >>> import gbrank
    >>> round(gbrank.ListNetLoss().loss([3.0, 0.0], [0.0, 0.0]), 6)  # log 2
    0.693147
    """

    name = "listnet"
    _targets: ClassVar[dict[str, ListNetTarget]] = {
        "sum": ListNetTarget.SUM,
        "softmax": ListNetTarget.SOFTMAX,
    }

    def __init__(self, *, label_normalization: str = "softmax"):
        self.label_normalization = label_normalization

    def check_params(self) -> None:
        """Validate the label normalisation."""
        check_choice(self.label_normalization, "label_normalization", self._targets)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Softmax cross-entropy against every list's weighted target distribution."""
        target = int(self._targets[self.label_normalization])
        targets = np.empty(batch.scores.size)
        ones = np.ones(batch.scores.size)
        offsets = batch.groups.offsets

        def kernel(first: int, stop: int, rows: Rows, out: Terms) -> None:
            kernels.listnet_targets(first, stop, rows, target, targets)
            unit = Rows(targets, rows.scores, ones, offsets)
            kernels.softmax_cross_entropy(first, stop, unit, need_loss, out)

        return self.run_groups(batch, kernel, _cost(batch))


class ListMLELoss(_ListwiseLoss):
    r"""ListMLE, Plackett-Luce likelihood of the label order (keras_rs ``ListMLELoss``).

    Parameters
    ----------
    temperature : float, default 1.0
        Scores are divided by it; must be > 0.

    Notes
    -----
    The valid rows of a list are sorted by label, descending; label ties keep
    their row order (keras_rs's stable sort, deterministic), so permuting tied
    rows changes the loss. With :math:`t_k = s_{\pi(k)}/T` in that order, the
    weight :math:`w_k` of the row at stage k, and
    :math:`p_{kj} = e^{t_j} / \sum_{m \ge k} e^{t_m}` (:math:`j \ge k`):

    .. math::

        \mathcal{L} = -\sum_k w_k \log p_{kk}, \qquad
        \frac{\partial \mathcal{L}}{\partial s_{\pi(j)}} = \frac{1}{T}\Big(
            \sum_{k \le j} w_k p_{kj} - w_j\Big)

        \frac{\partial^2 \mathcal{L}}{\partial s_{\pi(j)}^2} = \frac{1}{T^2}
            \sum_{k \le j} w_k p_{kj} (1 - p_{kj}) \ \ge 0

    The hessian is the exact diagonal. With one weight per list (keras_rs's only
    meaningful choice: a per-list ``(batch, 1)`` or ``(batch,)`` weight, or a
    scalar) this is :math:`w` times keras_rs's value; per-row weights weight the
    stage whose row they belong to. Everything is computed in the log domain
    without keras_rs's :math:`\epsilon = 10^{-10}` inside the log, which changes
    its value once a list's tempered scores spread more than about 20. One
    value per list; a list without valid rows gives 0. Default reduction: the
    mean over lists (``"sum_over_batch_size"``), as keras_rs's. The activation is
    the top-one probability :math:`\mathrm{softmax}(s / T)`.

    References
    ----------
    .. [1] F. Xia, T.-Y. Liu, J. Wang, W. Zhang, H. Li, "Listwise Approach to
       Learning to Rank: Theory and Algorithm", ICML 2008.
    .. [2] keras-team/keras-rs, ``keras_rs.losses.ListMLELoss``
       (keras_rs/src/losses/list_mle_loss.py).

    See Also
    --------
    keras_rs.losses.ListMLELoss : the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> round(gbrank.ListMLELoss().loss([1.0, 0.0], [0.0, 0.0]), 6)  # log 2
    0.693147
    """

    name = "listmle"
    temperature: float

    def __init__(self, *, temperature: float = 1.0):
        self.temperature = temperature

    def check_params(self) -> None:
        """Validate the temperature."""
        check_temperature(self.temperature)

    def compute_activation(self, batch: Batch) -> Array:
        """Top-one probability ``softmax(s / T)`` of each list."""
        return group_softmax(batch, batch.scores / self.temperature)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Plackett-Luce likelihood of every list's label order."""
        inv_temperature = 1.0 / self.temperature
        return self.run_groups(
            batch,
            lambda first, stop, rows, out: kernels.listmle(
                first, stop, rows, inv_temperature, need_loss, out
            ),
            _cost(batch) * 2.0,
        )

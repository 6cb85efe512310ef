r"""Pairwise ranking losses with keras_rs semantics.

All of them sum a pair function :math:`f` of the tempered score difference over the
ordered pairs of a list whose labels differ:

.. math::

    \mathcal{L} = \sum_i \sum_j w_i \, \mathbb{I}(y_i > y_j) \,
        f\!\left(\frac{s_i - s_j}{T}\right)

The pair's loss is credited to its higher-labelled row i (the per-row values of
``reduction="none"``) and weighted by that row's sample weight.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gbrank import _kernels
from gbrank._validation import check_choice, check_positive
from gbrank.losses.base import Array, Batch, Loss


class _PairwiseLoss(Loss):
    """Shared machinery: checks, the all-pairs kernel, no activation."""

    _kind: ClassVar[int]
    _hessian_modes: ClassVar[dict[str, int]]
    temperature: float
    hessian: str

    def _check_params(self) -> None:
        check_positive(self.temperature, "temperature")
        check_choice(self.hessian, "hessian", self._hessian_modes)

    def _compute(self, batch: Batch) -> tuple[Array, Array, Array]:
        n_rows = batch.scores.size
        values, grad, hess = np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows)
        _kernels.pairwise(
            batch.labels,
            batch.scores,
            batch.weights,
            batch.groups.offsets,
            self._kind,
            1.0 / self.temperature,
            self._hessian_modes[self.hessian],
            values,
            grad,
            hess,
        )
        return values, grad, hess

    def _activation(self, batch: Batch) -> Array:
        return batch.scores.copy()


class PairwiseHingeLoss(_PairwiseLoss):
    r"""Pairwise hinge loss, as keras_rs ``PairwiseHingeLoss``.

    Parameters
    ----------
    temperature : float, default 1.0
        Score differences are divided by it before the hinge; must be > 0.
    hessian : {"active_pairs", "constant"}, default "active_pairs"
        Positive surrogate for the hessian, which is 0 almost everywhere.
        ``"active_pairs"``: every pair inside the margin (:math:`d_{ij} < 1`)
        adds :math:`w_i / T^2` to the hessian of both its rows, the curvature of
        a hinge smoothed over one margin width. ``"constant"``: :math:`w_i / T^2`
        on every valid row (a plain gradient step).

    Notes
    -----
    Per list, with :math:`d_{ij} = (s_i - s_j)/T`:

    .. math::

        \mathcal{L} = \sum_{i,j:\, y_i > y_j} w_i \max(0, 1 - d_{ij}), \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = \frac{1}{T}\Big(
            \sum_{j:\, y_j < y_k,\ d_{kj} < 1} (-w_k)
            + \sum_{i:\, y_i > y_k,\ d_{ik} < 1} w_i \Big)

    Ties in labels form no pair; ignored rows (label < 0 or masked) form none.
    The hessian is a surrogate (``approx_hessian = True``); rows in no active pair
    get the floor 1e-16. The default reduction is keras_rs's
    ``"sum_over_batch_size"``: the sum divided by the number of rows, ignored ones
    included.

    See Also
    --------
    keras_rs.losses.PairwiseHingeLoss : the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PairwiseHingeLoss()
    >>> round(loss.loss([1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8]), 5)
    2.32
    """

    name = "pairwise_hinge"
    approx_hessian = True
    differentiable = False
    _kind = _kernels.HINGE
    _hessian_modes: ClassVar[dict[str, int]] = {
        "active_pairs": _kernels.HINGE_HESSIAN_ACTIVE_PAIRS,
        "constant": _kernels.HINGE_HESSIAN_CONSTANT,
    }

    def __init__(self, *, temperature: float = 1.0, hessian: str = "active_pairs"):
        self.temperature = temperature
        self.hessian = hessian

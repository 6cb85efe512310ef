r"""Pointwise losses: each row is scored on its own."""

from __future__ import annotations

import numpy as np

from gbrank.losses.base import Array, Batch, Loss


def log_sigmoid(scores: Array) -> Array:
    r"""Stable :math:`\log \sigma(s) = -\log(1 + e^{-s})`."""
    return -np.logaddexp(0.0, -scores)


class SigmoidCrossEntropyLoss(Loss):
    r"""Binary cross-entropy of click labels against the sigmoid of the score.

    ml4ir's ``SigmoidCrossEntropy``, computed exactly (no probability clipping).

    Notes
    -----
    For a row with label :math:`y \in [0, 1]`, score :math:`s` and weight
    :math:`w`:

    .. math::

        \ell = -w\,[y \log\sigma(s) + (1 - y)\log(1 - \sigma(s))]
             = w\,[\log(1 + e^{s}) - y s]

        \frac{\partial \ell}{\partial s} = w\,(\sigma(s) - y), \qquad
        \frac{\partial^2 \ell}{\partial s^2} = w\,\sigma(s)(1 - \sigma(s))

    The hessian is exact. Ignored rows (label < 0 or masked) contribute nothing.
    The default reduction, ml4ir's, is ``"mean_over_valid"``: the weighted sum
    divided by the number of valid rows of the whole batch (not a mean of
    per-list means). Query groups are accepted and not needed.

    References
    ----------
    .. [1] salesforce/ml4ir, ``ml4ir.applications.ranking.model.losses.\
       pointwise_losses.SigmoidCrossEntropy``.
    .. [2] LightGBM, ``objective="cross_entropy"``, Parameters documentation.

    See Also
    --------
    ml4ir.applications.ranking.model.losses.pointwise_losses.SigmoidCrossEntropy
    lightgbm : ``objective="cross_entropy"``, the native twin.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.SigmoidCrossEntropyLoss()
    >>> round(loss.loss([1.0, 0.0], [0.0, 0.0]), 6)  # log 2
    0.693147
    """

    name = "sigmoid_cross_entropy"
    needs_groups = False
    default_reduction = "mean_over_valid"
    label_bounds = (0.0, 1.0)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Per-row binary cross-entropy, gradient and hessian."""
        valid = batch.valid
        weights = np.where(valid, batch.weights, 0.0)
        labels = np.where(valid, batch.labels, 0.0)
        scores = batch.scores
        log_p = log_sigmoid(scores)
        log_1mp = log_sigmoid(-scores)
        values = -weights * (labels * log_p + (1.0 - labels) * log_1mp)
        grad = weights * (np.exp(log_p) - labels)
        hess = weights * np.exp(log_p + log_1mp)
        return values, grad, hess

    def compute_activation(self, batch: Batch) -> Array:
        """Sigmoid of the scores."""
        return np.exp(log_sigmoid(batch.scores))

r"""Pointwise regression losses on graded labels: squared error and ordinal.

Each row is scored on its own: the losses need no query groups
(``needs_groups = False``), are not invariant to shifting a query's scores, and
train a ranker as a regressor of the label would. ``GBRankRegressor`` and both
engines accept them (with or without query groups); ``gbrank compare`` and
``benchmarks/quality.py`` run only ranking losses by default (``gbrank compare
--losses ordinal`` runs one). One value per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gbrank._kernels import ordinal as kernels
from gbrank._kernels.threads import PARALLEL_NS, chunk_count, run_chunks
from gbrank._validation import check_choice
from gbrank.losses.base import Array, Batch, Loss


def _run_rows(kernel: Callable[[int, int], None], n_rows: int, row_ns: float) -> None:
    """Run ``kernel(first, stop)`` over ranges of rows covering ``0 .. n_rows``.

    Small work (below :data:`~gbrank._kernels.threads.PARALLEL_NS`) runs in the
    calling thread in one call; larger work in chunks of about
    :data:`~gbrank._kernels.threads.CHUNK_NS` dealt to the kernel threads.
    """
    total = n_rows * row_ns
    if total < PARALLEL_NS or n_rows < 2:
        kernel(0, n_rows)
        return
    n_chunks = chunk_count(total, n_rows)
    bounds = np.linspace(0, n_rows, n_chunks + 1).astype(np.int64)
    run_chunks(lambda _, c: kernel(int(bounds[c]), int(bounds[c + 1])), n_chunks)


class PointwiseMeanSquaredError(Loss):
    r"""Squared error of each score against its label (rax ``pointwise_mse_loss``).

    Notes
    -----
    Per valid row with label :math:`y`, score :math:`s` and weight :math:`w`:

    .. math::

        \ell = w\,(s - y)^2, \qquad
        \frac{\partial \ell}{\partial s} = 2 w (s - y), \qquad
        \frac{\partial^2 \ell}{\partial s^2} = 2 w

    The hessian is exact. Ignored rows (label < 0 or masked) contribute nothing;
    labels are any numbers >= 0. A pointwise loss (``needs_groups = False``):
    query groups are accepted and not needed. The default reduction, rax's, is
    ``"mean_over_valid"``: the weighted sum divided by the number of valid rows of
    the whole batch (TF-Ranking's estimator ``SUM_BY_NONZERO_WEIGHTS`` agrees
    for 0/1 weights). TF-Ranking's Keras ``MeanSquaredLoss`` (``Reduction.AUTO``)
    divides by all rows, padded ones included: ``reduction="sum_over_batch_size"``.
    The activation is the identity.

    See Also
    --------
    PairwiseMeanSquaredError : squared error of score differences (keras_rs).
    lightgbm : ``objective="l2"`` (half this loss), the native twin.

    References
    ----------
    google/rax, ``rax.pointwise_mse_loss`` (rax/_src/losses.py);
    TensorFlow Ranking, ``tfr.keras.losses.MeanSquaredLoss``.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PointwiseMeanSquaredError()
    >>> loss.loss([1.0, 0.0, -1.0], [0.0, 2.0, 5.0])  # (1 + 4) / 2 valid rows
    2.5
    """

    name = "pointwise_mse"
    needs_groups = False
    default_reduction = "mean_over_valid"

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Per-row squared error, gradient and hessian."""
        valid = batch.valid
        weights = np.where(valid, batch.weights, 0.0)
        residual = np.where(valid, batch.scores - batch.labels, 0.0)
        weighted = weights * residual
        values = weighted * residual if need_loss else np.zeros(residual.size)
        return values, 2.0 * weighted, 2.0 * weights

    def compute_activation(self, batch: Batch) -> Array:
        """Return the scores unchanged (a copy)."""
        return batch.scores.copy()


class OrdinalLoss(Loss):
    r"""TF-Ranking's ``OrdinalLoss`` on one score per row, via fixed thresholds.

    Parameters
    ----------
    thresholds : sequence of float, default (0.5, 1.5, 2.5, 3.5)
        Strictly increasing cut points :math:`\theta_1 < \dots < \theta_K`, one per
        label grade above 0; labels must lie in :math:`[0, K]`. The default suits
        graded labels 0..4 (LETOR, MSLR-WEB): a score near ``y`` predicts grade
        ``y``. Thresholds are fixed: a GBDT objective only moves scores.
    use_fraction_label : bool, default False
        False: labels must be integers, and grade :math:`y` passes thresholds
        :math:`1..y`. True (TF-Ranking's ``use_fraction_label``): a fractional
        label passes a fraction of the next threshold, :math:`o_k =
        \mathrm{clip}(y - k + 1, 0, 1)` (1.2 passes threshold 1 and 0.2 of 2).

    Notes
    -----
    TF-Ranking's ``OrdinalLoss(ordinal_size=K)`` takes K logits per row (a
    K-output head). A booster gives one score :math:`s` per row, so gbrank feeds
    the cumulative link :math:`\mathrm{logit}_k = s - \theta_k` (one score and
    K shared cut points, as in CORAL); TF-Ranking given these logits returns
    exactly this loss. Per valid row, with :math:`o_k = 1[y \ge k]` and weight
    :math:`w`:

    .. math::

        \ell = w \sum_{k=1}^K \big[\log(1 + e^{s - \theta_k})
                - o_k (s - \theta_k)\big]

        \frac{\partial \ell}{\partial s} = w \sum_k \big(\sigma(s - \theta_k)
                - o_k\big), \qquad
        \frac{\partial^2 \ell}{\partial s^2} = w \sum_k \sigma(s - \theta_k)
                \,\sigma(\theta_k - s) > 0

    The hessian is exact (the loss is strictly convex in :math:`s`). This is K
    binary classifiers "is the grade >= k?" sharing one score, not the
    ordered-logit likelihood :math:`-\log(\sigma(s - \theta_y) - \sigma(s -
    \theta_{y+1}))`. A pointwise loss (``needs_groups = False``): it is not
    invariant to shifting a query's scores (the thresholds anchor them); query
    groups are accepted and not needed. Ignored rows contribute nothing. Default
    reduction, TF-Ranking Keras's (``Reduction.AUTO``): ``"sum_over_batch_size"``,
    the sum divided by all rows, padded ones included. Labels outside
    :math:`[0, K]` raise ``ValueError`` (TF-Ranking treats grades above K as K).

    The activation is the expected grade under the model,
    :math:`\sum_k P(y \ge k) = \sum_k \sigma(s - \theta_k) \in (0, K)`.

    See Also
    --------
    SigmoidCrossEntropyLoss : one threshold on click labels.

    References
    ----------
    TensorFlow Ranking, ``tfr.keras.losses.OrdinalLoss``
    (tensorflow_ranking/python/losses_impl.py, ``OrdinalLoss``).
    W. Cao, V. Mirjalili and S. Raschka, "Rank consistent ordinal regression for
    neural networks with application to age estimation" (CORAL), Pattern
    Recognition Letters 140, 2020.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.OrdinalLoss(thresholds=(0.5, 1.5))
    >>> round(loss.loss([2.0, 0.0], [2.0, 0.0], reduction="sum"), 6)
    1.350981
    >>> loss.activation([2.0, 0.0]).round(6)  # expected grades
    array([1.440034, 0.559966])
    """

    name = "ordinal"
    needs_groups = False
    default_reduction = "sum_over_batch_size"

    def __init__(
        self,
        *,
        thresholds: Sequence[float] = (0.5, 1.5, 2.5, 3.5),
        use_fraction_label: bool = False,
    ):
        self.thresholds = thresholds
        self.use_fraction_label = use_fraction_label

    @property
    def label_bounds(self) -> tuple[float, float]:
        """Labels lie in ``[0, K]``, K the number of thresholds."""
        return (0.0, float(np.size(self.thresholds)))

    def check_params(self) -> None:
        """Validate the thresholds (finite, strictly increasing) and the flag."""
        try:
            values = np.asarray(self.thresholds, dtype=np.float64)
        except (TypeError, ValueError):
            values = np.empty(0)
        if (
            values.ndim != 1
            or values.size == 0
            or not np.all(np.isfinite(values))
            or np.any(np.diff(values) <= 0)
        ):
            raise ValueError(
                "thresholds must be a non-empty sequence of finite, strictly "
                f"increasing numbers (one per grade above 0), got {self.thresholds!r}."
            )
        check_choice(self.use_fraction_label, "use_fraction_label", (False, True))

    def check_labels(self, labels: Array) -> None:
        """Check labels lie in ``[0, K]`` and, unless fractions, are integers."""
        super().check_labels(labels)
        if self.use_fraction_label:
            return
        fractional = np.flatnonzero((labels >= 0) & (labels != np.floor(labels)))
        if fractional.size:
            bad = fractional[0]
            raise ValueError(
                f"ordinal needs integer labels in [0, {np.size(self.thresholds)}] "
                "(negative labels mark ignored rows; use_fraction_label=True "
                f"accepts fractions); y_true[{bad}] = {labels[bad].item()!r}."
            )

    def _theta(self) -> Array:
        return np.asarray(self.thresholds, dtype=np.float64)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Per-row sum of threshold cross-entropies, gradient and hessian."""
        n_rows = batch.scores.size
        rows, out = batch.rows, self.outputs(batch)
        theta = self._theta()
        fraction = bool(self.use_fraction_label)
        _run_rows(
            lambda first, stop: kernels.ordinal(
                first, stop, rows, theta, fraction, need_loss, out
            ),
            n_rows,
            10.0 * theta.size,
        )
        return out

    def compute_activation(self, batch: Batch) -> Array:
        """Return the expected grade, the sum over k of ``sigma(s - theta_k)``."""
        z = batch.scores[:, None] - self._theta()[None, :]
        return np.exp(-np.logaddexp(0.0, -z)).sum(axis=1)

r"""Multiclass classification: softmax over classes, one row per sample."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gbrank._groups import make_groups, one_group
from gbrank._validation import check_bool_mask, check_choice, check_positive
from gbrank.losses.base import Array, Batch, Inputs, Loss, _row_weights

NAMED_HESSIAN_FACTORS: dict[str, Callable[[int], float]] = {
    "exact": lambda n_classes: 1.0,
    # the hessians of the engines' native multiclass objectives (measured, SPEC 4)
    "lightgbm": lambda n_classes: n_classes / (n_classes - 1.0),
    "xgboost": lambda n_classes: 2.0,
}
"""Hessian factors by name, as functions of the number of classes K."""


class CategoricalCrossEntropyLoss(Loss):
    r"""Categorical cross-entropy (ml4ir ``CategoricalCrossEntropy``).

    Parameters
    ----------
    hessian_factor : float, {"exact", "lightgbm", "xgboost"} or None, default None
        The hessian handed to boosters is :math:`c\,w\,p_k(1 - p_k)`.
        ``"exact"`` (c = 1) is the exact diagonal; ``"lightgbm"`` (c = K/(K-1))
        reproduces LightGBM's native ``multiclass`` objective; ``"xgboost"``
        (c = 2) reproduces XGBoost's ``multi:softprob``. None follows the engine:
        ``"exact"`` for :meth:`grad_hess`, the engine's own factor inside the
        LightGBM and XGBoost adapters.

    Notes
    -----
    Scores are 2-D ``(n_samples, n_classes)``; labels are integer class ids
    0..K-1 (shape ``(n_samples,)``) or one-hot rows; a negative class id marks an
    ignored row. With :math:`p = \mathrm{softmax}(s)` over the K classes:

    .. math::

        \ell = -w \log p_y, \qquad
        \frac{\partial \ell}{\partial s_k} = w\,(p_k - \mathbb{I}(k = y)), \qquad
        \frac{\partial^2 \ell}{\partial s_k^2} = w\,p_k (1 - p_k)

    computed with a stable log-softmax. The default reduction is the mean over
    samples (``"sum_over_batch_size"``), as ml4ir's.

    References
    ----------
    .. [1] salesforce/ml4ir, ``ml4ir.applications.classification.model.losses.\
       categorical_cross_entropy.CategoricalCrossEntropy``.
    .. [2] LightGBM, ``objective="multiclass"`` (softmax objective), Parameters
       documentation.

    See Also
    --------
    ml4ir.applications.classification.model.losses.categorical_cross_entropy.\
CategoricalCrossEntropy
    lightgbm : ``objective="multiclass"``, the native twin.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.CategoricalCrossEntropyLoss()
    >>> round(loss.loss([0, 1], [[0.0, 0.0], [0.0, 0.0]]), 6)  # log 2
    0.693147
    """

    name = "categorical_cross_entropy"
    needs_groups = False
    is_multiclass = True

    def __init__(self, *, hessian_factor: float | str | None = None):
        self.hessian_factor = hessian_factor

    def for_engine(self, engine: str) -> Loss:
        """Copy with ``hessian_factor`` set to ``engine``'s native factor if None.

        An engine without a named factor gets the exact hessian.
        """
        if self.hessian_factor is None:
            native = engine if engine in NAMED_HESSIAN_FACTORS else "exact"
            return type(self)(hessian_factor=native)
        return self

    def check_params(self) -> None:
        """Validate the hessian factor."""
        if isinstance(self.hessian_factor, str):
            check_choice(self.hessian_factor, "hessian_factor", NAMED_HESSIAN_FACTORS)
        elif self.hessian_factor is not None:
            check_positive(self.hessian_factor, "hessian_factor")

    def _factor(self, n_classes: int) -> float:
        factor = self.hessian_factor
        if factor is None or isinstance(factor, str):
            return NAMED_HESSIAN_FACTORS[factor or "exact"](n_classes)
        return float(factor)

    def _flatten(self, inputs: Inputs) -> Batch:
        """Validate class ids (or one-hot rows) and 2-D scores; one row a sample."""
        scores = inputs.scores
        if scores.ndim != 2 or scores.shape[1] < 2:
            raise ValueError(
                f"{self.name} needs 2-D scores y_pred of shape (n_samples, "
                f"n_classes) with n_classes >= 2, got shape {scores.shape}."
            )
        n_samples = scores.shape[0]
        classes = _class_ids(inputs.labels, scores.shape)
        if inputs.mask is not None:
            keep = check_bool_mask(inputs.mask, "mask")
            if keep.shape != (n_samples,):
                raise ValueError(
                    f"mask has shape {keep.shape}; expected ({n_samples},)."
                )
            classes = np.where(keep, classes, -1.0)
        weights, weight_sum = _row_weights(inputs.sample_weight, (n_samples,), None)
        groups = (
            one_group(n_samples)  # samples are not ranked: no query structure
            if inputs.group is None and inputs.qid is None
            else make_groups(n_samples, group=inputs.group, qid=inputs.qid)
        )
        return Batch(classes, scores, weights, groups, None, weight_sum)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Per-sample cross-entropy, gradient and hessian over the classes."""
        scores = batch.scores
        valid = batch.valid
        weights = np.where(valid, batch.weights, 0.0)[:, None]
        log_p = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
        onehot = np.zeros_like(scores)
        rows = np.flatnonzero(valid)
        onehot[rows, batch.labels[rows].astype(np.int64)] = 1.0
        values = -(weights * onehot * log_p).sum(axis=1)
        p = np.exp(log_p)
        grad = weights * (p - onehot)
        hess = self._factor(scores.shape[1]) * weights * p * (1.0 - p)
        return values, grad, hess

    def compute_activation(self, batch: Batch) -> Array:
        """Softmax over the classes."""
        scores = batch.scores
        return np.exp(scores - np.logaddexp.reduce(scores, axis=1, keepdims=True))


def _class_ids(labels: Array, shape: tuple[int, ...]) -> Array:
    """Class ids (float64, -1 = ignored) from ids or one-hot rows; checked."""
    n_samples, n_classes = shape
    if labels.shape == shape:
        is_binary = np.all((labels == 0) | (labels == 1), axis=1)
        one_hot_rows = labels.sum(axis=1) == 1
        bad = np.flatnonzero(~(is_binary & one_hot_rows))
        if bad.size:
            raise ValueError(
                f"one-hot y_true must have exactly one 1 per row; row {bad[0]} is "
                f"{labels[bad[0]].tolist()}."
            )
        return labels.argmax(axis=1).astype(np.float64)
    if labels.shape != (n_samples,):
        raise ValueError(
            f"y_true has shape {labels.shape}; expected class ids ({n_samples},) "
            f"or one-hot rows {shape}."
        )
    bad = np.flatnonzero((labels != np.round(labels)) | (labels >= n_classes))
    if bad.size:
        raise ValueError(
            f"y_true must hold integer class ids in 0..{n_classes - 1} (negative = "
            f"ignored); y_true[{bad[0]}] = {labels[bad[0]].item()!r}."
        )
    return np.where(labels >= 0, labels, -1.0)

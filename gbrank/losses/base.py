"""The loss base class: input checks, grouping, keras-style batches, reductions.

Subclasses hold only the math: :meth:`Loss.compute` gets a validated
:class:`Batch` (float64 labels with -1 on ignored rows, float64 scores, per-row
weights, group offsets) and returns the unreduced weighted loss, the gradient and
the hessian of the summed loss with respect to the raw scores; its
``need_loss`` flag lets :meth:`Loss.grad_hess` skip the loss values.

This module imports no engine and no scikit-learn: the adapters live with the
engines (``gbrank.lightgbm.objective(loss)``, ...), and the properties
``loss.lgb_objective``, ... are aliases that name them (:mod:`gbrank._aliases`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._aliases import engine_alias
from gbrank._groups import Groups, make_groups, one_group
from gbrank._kernels.common import Rows, Terms
from gbrank._kernels.threads import run_groups
from gbrank._params import Parameters
from gbrank._validation import (
    as_float_array,
    check_bool_mask,
    check_choice,
    check_label_range,
    check_nonnegative,
    check_positive,
    check_same_shape,
)

HESSIAN_FLOOR = 1e-16
"""Smallest hessian handed to a booster (ignored and zero-weight rows get it)."""

MIN_TEMPERATURE = 1e-150
"""Smallest temperature of a loss: hessians scale as 1/T², which stays below 1e300,
leaving float64 room for the weights and the number of pairs."""

REDUCTIONS = (
    "sum",
    "sum_over_batch_size",
    "mean",
    "mean_with_sample_weight",
    "mean_over_valid",
    "none",
)

Array = NDArray[np.float64]

GroupKernel = Callable[[int, int, Rows, Terms], None]
"""A kernel over the groups ``first <= g < stop``, writing into ``out``."""


@dataclass(frozen=True, eq=False)
class Batch:
    """Validated, flattened inputs of one loss call.

    Attributes
    ----------
    labels : ndarray of float64, shape (n_rows,) or (n_rows, n_classes)
        Labels; -1 on ignored rows (negative label or mask False).
    scores : ndarray of float64, shape (n_rows,) or (n_rows, n_classes)
        Raw scores.
    weights : ndarray of float64, shape (n_rows,)
        Per-row sample weights (ones when none were given).
    groups : Groups
        Query groups of the rows.
    layout : tuple of int or None
        Shape of a keras-style batch ``(batch, list_size)``, or None for flat rows.
    weight_sum : float or None
        Sum of the sample weights as passed (None when none were given).
    """

    labels: Array
    scores: Array
    weights: Array
    groups: Groups
    layout: tuple[int, int] | None
    weight_sum: float | None

    @property
    def valid(self) -> NDArray[np.bool_]:
        """Rows that take part in the loss."""
        return self.labels >= 0

    @property
    def rows(self) -> Rows:
        """The flat inputs as the kernels take them (:mod:`gbrank._kernels`)."""
        return Rows(self.labels, self.scores, self.weights, self.groups.offsets)


@dataclass(frozen=True, eq=False)
class Inputs:
    """The arguments of one loss call, labels and scores converted to float64.

    What :meth:`Loss._flatten` validates and turns into a :class:`Batch`.

    Attributes
    ----------
    labels, scores : ndarray of float64, 1-D or 2-D
        ``y_true`` and ``y_pred`` (a dict's ``"labels"`` for ``y_true``).
    group, qid, sample_weight, mask
        As passed (a dict ``y_true``'s ``"mask"`` for ``mask``).
    """

    labels: Array
    scores: Array
    group: ArrayLike | None
    qid: ArrayLike | None
    sample_weight: ArrayLike | float | None
    mask: ArrayLike | None


class Loss(Parameters):
    """Base class of gbrank losses.

    A loss is its math: subclasses set the class attributes below and implement
    :meth:`compute` (unreduced loss, gradient, hessian of a validated
    :class:`Batch`) and :meth:`compute_activation`; the base class validates
    inputs, groups rows, applies reductions and floors hessians. Hyperparameters
    are keyword-only ``__init__`` arguments, stored unchanged (``get_params``,
    ``set_params``, ``repr``, ``==`` and ``hash`` follow from them) and checked
    by :meth:`check_params` at every call. Register a new loss with
    :func:`gbrank.register_loss` to make it available by name to
    :func:`gbrank.get_loss`, the estimators and the command line.

    Attributes
    ----------
    name : str
        Registry key (``gbrank.get_loss(name)``).
    per_group : bool
        Whether the unreduced loss has one value per group (listwise losses) or one
        per row (pointwise losses; pairwise losses credit a pair to its higher row).
    needs_groups : bool
        Whether the loss works on query groups (ranking) or on independent rows.
    default_reduction : str
        Reduction used when ``reduction="auto"``.
    is_multiclass : bool
        Whether scores are 2-D ``(n_samples, n_classes)``.
    temperature : float or None
        The temperature dividing the scores (or their differences) inside the
        loss, its parameter; None for a loss without one.
    approx_hessian, hessian_bounds_exact, differentiable, label_bounds
        Properties of an instance (they may depend on the parameters): see
        each. A subclass sets a constant one as a class attribute, or
        overrides the property.

    The first five are facts about the class (``gbrank.LOSSES[name].per_group``).
    """

    name: ClassVar[str]
    per_group: ClassVar[bool] = False
    needs_groups: ClassVar[bool] = True
    default_reduction: ClassVar[str] = "sum_over_batch_size"
    is_multiclass: ClassVar[bool] = False
    temperature: float | None = None

    @property
    def approx_hessian(self) -> bool:
        """Whether :meth:`grad_hess` gives a positive surrogate, not the exact one."""
        return False

    @property
    def hessian_bounds_exact(self) -> bool:
        """For a surrogate: whether it is >= the exact diagonal (the default rule).

        A loss whose surrogate is not (a Gauss-Newton hessian) says why.
        """
        return True

    @property
    def differentiable(self) -> bool:
        """Whether :meth:`grad_hess` is the derivative of a smooth loss.

        False for kinks and for weights frozen at the current ranks.
        """
        return True

    @property
    def label_bounds(self) -> tuple[float, float] | None:
        """Closed range of valid (non-ignored) labels (None: any label >= 0)."""
        return None

    # -- public API -----------------------------------------------------------------

    def loss(
        self,
        y_true: ArrayLike | dict[str, ArrayLike],
        y_pred: ArrayLike,
        *,
        group: ArrayLike | None = None,
        qid: ArrayLike | None = None,
        sample_weight: ArrayLike | float | None = None,
        mask: ArrayLike | None = None,
        reduction: str | None = "auto",
    ) -> float | Array:
        """Loss value.

        Parameters
        ----------
        y_true : array-like of shape (n_rows,) or (batch, list_size), or dict
            Labels; a label < 0 marks an ignored row. A dict ``{"labels", "mask"}``
            carries a mask as keras_rs accepts it.
        y_pred : array-like, same shape as ``y_true``
            Raw scores (before :meth:`activation`).
        group, qid : array-like, optional
            Query structure of flat rows: group sizes or per-row query ids (at most
            one). With neither, 1-D input is one list and 2-D input is a padded
            batch whose rows are the lists.
        sample_weight : float or array-like, optional
            Per-row weights, shape (n_rows,) or (batch, list_size); per-list
            weights (batch, 1) or (batch,) for a 2-D batch; or one scalar.
        mask : array-like of bool, optional
            False marks an ignored row (as a negative label does).
        reduction : str or None, default "auto"
            ``"auto"`` uses the loss's ``default_reduction``. ``"sum"``;
            ``"sum_over_batch_size"`` and ``"mean"``: sum divided by the number of
            unreduced values (rows, ignored ones included; or groups for listwise
            losses); ``"mean_with_sample_weight"``: sum divided by the sum of the
            weights as passed; ``"mean_over_valid"``: sum divided by the number of
            non-ignored rows (groups); ``"none"`` or None: the unreduced values.

        Returns
        -------
        float or ndarray
            A zero divisor gives 0. Unreduced values have shape (n_rows,) (or
            (n_groups,)) for flat input and (batch, list_size) (or (batch,)) for a
            keras-style batch; 1-D input without groups is a batch of one.
        """
        reduction = self._reduction("none" if reduction is None else reduction)
        batch = self._batch(y_true, y_pred, group, qid, sample_weight, mask)
        values = self._values(batch)
        with np.errstate(over="ignore"):
            result = _reduce(values, batch, reduction, self.per_group)
        self._check_reduced(values, result, reduction)
        return result

    def loss_parts(
        self,
        y_true: ArrayLike | dict[str, ArrayLike],
        y_pred: ArrayLike,
        *,
        group: ArrayLike | None = None,
        qid: ArrayLike | None = None,
        sample_weight: ArrayLike | float | None = None,
        mask: ArrayLike | None = None,
        reduction: str = "auto",
    ) -> tuple[float, float | None]:
        """Numerator and divisor of a reduced loss, to combine parts of a data set.

        ``loss(..., reduction=reduction)`` is ``total / divisor`` (0 when the
        divisor is 0), or ``total`` for ``"sum"``, whose divisor is None. For
        data cut into parts that each hold whole lists, the loss of the whole is
        ``sum(totals) / sum(divisors)`` (up to rounding): how the Dask estimators
        combine the loss of an eval set's partitions.

        Parameters
        ----------
        y_true, y_pred, group, qid, sample_weight, mask
            As in :meth:`loss`.
        reduction : str, default "auto"
            Any reduction of :meth:`loss` but ``"none"``.

        Returns
        -------
        total : float
            Sum of the unreduced loss values.
        divisor : float or None
            Number of rows or lists (valid ones for ``"mean_over_valid"``), sum
            of the weights (``"mean_with_sample_weight"``), or None (``"sum"``).

        Examples
        --------
        >>> import gbrank
        >>> loss = gbrank.get_loss("sigmoid_cross_entropy")
        >>> y, s = [1.0, 0.0, -1.0, 1.0], [0.5, -0.2, 3.0, 1.0]
        >>> total, divisor = loss.loss_parts(y, s)
        >>> divisor  # mean_over_valid: the row labelled -1 is ignored
        3.0
        >>> bool(abs(total / divisor - loss.loss(y, s)) < 1e-15)
        True
        """
        reduction = self._reduction(reduction)
        if reduction == "none":
            raise ValueError(
                "loss_parts needs a reduction that sums (not 'none'); use "
                "loss(..., reduction='none') for the unreduced values."
            )
        batch = self._batch(y_true, y_pred, group, qid, sample_weight, mask)
        values = self._values(batch)
        with np.errstate(over="ignore"):
            total, divisor = _reduction_parts(values, batch, reduction, self.per_group)
        self._check_reduced(values, total, reduction)
        return total, divisor

    def _reduction(self, reduction: str) -> str:
        """Check a reduction's name; ``"auto"`` is the loss's ``default_reduction``."""
        check_choice(reduction, "reduction", ("auto", *REDUCTIONS))
        return self.default_reduction if reduction == "auto" else reduction

    def _values(self, batch: Batch) -> Array:
        """Unreduced loss values of a batch, checked finite."""
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            values, _, _ = self.compute(batch, need_loss=True)
        self._check_finite(batch, values, "loss")
        return values

    def _check_reduced(self, values: Array, result: Any, reduction: str) -> None:
        """Raise if finite loss values overflow float64 when reduced."""
        if not np.all(np.isfinite(result)):
            raise ValueError(
                f"{self.name}: the loss values are finite (up to "
                f"{np.abs(values).max():.3g}) but their {reduction!r} reduction "
                "overflows float64; use reduction='none' or scale the inputs down."
            )

    def grad_hess(
        self,
        y_true: ArrayLike | dict[str, ArrayLike],
        y_pred: ArrayLike,
        *,
        group: ArrayLike | None = None,
        qid: ArrayLike | None = None,
        sample_weight: ArrayLike | float | None = None,
        mask: ArrayLike | None = None,
    ) -> tuple[Array, Array]:
        """Gradient and hessian of ``loss(..., reduction="sum")`` w.r.t. ``y_pred``.

        Parameters are those of :meth:`loss`.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``y_pred``
            Ignored rows get gradient 0. The hessian is the exact diagonal, or a
            documented surrogate when ``approx_hessian`` is True, floored at
            ``HESSIAN_FLOOR`` (1e-16) so that boosters get a finite positive value.

        Raises
        ------
        ValueError
            If the inputs are so extreme that float64 overflows (labels, scores
            or weights near 1e308): the message names the query and the input
            to scale down. Boosters never get NaN or inf.
        """
        batch = self._batch(y_true, y_pred, group, qid, sample_weight, mask)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            _, grad, hess = self.compute(batch, need_loss=False)
        return self._finite(batch, grad, hess, np.shape(y_pred))

    def booster_grad_hess(
        self,
        y_true: ArrayLike | dict[str, ArrayLike],
        y_pred: ArrayLike,
        *,
        group: ArrayLike | None = None,
        qid: ArrayLike | None = None,
        sample_weight: ArrayLike | float | None = None,
        mask: ArrayLike | None = None,
    ) -> tuple[Array, Array]:
        """Gradient and hessian handed to the boosters: the loss's Newton step.

        The engine adapters (``loss.lgb_objective``, ``loss.xgb_objective``, the
        estimators) call this. It equals :meth:`grad_hess` unless the loss's
        booster parameters (documented per loss: pair selection, normalisation,
        curvature) shape the step; :meth:`loss` and :meth:`grad_hess` stay the
        neural twin's value and its derivative. Parameters are those of
        :meth:`loss`.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``y_pred``
            Finite; the hessian is floored at ``HESSIAN_FLOOR``.

        Raises
        ------
        ValueError
            As :meth:`grad_hess`, when float64 overflows.
        """
        batch = self._batch(y_true, y_pred, group, qid, sample_weight, mask)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            grad, hess = self.compute_booster(batch)
        return self._finite(batch, grad, hess, np.shape(y_pred))

    def _finite(
        self, batch: Batch, grad: Array, hess: Array, shape: tuple[int, ...]
    ) -> tuple[Array, Array]:
        """Floor the hessian, check both are finite, shape them like the scores."""
        hess = np.maximum(hess, HESSIAN_FLOOR)
        self._check_finite(batch, grad, "gradient")
        self._check_finite(batch, hess, "hessian")
        return grad.reshape(shape), hess.reshape(shape)

    def activation(
        self,
        y_pred: ArrayLike,
        *,
        group: ArrayLike | None = None,
        qid: ArrayLike | None = None,
        mask: ArrayLike | None = None,
    ) -> Array:
        """Apply the final activation to raw scores (sigmoid, softmax, ...).

        Parameters
        ----------
        y_pred : array-like
            Raw scores, flat (with ``group`` or ``qid``) or a 2-D padded batch.
        group, qid, mask : array-like, optional
            As in :meth:`loss`; masked rows get probability 0 under a softmax.

        Returns
        -------
        ndarray of float64, shape of ``y_pred``
        """
        scores = as_float_array(y_pred, "y_pred", ndim=(1, 2))
        labels = np.zeros(scores.shape[:1] if self.is_multiclass else scores.shape)
        batch = self._batch(labels, scores, group, qid, None, mask)
        result = self.compute_activation(batch)
        return result.reshape(scores.shape)

    def for_engine(self, engine: str) -> Loss:
        """Return the loss an engine adapter should use (engine defaults).

        Parameters
        ----------
        engine : str
            The engine's registry name (``gbrank.engines.available_engines()``).

        Returns
        -------
        Loss
            ``self`` unless a parameter's default depends on the engine.
        """
        return self

    # -- users' aliases of the engine adapters (SPEC section 9) ------------------------

    lgb_objective = engine_alias(
        "gbrank.lightgbm.objective",
        "LightGBM objective ``f(preds, train_data)``: ``gbrank.lightgbm.objective``.",
    )
    lgb_sklearn_objective = engine_alias(
        "gbrank.lightgbm.sklearn_objective",
        "LightGBM scikit-learn objective ``f(y_true, y_pred, weight, group)``: "
        "``gbrank.lightgbm.sklearn_objective``.",
    )
    lgb_metric = engine_alias(
        "gbrank.lightgbm.loss_metric",
        "LightGBM ``feval`` giving the loss value: ``gbrank.lightgbm.loss_metric``.",
    )
    xgb_objective = engine_alias(
        "gbrank.xgboost.objective",
        "XGBoost objective ``f(predt, dtrain)``: ``gbrank.xgboost.objective``.",
    )
    xgb_metric = engine_alias(
        "gbrank.xgboost.loss_metric",
        "XGBoost ``custom_metric`` giving the loss value: "
        "``gbrank.xgboost.loss_metric``.",
    )

    # -- the hooks a loss implements ------------------------------------------------

    def check_params(self) -> None:
        """Validate hyperparameters; raise ``ValueError`` naming the bad one.

        Called at every :meth:`loss`, :meth:`grad_hess` and :meth:`activation`
        call (``__init__`` only stores its arguments).
        """

    def check_labels(self, labels: Array) -> None:
        """Validate the flat labels of a call; raise ``ValueError`` naming one.

        Ignored rows hold -1. The default checks ``label_bounds``; called at
        every :meth:`loss`, :meth:`grad_hess` and :meth:`activation` call.

        Parameters
        ----------
        labels : ndarray of float64, shape (n_rows,)
        """
        if self.label_bounds is not None:
            check_label_range(labels, *self.label_bounds, self.name)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Return the unreduced weighted loss, the gradient and the hessian.

        Parameters
        ----------
        batch : Batch
            Validated, flat inputs.
        need_loss : bool, default True
            False in :meth:`grad_hess`: the loss values are not needed, and a loss
            may return zeros in their place.

        Returns
        -------
        values : ndarray of float64
            Shape (n_groups,) when ``per_group``, else (n_rows,) (or (n_rows,)
            for multiclass).
        grad, hess : ndarray of float64, shape of ``batch.scores``
            Derivatives of the summed loss w.r.t. the raw scores; the hessian is
            the exact diagonal or a documented positive surrogate (unfloored; the
            base class floors it at ``HESSIAN_FLOOR``). Ignored rows get 0.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute(batch, need_loss)."
        )

    def compute_booster(self, batch: Batch) -> tuple[Array, Array]:
        """Return the gradient and hessian of the booster's step (unfloored).

        By default the exact ones, :meth:`compute` without the loss values.
        """
        _, grad, hess = self.compute(batch, need_loss=False)
        return grad, hess

    def compute_activation(self, batch: Batch) -> Array:
        """Return the final activation of ``batch.scores`` (same shape)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_activation(batch)."
        )

    # -- running kernels -----------------------------------------------------------

    def outputs(self, batch: Batch) -> Terms:
        """Zeroed kernel outputs: the unreduced loss, the gradient, the hessian.

        The loss has one value per group when ``per_group``, else one per row.
        """
        n_rows = batch.scores.size
        n_values = batch.groups.n_groups if self.per_group else n_rows
        return Terms(np.zeros(n_values), np.zeros(n_rows), np.zeros(n_rows))

    def run_groups(self, batch: Batch, kernel: GroupKernel, cost: Array) -> Terms:
        """Run ``kernel(first, stop, rows, out)`` over every group; return ``out``.

        ``out`` is :meth:`outputs`; ``cost`` estimates each group's work
        (nanoseconds), by which the groups are dealt to the kernel threads
        (:func:`gbrank._kernels.threads.run_groups`).
        """
        rows, out = batch.rows, self.outputs(batch)
        run_groups(lambda first, stop: kernel(first, stop, rows, out), cost)
        return out

    # -- input handling ---------------------------------------------------------------

    def _batch(
        self,
        y_true: ArrayLike | dict[str, ArrayLike],
        y_pred: ArrayLike,
        group: ArrayLike | None,
        qid: ArrayLike | None,
        sample_weight: ArrayLike | float | None,
        mask: ArrayLike | None,
    ) -> Batch:
        self.check_params()
        if isinstance(y_true, dict):
            if mask is not None:
                raise ValueError("pass the mask either in y_true['mask'] or as mask=.")
            unknown = set(y_true) - {"labels", "mask"}
            if "labels" not in y_true or unknown:
                raise ValueError(
                    "a dict y_true must have the keys 'labels' and optionally "
                    f"'mask'; got {sorted(y_true)}."
                )
            mask = y_true.get("mask")
            y_true = y_true["labels"]
        scores = as_float_array(y_pred, "y_pred", ndim=(1, 2))
        labels = as_float_array(y_true, "y_true", ndim=(1, 2))
        return self._flatten(Inputs(labels, scores, group, qid, sample_weight, mask))

    def _flatten(self, inputs: Inputs) -> Batch:
        """Turn converted inputs into a flat :class:`Batch` (ranking layout)."""
        labels, scores = inputs.labels, inputs.scores
        group, qid, mask = inputs.group, inputs.qid, inputs.mask
        check_same_shape(labels, "y_true", scores, "y_pred")
        layout: tuple[int, int] | None = None
        if scores.ndim == 2:
            if group is not None or qid is not None:
                raise ValueError(
                    "2-D y_true/y_pred is a padded batch (batch, list_size) whose "
                    "rows are the lists; do not pass group or qid with it "
                    "(flatten the arrays to use group sizes)."
                )
            layout = (scores.shape[0], scores.shape[1])
            n_lists, list_size = layout
            groups = Groups(np.arange(0, n_lists * list_size + 1, list_size))
        elif group is None and qid is None:
            # a ranking loss reads one 1-D list as keras_rs does (one unbatched
            # list); other losses need no groups at all
            layout = (1, scores.size) if self.needs_groups else None
            groups = one_group(scores.size)
        else:
            groups = make_groups(scores.size, group=group, qid=qid)
        valid = labels >= 0
        if mask is not None:
            mask_array = check_bool_mask(mask, "mask")
            check_same_shape(mask_array, "mask", labels, "y_true")
            valid &= mask_array
        flat_labels = np.where(valid, labels, -1.0).ravel()
        self.check_labels(flat_labels)
        weights, weight_sum = _row_weights(inputs.sample_weight, labels.shape, layout)
        return Batch(flat_labels, scores.ravel(), weights, groups, layout, weight_sum)

    def _check_finite(self, batch: Batch, values: Array, what: str) -> None:
        """Raise naming the query and the input to scale if float64 overflowed."""
        if np.isfinite(values).all():
            return
        flat = values.reshape(values.shape[0], -1)
        first = int(np.flatnonzero(~np.isfinite(flat).all(axis=1))[0])
        offsets = batch.groups.offsets
        if what == "loss" and self.per_group:
            group, where = first, f"query {first}"
        else:
            group = int(np.searchsorted(offsets, first, side="right")) - 1
            where = f"row {first} (query {group})"
        rows = slice(int(offsets[group]), int(offsets[group + 1]))
        valid = batch.valid[rows]
        sizes = {
            "y_true": np.abs(batch.labels[rows][valid]),
            "y_pred": np.abs(batch.scores[rows][valid]),
            "sample_weight": batch.weights[rows][valid],
        }
        largest = {key: float(v.max()) if v.size else 0.0 for key, v in sizes.items()}
        shown = ", ".join(f"{key} {value:.3g}" for key, value in largest.items())
        temperature = self.temperature
        if isinstance(temperature, float) and temperature < 1.0:
            largest["1/temperature"] = 1.0 / temperature
            shown += f", temperature {temperature:.3g}"
        culprit = max(largest, key=largest.__getitem__)
        fix = (
            "raise temperature"
            if culprit == "1/temperature"
            else f"scale {culprit} down"
        )
        raise ValueError(
            f"{self.name}: the {what} overflows float64 at {where}; the largest "
            f"magnitudes in that query are {shown}. gbrank computes exactly, "
            f"without clipping: {fix}."
        )


def check_temperature(value: object) -> float:
    """Validate a loss's temperature: a finite number >= ``MIN_TEMPERATURE``.

    Parameters
    ----------
    value : object
        The ``temperature`` parameter.

    Returns
    -------
    float
    """
    temperature = check_positive(value, "temperature")
    if temperature < MIN_TEMPERATURE:
        raise ValueError(
            f"temperature={value!r} is too small: the hessians scale as "
            f"1/temperature² and would overflow float64; use temperature >= "
            f"{MIN_TEMPERATURE:g}."
        )
    return temperature


def _row_weights(
    sample_weight: ArrayLike | float | None,
    shape: tuple[int, ...],
    layout: tuple[int, int] | None,
) -> tuple[Array, float | None]:
    """Per-row weights and the sum of the weights as passed."""
    n_rows = int(np.prod(shape))
    if sample_weight is None:
        return np.ones(n_rows), None
    weights = as_float_array(sample_weight, "sample_weight", ndim=(0, 1, 2))
    check_nonnegative(weights, "sample_weight")
    with np.errstate(over="ignore"):
        weight_sum = float(weights.sum())
    if weight_sum == np.inf:
        raise ValueError(
            f"sample_weight sums to more than float64 can hold (its largest weight "
            f"is {weights.max():.3g}); scale the weights down."
        )
    if weights.ndim == 0:
        return np.full(n_rows, float(weights)), weight_sum
    if weights.shape == shape:
        return weights.ravel(), weight_sum
    if layout is not None:  # a padded batch, or one unbatched list (keras_rs)
        n_lists, list_size = layout
        if weights.shape in ((n_lists,), (n_lists, 1)):
            return np.repeat(weights.ravel(), list_size), weight_sum
    per_list = {
        2: " or one weight per list (batch,) / (batch, 1)",
        1: " or one weight for the list (1,)" if layout is not None else "",
    }
    raise ValueError(
        f"sample_weight has shape {weights.shape}; expected a scalar or the shape of "
        f"y_true {shape}{per_list[len(shape)]}."
    )


def _reduce(values: Array, batch: Batch, reduction: str, per_group: bool) -> Any:
    """Apply a keras-style reduction to unreduced per-row or per-group values."""
    if reduction == "none":
        if batch.layout is None:
            return values
        n_lists, list_size = batch.layout
        return values.reshape((n_lists,) if per_group else (n_lists, list_size))
    total, divisor = _reduction_parts(values, batch, reduction, per_group)
    if divisor is None:
        return total
    return total / divisor if divisor else 0.0


def _reduction_parts(
    values: Array, batch: Batch, reduction: str, per_group: bool
) -> tuple[float, float | None]:
    """Sum of ``values`` and the divisor of ``reduction`` (None for ``"sum"``)."""
    total = float(values.sum())
    if reduction == "sum":
        return total, None
    if reduction == "mean_with_sample_weight" and batch.weight_sum is not None:
        divisor = batch.weight_sum
    elif reduction == "mean_over_valid":
        valid = batch.valid
        if per_group:
            counts = np.add.reduceat(valid, batch.groups.offsets[:-1])
            divisor = float(np.count_nonzero(counts))
        else:
            divisor = float(np.count_nonzero(valid))
    else:
        divisor = float(values.shape[0])
    return total, divisor

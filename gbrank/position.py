r"""Position bias: learned per-position offsets and inverse-propensity weights.

Logged clicks depend on where a row was shown as well as on its relevance. gbrank
offers the two usual corrections for every loss (except multiclass
``categorical_cross_entropy``) and both engines. Both need the display position of
every training row, an integer >= 1 (1 = top).

* :class:`LearnedPositionBias` fits one additive score offset per position
  alongside the trees, as ml4ir's ``FixedAdditivePositionalBias`` does in a neural
  ranker. Training evaluates the loss at ``tree score + offset[position]``; the
  trees never contain the offsets, so prediction ignores them.
* :class:`PowerLawPropensity` and :class:`TablePropensity` model the examination
  probability (propensity) :math:`p(k)` of position :math:`k`; clicked rows are
  weighted by :math:`1 / p(k)` (inverse-propensity weighting, IPW).
  :func:`ipw_weights` does the same with per-row propensities.

Pass one of them as ``position_bias`` to :class:`~gbrank.GBRankRegressor` (with
``fit(..., position=...)``), to :class:`gbrank.lightgbm.LightGBMObjective` or to
:class:`gbrank.xgboost.XGBoostObjective`.

Examples
--------
>>> import numpy as np
>>> from gbrank.position import LearnedPositionBias, PowerLawPropensity
>>> LearnedPositionBias(max_position=10)
LearnedPositionBias(max_position=10)
>>> PowerLawPropensity(eta=1.0).weights([1, 0, 1], [1, 2, 4]).tolist()
[1.0, 1.0, 4.0]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._params import Parameters
from gbrank._validation import (
    INT_LIMIT,
    as_float_array,
    check_int,
    check_nonnegative,
    check_real,
)

Array = NDArray[np.float64]

DEFAULT_MAX_POSITION = 1000
"""Offsets :class:`LearnedPositionBias` learns by default: positions 1 to 1000;
rows shown further down share the offset of position 1000."""

MAX_POSITION_LIMIT = 1_000_000
"""Largest ``max_position`` (a million offsets take 8 MB)."""

__all__ = [
    "LearnedPositionBias",
    "PositionBias",
    "PowerLawPropensity",
    "Propensity",
    "TablePropensity",
    "check_positions",
    "ipw_weights",
    "resolve_position_bias",
]


def check_positions(
    position: ArrayLike, n_rows: int | None = None, name: str = "position"
) -> NDArray[np.int64]:
    """Validate display positions: one integer >= 1 per row.

    Parameters
    ----------
    position : array-like of shape (n_rows,)
        Integers (or integer-valued floats) >= 1; 1 is the top position.
    n_rows : int, optional
        Number of training rows (None: any length >= 1).
    name : str, default "position"
        The argument's name, used in error messages.

    Returns
    -------
    ndarray of int64, shape (n_rows,)

    Raises
    ------
    ValueError
        On a wrong shape or length, NaN or inf, a non-integer or a value < 1.
    TypeError
        On non-numeric input.
    """
    array = np.asarray(position)
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold integers >= 1 (display positions, 1 = top), got "
            f"dtype {array.dtype}."
        )
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} is empty: pass one display position per row.")
    if n_rows is not None and array.size != n_rows:
        raise ValueError(
            f"{name} has {array.size} entries for {n_rows} rows; pass one display "
            "position per row."
        )
    if array.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            raise ValueError(
                f"{name} contains NaN or inf at index {bad[0]}; every row needs a "
                "display position."
            )
        bad = np.flatnonzero(array != np.round(array))
        if bad.size:
            raise ValueError(
                f"{name} must hold integers; {name}[{bad[0]}] = {array[bad[0]]!r}."
            )
    bad = np.flatnonzero(array < 1)
    if bad.size:
        raise ValueError(
            f"{name} must be >= 1 (1 = top position); {name}[{bad[0]}] = "
            f"{array[bad[0]].item()!r}."
        )
    bad = np.flatnonzero(array > INT_LIMIT)
    if bad.size:
        raise ValueError(
            f"{name} must be at most 2**62; {name}[{bad[0]}] = "
            f"{array[bad[0]].item()!r}. Positions past a few hundred share one "
            "learned offset anyway (LearnedPositionBias(max_position=))."
        )
    return array.astype(np.int64)


def ipw_weights(
    y_true: ArrayLike,
    propensity: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    max_weight: float | None = None,
) -> Array:
    r"""Inverse-propensity weights from per-row propensities.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,)
        Labels; rows with a label > 0 (clicked or relevant) are reweighted.
    propensity : array-like of shape (n_rows,)
        Examination probability of each row, in (0, 1].
    sample_weight : array-like of shape (n_rows,), optional
        Weights to multiply (ones when None).
    max_weight : float, optional
        Clip the inverse propensities at this value (a common variance control).

    Returns
    -------
    ndarray of float64, shape (n_rows,)
        :math:`w_i / p_i` for rows with :math:`y_i > 0`, :math:`w_i` otherwise.

    Notes
    -----
    Unbiased learning to rank (Joachims et al., 2017) divides the loss terms of
    the clicked rows by their propensity. In gbrank a pair of a pairwise loss
    carries the weight of its higher-labelled row and a listwise term of a row
    carries that row's weight, so reweighting the rows with a label > 0 weights
    exactly the clicked rows' terms. Rows without a click keep their weight.

    Examples
    --------
    >>> from gbrank.position import ipw_weights
    >>> ipw_weights([1, 0, 1], [0.5, 0.5, 0.25]).tolist()
    [2.0, 1.0, 4.0]
    """
    labels = as_float_array(y_true, "y_true", ndim=(1,))
    prop = as_float_array(propensity, "propensity", ndim=(1,))
    if prop.shape != labels.shape:
        raise ValueError(
            f"propensity has {prop.size} entries for {labels.size} rows; pass one "
            "per row."
        )
    bad = np.flatnonzero((prop <= 0) | (prop > 1))
    if bad.size:
        raise ValueError(
            f"propensity must lie in (0, 1]; propensity[{bad[0]}] = "
            f"{prop[bad[0]].item()!r}."
        )
    inverse = 1.0 / prop
    if max_weight is not None:
        inverse = np.minimum(inverse, _check_max_weight(max_weight))
    factor = np.where(labels > 0, inverse, 1.0)
    if sample_weight is None:
        return factor
    weights = as_float_array(sample_weight, "sample_weight", ndim=(1,))
    if weights.shape != labels.shape:
        raise ValueError(
            f"sample_weight has {weights.size} entries for {labels.size} rows."
        )
    check_nonnegative(weights, "sample_weight")
    return weights * factor


def _check_max_weight(max_weight: float) -> float:
    return float(check_real(max_weight, "max_weight", low=1.0))  # type: ignore[arg-type]


class PositionBias(Parameters):
    """Base class: parameters, equality and ``repr`` (fitted state is excluded)."""

    def fresh(self) -> PositionBias:
        """Return a new unfitted object with the same parameters."""
        return type(self)(**self.get_params())

    def check(self) -> None:
        """Validate the parameters; raise ``ValueError`` naming the bad one."""


class LearnedPositionBias(PositionBias):
    r"""One additive score offset per display position, fitted with the trees.

    Parameters
    ----------
    max_position : int or None, default None
        Positions beyond it share the offset of ``max_position``; at most
        1,000,000. None: every position seen in training up to 1000 has its
        own offset, and positions past 1000 share one (so a stray position of
        1e8 costs no memory).
    learning_rate : float, default 1.0
        Damping of the Newton step on the offsets, in (0, 1] (1: a full step).
    reg_lambda : float, default 0.0
        L2 penalty :math:`\tfrac{\lambda}{2} b_k^2` on each offset, shrinking
        offsets of rarely shown positions towards 0.

    Attributes
    ----------
    offsets_ : ndarray of float64, shape (n_positions,)
        ``offsets_[k - 1]`` is the offset :math:`b_k` of position ``k``; set by
        training. ``offsets_[0]`` (position 1) is 0.
    n_updates_ : int
        Boosting rounds that updated the offsets.

    Notes
    -----
    In every boosting round the objective evaluates the loss at
    :math:`s_i + b_{k(i)}` (tree score plus the offset of row i's position),
    hands its gradient :math:`g_i` and hessian :math:`h_i` to the booster for the
    trees, and takes one damped Newton step on each offset with the same
    derivatives:

    .. math::

        b_k \leftarrow b_k - \eta\,
            \frac{\sum_{i: k(i)=k} g_i + \lambda b_k}{\sum_{i: k(i)=k} h_i + \lambda}

    The step is exact for a loss whose rows of one position lie in different
    queries (one row per position and query) and uses the booster's hessian (or
    its documented surrogate) otherwise.

    Identifiability: adding a constant to all offsets does not change a ranking
    loss (a per-query shift) and is absorbed by the trees in a pointwise loss.
    gbrank pins position 1: :math:`b_1 = 0` is never updated, so ``offsets_[k-1]``
    is the score bonus of position k relative to the top position, the analogue
    of :math:`\log p(k) - \log p(1)` under an examination model. If no training
    row has position 1, the offsets are relative to an unshown top position.

    Prediction uses the trees only: the offsets model how the logged data were
    collected, not relevance.

    See Also
    --------
    ml4ir.base.model.layers.FixedAdditivePositionalBias : the neural twin.
    PowerLawPropensity : inverse-propensity weighting instead.

    Examples
    --------
    >>> import numpy as np
    >>> from gbrank.position import LearnedPositionBias
    >>> bias = LearnedPositionBias()
    >>> bias.start(np.array([1, 2, 3, 1, 2, 3]))
    >>> bias.update(np.array([1, 2, 3, 1, 2, 3]), np.array([0, .5, 1, 0, .5, 1]),
    ...             np.ones(6))
    >>> bias.offsets_.tolist()
    [0.0, -0.5, -1.0]
    """

    def __init__(
        self,
        *,
        max_position: int | None = None,
        learning_rate: float = 1.0,
        reg_lambda: float = 0.0,
    ) -> None:
        self.max_position = max_position
        self.learning_rate = learning_rate
        self.reg_lambda = reg_lambda

    def check(self) -> None:
        """Validate the parameters."""
        check_int(
            self.max_position,
            "max_position",
            maximum=MAX_POSITION_LIMIT,
            allow_none=True,
        )
        check_real(
            self.learning_rate, "learning_rate", low=0.0, high=1.0, low_open=True
        )
        check_real(self.reg_lambda, "reg_lambda", low=0.0)

    def _index(self, positions: NDArray[np.int64]) -> NDArray[np.int64]:
        """0-based offset index of each row (positions past the last share it)."""
        return np.minimum(positions, self.offsets_.size) - 1

    def start(self, positions: NDArray[np.int64]) -> None:
        """Reset the offsets to 0 for a new training run on ``positions``."""
        self.check()
        n_positions = (
            min(int(positions.max()), DEFAULT_MAX_POSITION)
            if self.max_position is None
            else int(self.max_position)
        )
        self.offsets_ = np.zeros(n_positions)
        self.n_updates_ = 0

    def offset(self, positions: NDArray[np.int64]) -> Array:
        """Return the current offset of each row.

        Parameters
        ----------
        positions : ndarray of int64, shape (n_rows,)

        Returns
        -------
        ndarray of float64, shape (n_rows,)
        """
        return self.offsets_[self._index(positions)]

    def update(self, positions: NDArray[np.int64], grad: Array, hess: Array) -> None:
        """One damped Newton step on the offsets (position 1 stays at 0).

        Parameters
        ----------
        positions : ndarray of int64, shape (n_rows,)
        grad, hess : ndarray of float64, shape (n_rows,)
            Gradient and hessian of the loss at tree scores plus offsets.
        """
        index = self._index(positions)
        n_positions = self.offsets_.size
        grad_sum = np.bincount(index, weights=grad, minlength=n_positions)
        hess_sum = np.bincount(index, weights=hess, minlength=n_positions)
        reg = float(self.reg_lambda)
        denominator = hess_sum + reg
        step = np.zeros(n_positions)
        np.divide(
            grad_sum + reg * self.offsets_, denominator, out=step, where=denominator > 0
        )
        step[0] = 0.0
        self.offsets_ = self.offsets_ - float(self.learning_rate) * step
        self.n_updates_ += 1


class Propensity(PositionBias):
    """Base class of examination-probability models for IPW.

    Subclasses implement :meth:`propensity`; :meth:`weights` divides the weights
    of clicked rows (label > 0) by it, as :func:`ipw_weights` describes.

    Parameters
    ----------
    max_weight : float or None
        Clip the inverse propensities at this value.
    """

    max_weight: float | None

    def propensity(self, positions: NDArray[np.int64]) -> Array:
        """Return the examination probability of each row, in (0, 1]."""
        raise NotImplementedError

    def weights(
        self,
        y_true: ArrayLike,
        position: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> Array:
        """Inverse-propensity weights of the rows.

        Parameters
        ----------
        y_true : array-like of shape (n_rows,)
            Labels; rows with a label > 0 get :math:`1 / p(k)`.
        position : array-like of int, shape (n_rows,)
            Display positions (>= 1).
        sample_weight : array-like of shape (n_rows,), optional
            Weights to multiply.

        Returns
        -------
        ndarray of float64, shape (n_rows,)
        """
        self.check()
        labels = np.asarray(y_true)
        positions = check_positions(position, labels.shape[0])
        return ipw_weights(
            labels,
            self.propensity(positions),
            sample_weight=sample_weight,
            max_weight=self.max_weight,
        )


class PowerLawPropensity(Propensity):
    r"""Power-law examination model, :math:`p(k) = (1/k)^\eta`.

    Parameters
    ----------
    eta : float, default 1.0
        Severity of the position bias (0: none). Joachims et al. (2017) use this
        model; eta around 1 is typical of web search.
    max_weight : float or None, default None
        Clip the inverse propensities :math:`k^\eta` at this value.

    Notes
    -----
    Clicked rows (label > 0) get weight :math:`k^\eta`, other rows keep theirs;
    see :func:`ipw_weights`.

    References
    ----------
    T. Joachims, A. Swaminathan, T. Schnabel. Unbiased learning-to-rank with
    biased feedback. WSDM 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from gbrank.position import PowerLawPropensity
    >>> PowerLawPropensity(eta=0.5).propensity(np.array([1, 4])).tolist()
    [1.0, 0.5]
    """

    def __init__(self, *, eta: float = 1.0, max_weight: float | None = None) -> None:
        self.eta = eta
        self.max_weight = max_weight

    def check(self) -> None:
        """Validate the parameters."""
        check_real(self.eta, "eta", low=0.0)
        if self.max_weight is not None:
            _check_max_weight(self.max_weight)

    def propensity(self, positions: NDArray[np.int64]) -> Array:
        r"""Return :math:`(1/k)^\eta` for each row's position k."""
        self.check()
        return np.power(positions.astype(np.float64), -float(self.eta))


class TablePropensity(Propensity):
    """Examination probabilities given per position.

    Parameters
    ----------
    propensities : sequence of float
        ``propensities[k - 1]`` is the examination probability of position k, in
        (0, 1]; positions past the end use the last value (e.g. estimated by a
        result-randomisation experiment).
    max_weight : float or None, default None
        Clip the inverse propensities at this value.

    Examples
    --------
    >>> import numpy as np
    >>> from gbrank.position import TablePropensity
    >>> TablePropensity(propensities=[1.0, 0.5]).propensity(np.array([1, 2, 3]))
    array([1. , 0.5, 0.5])
    """

    def __init__(
        self, *, propensities: ArrayLike, max_weight: float | None = None
    ) -> None:
        self.propensities = propensities
        self.max_weight = max_weight

    def check(self) -> None:
        """Validate the parameters."""
        table = as_float_array(self.propensities, "propensities", ndim=(1,))
        bad = np.flatnonzero((table <= 0) | (table > 1))
        if bad.size:
            raise ValueError(
                f"propensities must lie in (0, 1]; propensities[{bad[0]}] = "
                f"{table[bad[0]].item()!r}."
            )
        if self.max_weight is not None:
            _check_max_weight(self.max_weight)

    def propensity(self, positions: NDArray[np.int64]) -> Array:
        """Return the tabulated propensity of each row's position."""
        self.check()
        table = np.asarray(self.propensities, dtype=np.float64)
        return table[np.minimum(positions, table.size) - 1]


POSITION_BIAS_NAMES = ("learned", "ipw")


def resolve_position_bias(
    position_bias: str | PositionBias | None, *, fresh: bool = True
) -> PositionBias:
    """Turn a ``position_bias`` argument into an object.

    Parameters
    ----------
    position_bias : {"learned", "ipw"}, PositionBias or None
        None and ``"learned"`` give ``LearnedPositionBias()``, ``"ipw"`` gives
        ``PowerLawPropensity(eta=1.0)``.
    fresh : bool, default True
        Whether an object is copied by its parameters (estimators never fit the
        caller's object) or returned as it is (engine objectives fit it).

    Returns
    -------
    PositionBias
    """
    if position_bias is None or position_bias == "learned":
        return LearnedPositionBias()
    if position_bias == "ipw":
        return PowerLawPropensity()
    if isinstance(position_bias, PositionBias):
        position_bias.check()
        return position_bias.fresh() if fresh else position_bias
    raise ValueError(
        f"position_bias={position_bias!r} is not supported; pass None, 'learned', "
        "'ipw' or a gbrank.position object (LearnedPositionBias, "
        "PowerLawPropensity, TablePropensity)."
    )

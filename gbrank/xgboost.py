"""XGBoost adapters: gbrank losses as custom objectives and metrics.

Use them with the learning API,
``xgboost.train(params, dtrain, obj=loss.xgb_objective,
custom_metric=loss.xgb_metric)``; ``XGBRanker`` does not accept a custom
objective. Query groups come from the ``DMatrix`` (``group=`` or ``qid=``).

Examples
--------
>>> import numpy as np
>>> import xgboost as xgb
>>> import gbrank
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, size=60)
>>> loss = gbrank.get_loss("softmax")
>>> dtrain = xgb.DMatrix(X, y, qid=np.repeat([0, 1, 2], 20))
>>> booster = xgb.train({"max_depth": 2}, dtrain, 3, obj=loss.xgb_objective)
>>> booster.predict(dtrain, output_margin=True).shape
(60,)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._adapter import LossAdapter, ObjectiveAdapter
from gbrank._groups import Groups, groups_from_offsets
from gbrank._validation import as_float_array, check_nonnegative
from gbrank.losses.base import Loss
from gbrank.position import PositionBias

if TYPE_CHECKING:
    from xgboost import DMatrix

Array = NDArray[np.float64]


def dmatrix_groups(dmatrix: DMatrix, n_rows: int) -> Groups | None:
    """Query groups of a DMatrix (``group_ptr``), or None if it has none.

    Parameters
    ----------
    dmatrix : xgboost.DMatrix
    n_rows : int
        Number of rows of the predictions.

    Returns
    -------
    Groups or None
    """
    ptr = dmatrix.get_uint_info("group_ptr")
    return groups_from_offsets(ptr, n_rows) if ptr.size >= 2 else None


def _row_weights(dmatrix: DMatrix, groups: Groups | None, n_rows: int) -> Array | None:
    """Per-row weights of a DMatrix (None when it has none).

    XGBoost stores one weight per query for a ranking DMatrix; those are repeated
    over the query's rows. Per-row weights are accepted as well.
    """
    weights = dmatrix.get_weight().astype(np.float64)
    if weights.size == 0:
        return None
    if groups is not None and weights.size == groups.n_groups:
        return np.repeat(weights, groups.sizes)
    if weights.size == n_rows:
        return weights
    expected = f"{n_rows} (one per row)"
    if groups is not None:
        expected += f" or {groups.n_groups} (one per query)"
    raise ValueError(f"the DMatrix has {weights.size} weights; expected {expected}.")


class XGBoostObjective(ObjectiveAdapter):
    """Custom objective for ``xgboost.train(params, dtrain, obj=...)``.

    A ranking loss on a DMatrix without ``group``/``qid`` treats all rows as one
    query; losses that need no groups ignore them.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("xgboost")``.
    sample_weight : array-like of shape (n_rows,), optional
        Per-row weights of the training rows, used instead of the DMatrix's.
        XGBoost refuses a ranking DMatrix with per-row weights ("Size of weight
        must equal to the number of query groups"), so per-row weights that vary
        within a query (e.g. inverse-propensity weights) are given here.
    position : array-like of int, shape (n_rows,), optional
        Display position (1 = top) of every training row. A DMatrix has no
        position field, so positions are given here, in the DMatrix's row order.
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        Correction applied when ``position`` is given: None or ``"learned"``
        learns one score offset per position
        (:class:`~gbrank.position.LearnedPositionBias`), ``"ipw"`` weights
        clicked rows by ``1 / p(position)`` with ``p(k) = 1/k``; or an object of
        :mod:`gbrank.position`, which holds the fitted offsets afterwards.

    Attributes
    ----------
    position_bias : PositionBias
    position_offsets_ : ndarray
        Learned offsets of positions 1, 2, ... once trained (learned offsets).

    Notes
    -----
    Learned offsets start at the objective's first call; to train again with
    the same objective, call :meth:`reset` first (``xgboost.train`` does not
    copy it).

    Examples
    --------
    >>> import numpy as np
    >>> import xgboost as xgb
    >>> import gbrank
    >>> from gbrank.xgboost import XGBoostObjective
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, size=60)
    >>> qid, position = np.repeat(np.arange(6), 10), np.tile(np.arange(1, 11), 6)
    >>> obj = XGBoostObjective(gbrank.get_loss("softmax"), position=position)
    >>> booster = xgb.train({"max_depth": 2}, xgb.DMatrix(X, y, qid=qid), 3, obj=obj)
    >>> obj.position_offsets_.shape
    (10,)
    """

    engine = "xgboost"

    def __init__(
        self,
        loss: Loss,
        *,
        sample_weight: ArrayLike | None = None,
        position: ArrayLike | None = None,
        position_bias: str | PositionBias | None = None,
    ):
        super().__init__(loss, position=position, position_bias=position_bias)
        self.sample_weight = (
            None
            if sample_weight is None
            else as_float_array(sample_weight, "sample_weight", ndim=(1,)).copy()
        )
        if self.sample_weight is not None:
            check_nonnegative(self.sample_weight, "sample_weight")

    def _fields(self) -> tuple[object, ...]:
        return (*super()._fields(), self.sample_weight)

    def __call__(self, predt: Array, dtrain: DMatrix) -> tuple[Array, Array]:
        """Gradient and hessian of the summed loss at ``predt``.

        Parameters
        ----------
        predt : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw margins.
        dtrain : xgboost.DMatrix
            The training set.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``predt``
            (n_rows, n_classes) for multiclass, as XGBoost >= 2.1 requires.
        """
        n_rows = np.shape(predt)[0]
        groups = dmatrix_groups(dtrain, n_rows)
        if self.sample_weight is None:
            weights = _row_weights(dtrain, groups, n_rows)
        elif self.sample_weight.size != n_rows:
            raise ValueError(
                f"sample_weight has {self.sample_weight.size} entries but the "
                f"training DMatrix has {n_rows} rows."
            )
        else:
            weights = self.sample_weight
        positions = self._training_positions(None, n_rows)
        return self._objective(dtrain.get_label(), predt, groups, weights, positions)


class XGBoostMetric(LossAdapter):
    """Custom metric (``custom_metric=``) reporting the loss value.

    Lower is better: set ``"disable_default_eval_metric": 1`` or
    ``maximize=False`` as usual. XGBoost passes raw margins to the metric when
    the objective is a custom one; the value uses the loss's default reduction.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("xgboost")``.
    """

    engine = "xgboost"

    def __call__(self, predt: Array, dmatrix: DMatrix) -> tuple[str, float]:
        """Loss value on an eval set.

        Parameters
        ----------
        predt : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw margins.
        dmatrix : xgboost.DMatrix
            The eval set.

        Returns
        -------
        name : str
            ``loss.name``.
        value : float
        """
        n_rows = np.shape(predt)[0]
        groups = dmatrix_groups(dmatrix, n_rows)
        weights = _row_weights(dmatrix, groups, n_rows)
        return self.loss.name, self._value(dmatrix.get_label(), predt, groups, weights)

"""LightGBM adapters: gbrank losses as custom objectives and eval functions.

Obtain them from a loss (``loss.lgb_objective``, ``loss.lgb_sklearn_objective``,
``loss.lgb_metric``) or build them from one. They are small picklable objects:
LightGBM's scikit-learn wrapper trains on a copy of the objective.

Examples
--------
>>> import lightgbm as lgb
>>> import numpy as np
>>> import gbrank
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, size=60)
>>> loss = gbrank.get_loss("pairwise_hinge")
>>> dtrain = lgb.Dataset(X, y, group=[20, 20, 20])
>>> params = {"objective": loss.lgb_objective, "verbose": -1, "min_data_in_leaf": 5}
>>> booster = lgb.train(params, dtrain, num_boost_round=3)
>>> booster.predict(X).shape
(60,)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._adapter import LossAdapter, ObjectiveAdapter
from gbrank._groups import Groups, groups_from_sizes

if TYPE_CHECKING:
    from lightgbm import Dataset

Array = NDArray[np.float64]


def _groups(group: ArrayLike | None, n_rows: int) -> Groups | None:
    """Convert LightGBM group sizes to groups (None: no query structure)."""
    return None if group is None else groups_from_sizes(group, n_rows)


class LightGBMObjective(ObjectiveAdapter):
    """Custom objective for ``lightgbm.train({"objective": obj}, dtrain)``.

    Labels, group sizes, weights and display positions come from the training
    ``Dataset``. A ranking loss on a ``Dataset`` without ``group`` treats all rows
    as one query; losses that need no groups (``needs_groups = False``) ignore
    them.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("lightgbm")``.
    position : array-like of int, shape (n_rows,), optional
        Display position (1 = top) of every training row. Takes precedence over
        the ``Dataset``'s ``position`` (see Notes).
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        Correction applied when there are positions: None or ``"learned"``
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
    ``lgb.Dataset(..., position=pos)``: LightGBM keeps only a code per distinct
    position, numbered 0, 1, 2, ... in order of first appearance in the rows,
    and ``get_position()`` returns those codes. gbrank reads code ``c`` as
    position ``c + 1``, which is exact when positions first appear in
    increasing order (e.g. the first query lists positions 1, 2, 3, ... in
    order). Otherwise pass ``position=`` here, which is always exact; IPW and
    the reported offsets need the real positions, while learned offsets only
    need rows of the same position to share a code.

    ``lightgbm.train`` calls a deep copy of the objective; the copy shares
    ``position_bias``, so read the offsets from the object you passed.
    ``lightgbm.cv`` would make its folds share one set of offsets: use learned
    offsets with ``lightgbm.train`` only.

    Examples
    --------
    >>> import lightgbm as lgb
    >>> import numpy as np
    >>> import gbrank
    >>> from gbrank.lightgbm import LightGBMObjective
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, size=60)
    >>> position = np.tile(np.arange(1, 11), 6)
    >>> obj = LightGBMObjective(gbrank.get_loss("sigmoid_cross_entropy"))
    >>> dtrain = lgb.Dataset(X, y, position=position)
    >>> params = {"objective": obj, "verbose": -1, "min_data_in_leaf": 5}
    >>> booster = lgb.train(params, dtrain, num_boost_round=3)
    >>> obj.position_offsets_.shape
    (10,)
    """

    engine = "lightgbm"

    def __call__(self, preds: Array, train_data: Dataset) -> tuple[Array, Array]:
        """Gradient and hessian of the summed loss at ``preds``.

        Parameters
        ----------
        preds : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw scores (2-D for multiclass boosters, as LightGBM >= 4 passes them).
        train_data : lightgbm.Dataset
            The constructed training set.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``preds``
        """
        labels = train_data.get_label()
        n_rows = np.shape(preds)[0]
        groups = _groups(train_data.get_group(), n_rows)
        codes = train_data.get_position()
        from_data = None if codes is None else np.asarray(codes, np.int64) + 1
        positions = self._training_positions(from_data, n_rows)
        return self._objective(
            labels, preds, groups, train_data.get_weight(), positions
        )


class LightGBMSklearnObjective(LossAdapter):
    """Custom objective for LightGBM's scikit-learn estimators.

    ``LGBMRanker(objective=loss.lgb_sklearn_objective)``: the wrapper counts the
    parameters of ``__call__`` and passes ``group`` only to a 4-parameter callable,
    which this is.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("lightgbm")``.
    """

    engine = "lightgbm"

    def __call__(
        self,
        y_true: ArrayLike,
        y_pred: Array,
        weight: ArrayLike | None,
        group: ArrayLike | None,
    ) -> tuple[Array, Array]:
        """Gradient and hessian of the summed loss at ``y_pred``.

        Parameters
        ----------
        y_true : array-like, shape (n_rows,)
            Labels (class ids for multiclass).
        y_pred : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw scores.
        weight : array-like of shape (n_rows,) or None
            Sample weights.
        group : array-like of int or None
            Group sizes (``LGBMRanker``); None for classifiers and regressors.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``y_pred``
        """
        groups = _groups(group, np.shape(y_pred)[0])
        return self._grad_hess(y_true, y_pred, groups, weight)


class LightGBMMetric(LossAdapter):
    """Eval function (``feval``) reporting the loss value; lower is better.

    Works in ``lightgbm.train(..., feval=metric)``, with early stopping and in
    ``lightgbm.cv``. The value uses the loss's default reduction
    (``reduction="auto"``) and the eval set's own groups and weights.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("lightgbm")``.
    """

    engine = "lightgbm"

    def __call__(self, preds: Array, eval_data: Dataset) -> tuple[str, float, bool]:
        """Loss value on an eval set.

        Parameters
        ----------
        preds : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw scores of a booster trained with a custom objective.
        eval_data : lightgbm.Dataset
            The eval set.

        Returns
        -------
        name : str
            ``loss.name``.
        value : float
        is_higher_better : bool
            Always False.
        """
        labels = eval_data.get_label()
        groups = _groups(eval_data.get_group(), np.shape(preds)[0])
        value = self._value(labels, preds, groups, eval_data.get_weight())
        return self.loss.name, value, False

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

from gbrank._adapter import LossAdapter
from gbrank._groups import Groups, groups_from_sizes

if TYPE_CHECKING:
    from lightgbm import Dataset

Array = NDArray[np.float64]


def _groups(group: ArrayLike | None, n_rows: int) -> Groups | None:
    """Convert LightGBM group sizes to groups (None: no query structure)."""
    return None if group is None else groups_from_sizes(group, n_rows)


class LightGBMObjective(LossAdapter):
    """Custom objective for ``lightgbm.train({"objective": obj}, dtrain)``.

    Labels, group sizes and weights come from the training ``Dataset``. A ranking
    loss on a ``Dataset`` without ``group`` treats all rows as one query; losses
    that need no groups (``needs_groups = False``) ignore them.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("lightgbm")``.
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
        return self._grad_hess(labels, preds, groups, train_data.get_weight())


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

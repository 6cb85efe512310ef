"""Shared core of the engine adapters: a loss bound to one engine.

:mod:`gbrank.lightgbm` and :mod:`gbrank.xgboost` read labels, groups and weights
from the engine's data objects and call these methods on flat arrays.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._groups import Groups
from gbrank.losses.base import Loss
from gbrank.position import (
    LearnedPositionBias,
    PositionBias,
    Propensity,
    check_positions,
    resolve_position_bias,
)


class LossAdapter:
    """A loss resolved for one engine (``loss.for_engine(engine)``).

    Parameters
    ----------
    loss : Loss
        The gbrank loss to adapt.

    Attributes
    ----------
    loss : Loss
        ``loss.for_engine(engine)``: categorical cross-entropy, for example, takes
        the engine's native hessian factor here.
    """

    engine: ClassVar[str]
    higher_is_better: ClassVar[bool] = False

    def __init__(self, loss: Loss) -> None:
        if not isinstance(loss, Loss):
            raise TypeError(
                f"loss must be a gbrank Loss instance, got {type(loss).__name__}; "
                "use gbrank.get_loss(name) to build one."
            )
        self.loss = loss.for_engine(self.engine)

    def __repr__(self) -> str:
        """Adapter class name and the wrapped loss."""
        return f"{type(self).__name__}({self.loss!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class wrapping equal losses."""
        if type(other) is not type(self):
            return NotImplemented
        return bool(self.loss == other.loss)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        """Hash of the class and the wrapped loss."""
        return hash((type(self), self.loss))

    def _group_sizes(self, groups: Groups | None) -> NDArray[np.int64] | None:
        """Group sizes to pass to the loss (None for losses that need no groups)."""
        if groups is None or not self.loss.needs_groups:
            return None
        return groups.sizes

    def _grad_hess(
        self,
        labels: ArrayLike,
        preds: ArrayLike,
        groups: Groups | None,
        weights: ArrayLike | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Gradient and hessian of the summed loss, shaped like ``preds``."""
        return self.loss.grad_hess(
            labels, preds, group=self._group_sizes(groups), sample_weight=weights
        )

    def _value(
        self,
        labels: ArrayLike,
        preds: ArrayLike,
        groups: Groups | None,
        weights: ArrayLike | None,
    ) -> float:
        """Loss value with the loss's default reduction."""
        value = self.loss.loss(
            labels,
            preds,
            group=self._group_sizes(groups),
            sample_weight=weights,
            reduction="auto",
        )
        return float(value)


class ObjectiveAdapter(LossAdapter):
    """An objective adapter that can correct for position bias.

    Parameters
    ----------
    loss : Loss
        The gbrank loss.
    position : array-like of int, shape (n_rows,), optional
        Display position (>= 1) of every training row; the engine adapters may
        read positions from the training data instead.
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        What to do with positions (only used when there are positions). None or
        ``"learned"``: learn per-position offsets
        (:class:`~gbrank.position.LearnedPositionBias`); ``"ipw"``:
        ``PowerLawPropensity(eta=1.0)``; or an object of :mod:`gbrank.position`,
        used (and fitted) as it is.

    Attributes
    ----------
    position_bias : PositionBias
        The object that holds the learned offsets after training.
    position_offsets_ : ndarray
        ``position_bias.offsets_``: the learned offset of positions 1, 2, ...

    Notes
    -----
    Learned offsets start from 0 at the first call of the objective, then move by
    one Newton step per call (boosting round). ``lightgbm.train`` deep-copies its
    parameters and so calls a copy: a copy of this objective shares
    ``position_bias`` (so the offsets reach the caller's object) and starts
    afresh. To train twice with the same object without LightGBM's copy (e.g.
    ``xgboost.train``), call :meth:`reset` in between or build a new objective.
    """

    def __init__(
        self,
        loss: Loss,
        *,
        position: ArrayLike | None = None,
        position_bias: str | PositionBias | None = None,
    ) -> None:
        super().__init__(loss)
        if self.loss.is_multiclass and (
            position is not None or position_bias is not None
        ):
            raise ValueError(
                f"position bias correction needs a loss with one score per row; "
                f"{self.loss.name!r} is multiclass."
            )
        self.position = None if position is None else check_positions(position)
        self.position_bias = resolve_position_bias(position_bias, fresh=False)
        self._started = False

    @property
    def position_offsets_(self) -> NDArray[np.float64]:
        """Learned offset of positions 1, 2, ... (after training with positions)."""
        bias = self.position_bias
        if not isinstance(bias, LearnedPositionBias) or not hasattr(bias, "offsets_"):
            raise AttributeError(
                "position_offsets_ exists after training with display positions "
                "and learned offsets (position_bias=None or 'learned')."
            )
        return bias.offsets_

    def reset(self) -> None:
        """Make the next call start the learned offsets from 0 again."""
        self._started = False

    def __repr__(self) -> str:
        """Adapter class name, the loss and a non-default position bias."""
        extra = ""
        if self.position_bias != LearnedPositionBias():
            extra = f", position_bias={self.position_bias!r}"
        if self.position is not None:
            extra += f", position=<{self.position.size} rows>"
        return f"{type(self).__name__}({self.loss!r}{extra})"

    def _fields(self) -> tuple[Any, ...]:
        return (self.loss, self.position, self.position_bias)

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with equal loss, positions and settings."""
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self._fields(), other._fields()  # type: ignore[attr-defined]
        return all(_same(a, b) for a, b in zip(mine, theirs, strict=True))

    __hash__ = LossAdapter.__hash__

    def __deepcopy__(self, memo: dict[int, Any]) -> ObjectiveAdapter:
        """Copy that shares ``position_bias`` and starts its offsets afresh."""
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in vars(self).items():
            shared = key == "position_bias"
            setattr(clone, key, value if shared else copy.deepcopy(value, memo))
        clone._started = False
        return clone

    def _training_positions(
        self, from_data: NDArray[np.int64] | None, n_rows: int
    ) -> NDArray[np.int64] | None:
        """Return the explicit positions, else the data's, checked for length."""
        positions = self.position if self.position is not None else from_data
        if positions is None:
            return None
        if self.loss.is_multiclass:
            raise ValueError(
                f"position bias correction needs a loss with one score per row; "
                f"{self.loss.name!r} is multiclass."
            )
        if positions.size != n_rows:
            raise ValueError(
                f"position has {positions.size} entries but the training data has "
                f"{n_rows} rows; pass one display position per training row."
            )
        return positions

    def _objective(
        self,
        labels: ArrayLike,
        preds: ArrayLike,
        groups: Groups | None,
        weights: ArrayLike | None,
        positions: NDArray[np.int64] | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Gradient and hessian for the booster, with position-bias correction."""
        if positions is None:
            return self._grad_hess(labels, preds, groups, weights)
        bias = self.position_bias
        if isinstance(bias, Propensity):
            weights = bias.weights(labels, positions, weights)
            return self._grad_hess(labels, preds, groups, weights)
        if not isinstance(bias, LearnedPositionBias):
            raise TypeError(
                f"position_bias must be a LearnedPositionBias or a Propensity, got "
                f"{type(bias).__name__}."
            )
        if not self._started:
            bias.start(positions)
            self._started = True
        scores = np.asarray(preds, dtype=np.float64) + bias.offset(positions)
        grad, hess = self._grad_hess(labels, scores, groups, weights)
        bias.update(positions, grad, hess)
        return grad, hess


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if a is None or b is None:
            return False
        return bool(np.array_equal(a, b))
    return bool(a == b)

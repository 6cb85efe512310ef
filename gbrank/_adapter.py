"""Shared core of the engine adapters: a loss bound to one engine.

:mod:`gbrank.lightgbm` and :mod:`gbrank.xgboost` read labels, groups and weights
from the engine's data objects and call these methods on flat arrays.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._groups import Groups
from gbrank.losses.base import Loss


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

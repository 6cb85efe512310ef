"""Keyword-only hyperparameters read from ``__init__`` (scikit-learn style).

Shared by losses and position-bias models, without importing scikit-learn.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

P = TypeVar("P", bound="Parameters")


class Parameters:
    """``get_params`` / ``set_params`` over the names of ``__init__``."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters as a dict (what ``__init__`` was given)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self: P, **params: Any) -> P:
        """Set parameters; unknown names raise ``ValueError``."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {key!r}; "
                    f"its parameters are {valid}."
                )
            setattr(self, key, value)
        return self

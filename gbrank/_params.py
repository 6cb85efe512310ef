"""The object protocol of gbrank's configuration objects, written once.

Losses, lambda weights, position-bias models, metrics and engine adapters are
small objects whose state is their ``__init__`` arguments (scikit-learn style):
:class:`Configured` gives them a ``repr`` of the non-default arguments, equality
by class and arguments, and a matching hash; :class:`Parameters` adds
``get_params`` / ``set_params``. (Engine adapters stay :class:`Configured` only:
LightGBM's scikit-learn wrapper would expand an objective with ``get_params``
into nested parameters.) It imports nothing heavier than NumPy.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

import numpy as np

P = TypeVar("P", bound="Parameters")


def same_value(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal (arrays element-wise; None only to None).

    Parameters
    ----------
    a, b : object
        Parameter values: numbers, strings, None, objects, or arrays.

    Returns
    -------
    bool
    """
    if a is None or b is None:
        return a is b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    return bool(a == b)


def _show(value: Any) -> str:
    """``repr`` of a parameter value; arrays by shape (they may be long)."""
    if isinstance(value, np.ndarray):
        return f"<array of shape {value.shape}>"
    return repr(value)


_INIT_DEFAULTS: dict[type, dict[str, Any]] = {}


def _init_defaults(cls: type) -> dict[str, Any]:
    """Return the named ``__init__`` parameters of a class and their defaults.

    Read once per class: ``inspect.signature`` costs tens of microseconds, and
    ``hash`` and ``==`` of a loss run on every booster call.
    """
    defaults = _INIT_DEFAULTS.get(cls)
    if defaults is None:
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]
        defaults = {
            p.name: p.default
            for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        _INIT_DEFAULTS[cls] = defaults
    return defaults


class Configured:
    """``repr``, ``==`` and ``hash`` from the ``__init__`` arguments.

    Subclasses store every ``__init__`` argument under its own name.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        return list(_init_defaults(cls))

    def _param_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        """Default value of each parameter, as ``repr`` leaves it out."""
        return dict(_init_defaults(cls))

    def __repr__(self) -> str:
        """Class name and the parameters that differ from their defaults."""
        defaults = self._defaults()
        changed = [
            f"{name}={_show(value)}"
            for name, value in self._param_values().items()
            if not same_value(value, defaults[name])
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with equal parameters."""
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self._param_values(), other._param_values()  # type: ignore[attr-defined]
        return all(same_value(mine[key], theirs[key]) for key in mine)

    def __hash__(self) -> int:
        """Hash of the class and the ``repr`` (equal objects hash alike)."""
        return hash((type(self), repr(self)))


class Parameters(Configured):
    """:class:`Configured` plus scikit-learn's ``get_params`` and ``set_params``."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters as a dict (what ``__init__`` was given).

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility; parameters are not nested.

        Returns
        -------
        dict
        """
        return self._param_values()

    def set_params(self: P, **params: Any) -> P:
        """Set parameters; unknown names raise ``ValueError`` listing the valid ones.

        Parameters
        ----------
        **params
            New values by parameter name.

        Returns
        -------
        self
        """
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {key!r}; "
                    f"its parameters are {valid}."
                )
            setattr(self, key, value)
        return self

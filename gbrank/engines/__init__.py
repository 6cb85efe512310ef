"""The engine registry: the one place that knows which boosting libraries exist.

:func:`get_engine` returns the :class:`~gbrank.engines.base.Engine` of a name
(importing its module, and so the library, only then); an unknown name raises.
A third library plugs in with :func:`register_engine`.
"""

from __future__ import annotations

from importlib import import_module

from gbrank.engines.base import Engine, Fitted, Settings, TrainingSet

_BUILTIN_ENGINES = {
    "lightgbm": ("gbrank.engines.lightgbm", "LightGBMEngine"),
    "xgboost": ("gbrank.engines.xgboost", "XGBoostEngine"),
}
_ENGINES: dict[str, Engine] = {}


def available_engines() -> list[str]:
    """Names of the registered engines, built-in first."""
    return [
        *_BUILTIN_ENGINES,
        *(name for name in _ENGINES if name not in _BUILTIN_ENGINES),
    ]


def get_engine(name: str) -> Engine:
    """Return the engine registered as ``name``.

    Parameters
    ----------
    name : str
        ``"lightgbm"``, ``"xgboost"`` or a name given to :func:`register_engine`.

    Returns
    -------
    Engine

    Raises
    ------
    ValueError
        If no engine has that name.
    """
    if not isinstance(name, str) or name not in available_engines():
        raise ValueError(
            f"unknown engine (backend) {name!r}; choose one of "
            f"{', '.join(map(repr, available_engines()))}."
        )
    if name not in _ENGINES:
        module, cls = _BUILTIN_ENGINES[name]
        _ENGINES[name] = getattr(import_module(module), cls)()
    return _ENGINES[name]


def register_engine(engine: Engine) -> Engine:
    """Register an engine instance under its ``name`` (replacing one of that name).

    Parameters
    ----------
    engine : Engine
        An instance of a concrete :class:`~gbrank.engines.base.Engine` subclass.

    Returns
    -------
    Engine
        ``engine``.
    """
    if not isinstance(engine, Engine):
        raise TypeError(f"register_engine needs an Engine instance, got {engine!r}.")
    _ENGINES[engine.name] = engine
    return engine


__all__ = [
    "Engine",
    "Fitted",
    "Settings",
    "TrainingSet",
    "available_engines",
    "get_engine",
    "register_engine",
]

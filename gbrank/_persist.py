"""JSON of gbrank's configuration objects, as model files record them.

A model file written by gbrank names its objective (the loss and its
parameters) and, from an estimator's ``save_model``, the estimator's parameters
and fitted state, so that ``load_model`` rebuilds them without pickle. Values
are numbers, strings, None, lists, tuples, dicts with string keys, NumPy
arrays, gbrank losses (recorded by registered name, so user losses load once
registered) and gbrank's other parameter objects (lambda weights, booster
steps, position-bias models). Floats are written with ``repr``, so they read
back bit for bit.
"""

from __future__ import annotations

import json
import numbers
from importlib import import_module
from typing import Any

import numpy as np

from gbrank._params import Parameters
from gbrank.losses import Loss, get_loss

OBJECTIVE_TAG = "gbrank_objective"
"""Model-file entry of the gbrank loss a booster was trained with (JSON)."""

ESTIMATOR_TAG = "gbrank_estimator"
"""Model-file entry of an estimator's parameters and fitted state (JSON)."""

TAGS = (OBJECTIVE_TAG, ESTIMATOR_TAG)


def encode(value: Any, where: str = "value") -> Any:
    """Return ``value`` as plain JSON data (see the module docstring).

    Parameters
    ----------
    value : object
        What to record.
    where : str
        Its name, for the error message.

    Raises
    ------
    TypeError
        If ``value`` (or a part of it) is none of the recordable kinds.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        return encode(value.item(), where)
    if isinstance(value, (numbers.Integral, float)):
        return value
    if isinstance(value, list):
        return [encode(item, where) for item in value]
    if isinstance(value, tuple):
        return {"tuple": [encode(item, where) for item in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"dict": {key: encode(item, where) for key, item in value.items()}}
    if isinstance(value, np.ndarray):
        return {"array": encode(value.tolist(), where), "dtype": value.dtype.str}
    if isinstance(value, Loss):
        return {"loss": value.name, "params": _params(value, where)}
    if isinstance(value, Parameters) and type(value).__module__.startswith("gbrank."):
        cls = type(value)
        return {
            "object": f"{cls.__module__}:{cls.__qualname__}",
            "params": _params(value, where),
        }
    raise TypeError(
        f"{where} holds {type(value).__name__} {value!r}, which a model file cannot "
        "record: use numbers, strings, lists, tuples, dicts, arrays and gbrank's "
        "own objects (losses, lambda weights, position-bias models)."
    )


def _params(value: Parameters, where: str) -> dict[str, Any]:
    return {key: encode(item, where) for key, item in value.get_params().items()}


def decode(data: Any) -> Any:
    """Rebuild a value from :func:`encode`'s JSON data."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "tuple" in data:
        return tuple(decode(item) for item in data["tuple"])
    if "dict" in data:
        return {key: decode(item) for key, item in data["dict"].items()}
    if "array" in data:
        return np.array(decode(data["array"]), dtype=np.dtype(data["dtype"]))
    params = {key: decode(item) for key, item in data.get("params", {}).items()}
    if "loss" in data:
        return _registered_loss(data["loss"], params)
    if "object" in data:
        return _gbrank_class(data["object"])(**params)
    raise ValueError(f"not a recorded gbrank value: {data!r}.")


def _registered_loss(name: str, params: dict[str, Any]) -> Loss:
    try:
        return get_loss(name, **params)
    except ValueError as error:
        raise ValueError(
            f"the model was trained with the loss {name!r}, which cannot be "
            f"rebuilt here ({error}); register it (gbrank.register_loss) before "
            "loading the model."
        ) from error


def _gbrank_class(path: str) -> type[Parameters]:
    """Return the gbrank class named ``module:qualname`` (nothing outside gbrank)."""
    module, _, name = path.partition(":")
    if not module.startswith("gbrank."):
        raise ValueError(f"a model file may only name gbrank classes, not {path!r}.")
    cls = getattr(import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, Parameters)):
        raise ValueError(f"{path!r} is not a gbrank parameter class.")
    return cls


def dumps(value: Any, where: str = "value") -> str:
    """:func:`encode` ``value`` as a JSON string."""
    return json.dumps(encode(value, where), separators=(",", ":"))


def loads(text: str) -> Any:
    """:func:`decode` a JSON string written by :func:`dumps`."""
    return decode(json.loads(text))

"""Users' shortcuts to the engine adapters, resolved by name when read.

``loss.lgb_objective`` is ``gbrank.lightgbm.objective(loss)`` and
``gbrank.metrics.lgb_eval(...)`` is ``gbrank.lightgbm.ranking_metric(...)``
(the public names of SPEC section 9). The adapters live with the engines; the
losses and metrics sit below them and import none of them: an alias names its
engine function as text and imports it when a user reads the alias. gbrank's
own code never reads an alias (it asks :func:`gbrank.engines.get_engine`), and
``tests/test_structure.py`` lists every alias: the only references from below
the engines to above them.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def engine_function(path: str) -> Callable[..., Any]:
    """Return the function at ``path`` (``"gbrank.lightgbm.objective"``).

    Parameters
    ----------
    path : str
        Module and function name, dotted.

    Returns
    -------
    callable
        The function, its module imported (with its engine) if it was not yet.
    """
    module, _, name = path.rpartition(".")
    function: Callable[..., Any] = getattr(import_module(module), name)
    return function


def engine_alias(path: str, doc: str) -> Any:
    """Return a read-only property whose value is ``engine_function(path)(self)``.

    Parameters
    ----------
    path : str
        The engine function that takes the owner (a loss) and returns its adapter.
    doc : str
        The property's docstring.

    Returns
    -------
    property
    """

    def read(owner: Any) -> Any:
        return engine_function(path)(owner)

    return property(read, doc=doc)

"""Array and parameter checks shared by losses, adapters, metrics and estimators.

Every check raises a ``ValueError`` (bad value) or ``TypeError`` (bad type) whose
message names the argument, the offending value or position, and the fix. Inputs
are never modified: conversions return new arrays (or read-only views).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_float_array(
    value: ArrayLike, name: str, *, ndim: Iterable[int] = (1, 2)
) -> NDArray[np.float64]:
    """Convert ``value`` to a float64 array with finite entries.

    Parameters
    ----------
    value : array-like
        Numbers (bool, int or float; pandas and pyarrow-backed arrays work).
    name : str
        The argument's name, used in error messages.
    ndim : iterable of int
        Accepted numbers of dimensions.

    Returns
    -------
    ndarray of float64
        A new array or a view of ``value``; callers must not write into it.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric, got dtype {array.dtype}; convert it with "
            f"np.asarray({name}, dtype=float) if it holds numbers."
        )
    allowed = tuple(ndim)
    if array.ndim not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {dims}, got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} is empty: pass at least one row.")
    array = array.astype(np.float64, copy=False)
    check_finite(array, name)
    return array


def check_finite(array: NDArray[np.float64], name: str) -> None:
    """Raise if ``array`` holds NaN or inf, naming the first bad position."""
    if not np.all(np.isfinite(array)):
        position = np.unravel_index(np.flatnonzero(~np.isfinite(array))[0], array.shape)
        where = position[0] if len(position) == 1 else position
        raise ValueError(
            f"{name} contains NaN or inf at index {where} "
            f"(value {array[position].item()!r}); remove or impute it."
        )


def check_same_shape(
    array: NDArray, name: str, reference: NDArray, reference_name: str
) -> None:
    """Raise unless ``array`` has the shape of ``reference``."""
    if array.shape != reference.shape:
        raise ValueError(
            f"{name} has shape {array.shape} but {reference_name} has shape "
            f"{reference.shape}; they must match row for row."
        )


def check_nonnegative(array: NDArray[np.float64], name: str) -> None:
    """Raise if ``array`` has a negative entry."""
    bad = np.flatnonzero(array.ravel() < 0)
    if bad.size:
        raise ValueError(
            f"{name} must be >= 0; {name}[{bad[0]}] = {array.ravel()[bad[0]].item()!r}."
        )


def check_label_range(
    labels: NDArray[np.float64], low: float, high: float, loss_name: str
) -> None:
    """Raise if a non-ignored label (>= 0) lies outside ``[low, high]``."""
    bad = np.flatnonzero((labels >= 0) & ((labels < low) | (labels > high)))
    if bad.size:
        raise ValueError(
            f"{loss_name} needs labels in [{low}, {high}] (negative labels mark "
            f"ignored rows); y_true[{bad[0]}] = {labels[bad[0]].item()!r}."
        )


MAX_GAIN_LABEL = 1023 - 62
"""Largest label with the exponential gain ``2**y - 1`` (961).

``2**961`` times gbrank's largest count, ``2**62`` rows, stays below float64's
maximum (just under ``2**1024``), so every sum of gains (a DCG, an ideal DCG)
is finite. LightGBM accepts labels up to 30 and XGBoost up to 31 for this gain.
"""


def check_gain_labels(
    labels: NDArray[np.float64], owner: str, fix: str, name: str = "y_true"
) -> None:
    """Raise if a label is too large for the exponential gain ``2**y - 1``.

    Parameters
    ----------
    labels : ndarray of float64
        Labels (negative ones mark ignored rows and are not checked).
    owner : str
        What uses the gain, for the message (e.g. ``"NDCG"``).
    fix : str
        What to do instead, beyond rescaling the labels (may be empty).
    name : str, default "y_true"
        The labels' argument name, used in the message.
    """
    bad = np.flatnonzero(labels > MAX_GAIN_LABEL)
    if bad.size:
        raise ValueError(
            f"{owner} uses the gain 2**y - 1, which gbrank computes for labels up "
            f"to {MAX_GAIN_LABEL} (larger gains overflow float64); "
            f"{name}[{bad[0]}] = {labels[bad[0]].item()!r}. Rescale the labels{fix}."
        )


def check_bool_mask(value: ArrayLike, name: str) -> NDArray[np.bool_]:
    """Convert a mask of booleans (or 0/1 numbers) to a bool array."""
    mask = np.asarray(value)
    if mask.dtype.kind == "b":
        return mask
    if mask.dtype.kind in "iuf" and np.all((mask == 0) | (mask == 1)):
        return mask.astype(bool)
    raise ValueError(f"{name} must hold booleans (or 0/1), got dtype {mask.dtype}.")


INT_LIMIT = 2**62
"""Largest integer parameter accepted (counts and cutoffs stay far from overflow)."""


@overload
def check_int(
    value: object,
    name: str,
    *,
    minimum: int = ...,
    maximum: int = ...,
    allow_none: Literal[False] = ...,
) -> int: ...


@overload
def check_int(
    value: object,
    name: str,
    *,
    minimum: int = ...,
    maximum: int = ...,
    allow_none: bool,
) -> int | None: ...


def check_int(
    value: object,
    name: str,
    *,
    minimum: int = 1,
    maximum: int = INT_LIMIT,
    allow_none: bool = False,
) -> int | None:
    """Raise unless ``value`` is an integer in ``[minimum, maximum]``; return it.

    Python and NumPy integers are accepted (not bools, not floats); None only
    with ``allow_none``.
    """
    if value is None and allow_none:
        return None
    number = (
        int(value)
        if isinstance(value, numbers.Integral)
        and not isinstance(value, (bool, np.bool_))
        else None
    )
    if number is not None and number > maximum:
        limit = "2**62" if maximum == INT_LIMIT else f"{maximum}"
        raise ValueError(
            f"{name}={value!r} is too large: it must be an integer in "
            f"[{minimum}, {limit}]."
        )
    if number is None or number < minimum:
        upper = "" if maximum == INT_LIMIT else f" and <= {maximum}"
        none = "None or " if allow_none else ""
        raise ValueError(
            f"{name} must be {none}an integer >= {minimum}{upper}, got {value!r}."
        )
    return number


@overload
def check_real(
    value: object,
    name: str,
    *,
    low: float = ...,
    high: float = ...,
    low_open: bool = ...,
    high_open: bool = ...,
    allow_none: Literal[False] = ...,
) -> float: ...


@overload
def check_real(
    value: object,
    name: str,
    *,
    low: float = ...,
    high: float = ...,
    low_open: bool = ...,
    high_open: bool = ...,
    allow_none: bool,
) -> float | None: ...


def check_real(
    value: object,
    name: str,
    *,
    low: float = -np.inf,
    high: float = np.inf,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """Raise unless ``value`` is a finite real number in the given range; return it.

    ``low_open`` / ``high_open`` exclude the bounds. None is accepted only with
    ``allow_none``.
    """
    if value is None and allow_none:
        return None
    ok = (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, numbers.Real)
        and math.isfinite(float(value))
    )
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = (low < number if low_open else low <= number) and (
            number < high if high_open else number <= high
        )
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        if high == np.inf:
            bound = f"> {low:g}" if low_open else f">= {low:g}"
        else:
            bound = f"in {left}{low:g}, {high:g}{right}"
        none = "None or " if allow_none else ""
        raise ValueError(
            f"{name} must be {none}a finite number {bound}, got {value!r}."
        )
    return float(value)  # type: ignore[arg-type]


def check_positive(value: object, name: str) -> float:
    """Raise unless ``value`` is a finite number > 0; return it as float."""
    return float(check_real(value, name, low=0.0, low_open=True))  # type: ignore[arg-type]


def check_choice(value: object, name: str, choices: Iterable[object]) -> None:
    """Raise unless ``value`` is one of ``choices``."""
    options = list(choices)
    if value not in options:
        raise ValueError(
            f"{name}={value!r} is not supported; choose one of "
            f"{', '.join(repr(c) for c in options)}."
        )


def did_you_mean(name: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """Return `` (did you mean 'x'?)`` for the choice closest to ``name``, or ""."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""

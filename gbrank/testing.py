r"""Contract checks for any gbrank loss, built-in or user-defined.

Each ``check_*`` function takes a loss and a :class:`Case` (random, seeded
groups with label ties, singletons, an all-ignored group, tied scores and
per-row weights, from :func:`make_case`) and raises ``AssertionError`` when the
loss breaks the contract of :class:`gbrank.Loss`; :func:`check_loss` runs them
all. The project's own test suite runs every check on every registered loss,
and a user can do the same for a loss of their own:

>>> import gbrank
>>> from gbrank.testing import check_loss
>>> check_loss(gbrank.SoftmaxLoss())  # raises AssertionError on a broken loss

The contract:

- the gradient is the derivative of ``loss(reduction="sum")`` (4th-order
  central differences, one coordinate at a time, away from the hinge's kinks);
- the hessian is the exact diagonal (central differences of the gradient) or,
  when ``approx_hessian``, a surrogate that is >= the exact diagonal (unless
  the loss documents otherwise: ``hessian_bounds_exact``); it is always finite
  and >= ``HESSIAN_FLOOR``;
- groups are independent (together = each alone), permuting the rows of a group
  (keeping the order of rows with equal labels, which ListMLE uses) permutes
  the results, and a ranking loss (``needs_groups``) is invariant to shifting
  one group's scores;
- an ignored row (label < 0) gets gradient 0 and the hessian floor and changes
  nothing else; inputs are never modified; extreme scores stay finite;
- the loss pickles, compares equal and hashes alike by parameters.
"""

from __future__ import annotations

import copy
import itertools
import pickle
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gbrank.losses import HESSIAN_FLOOR, Loss

Array = NDArray[np.float64]


@dataclass
class Case:
    """Inputs of one loss call: flat rows, group sizes and per-row weights."""

    y_true: Array
    y_pred: Array
    group: NDArray[np.int64]
    sample_weight: Array

    @property
    def offsets(self) -> NDArray[np.int64]:
        """Group offsets ``[0, ..., n_rows]``."""
        return np.concatenate(([0], np.cumsum(self.group)))

    @property
    def qid(self) -> NDArray[np.int64]:
        """Per-row query ids (not 0-based, not consecutive)."""
        return np.repeat(np.arange(len(self.group)) * 7 + 3, self.group)

    def kwargs(self) -> dict[str, NDArray]:
        """``group`` and ``sample_weight`` keywords of a loss call."""
        return {"group": self.group, "sample_weight": self.sample_weight}


def labels_for(loss: Loss, size: int, rng: np.random.Generator) -> Array:
    """Labels in the loss's domain with ties and ~15 % ignored rows (-1).

    Bounded labels take the bounds and their midpoint, or the midpoint rounded
    down when the loss refuses fractions (:meth:`~gbrank.Loss.check_labels`).
    """
    if loss.label_bounds is not None:
        low, high = loss.label_bounds
        middle = (low + high) / 2
        try:
            loss.check_labels(np.array([middle]))
        except ValueError:
            middle = float(np.floor(middle))
        labels = rng.choice([low, low, high, middle], size=size)
    else:
        labels = rng.integers(0, 4, size=size).astype(float)
    return np.where(rng.random(size) < 0.15, -1.0, labels)


def make_case(
    loss: Loss,
    seed: int = 0,
    n_groups: int = 12,
    max_size: int = 30,
    scale: float = 2.0,
) -> Case:
    """Random inputs for ``loss``: groups of 1 to ``max_size`` rows.

    The first two groups are singletons, the third is all ignored; ~10 % of the
    scores are tied at 0.25. Multiclass losses get 60 samples of 4 classes.
    """
    rng = np.random.default_rng(seed)
    if loss.is_multiclass:
        n, k = 60, 4
        classes = rng.integers(0, k, size=n).astype(float)
        classes[rng.random(n) < 0.1] = -1.0
        return Case(
            y_true=classes,
            y_pred=rng.normal(scale=scale, size=(n, k)),
            group=np.array([n]),
            sample_weight=rng.uniform(0.5, 2.0, size=n),
        )
    sizes = rng.integers(1, max_size + 1, size=n_groups)
    sizes[:2] = 1
    n = int(sizes.sum())
    labels = labels_for(loss, n, rng)
    labels[sizes[0] + sizes[1] : sizes[0] + sizes[1] + sizes[2]] = -1.0
    scores = rng.normal(scale=scale, size=n)
    scores[rng.random(n) < 0.1] = 0.25
    return Case(labels, scores, sizes, rng.uniform(0.5, 2.0, size=n))


def central_difference(f: Callable[[Array], Array], x: Array, h: float) -> Array:
    """4th-order central difference of ``f`` along each coordinate of ``x``.

    ``f(x)`` returns a scalar, or an array of the shape of ``x`` whose entry at
    the perturbed coordinate is differentiated (a diagonal).
    """
    out = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        values = []
        for step in (2 * h, h, -h, -2 * h):
            shifted = x.copy()
            shifted[index] += step
            value = np.asarray(f(shifted))
            values.append(value if value.ndim == 0 else value[index])
        out[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return out


def away_from_kinks(loss: Loss, case: Case) -> Case:
    """For a non-differentiable loss, nudge scores off its kinks.

    The pairwise losses' kinks: a labelled pair's tempered difference ``d = 1``
    (the hinge), a score difference equal to the label difference (the
    quantile loss), two equal scores in a group (weights from the ranks, such
    as NDCG lambda weights, change there), and, for a loss with a
    ``perturbed_scores(y_true, y_pred, group=...)`` method returning noisy
    score vectors (YetiRank), two equal noisy scores. Moves a score by 0.01
    until none lies within 1e-3, so finite differences see a smooth function.
    """
    if loss.differentiable:
        return case
    temperature = float(loss.get_params().get("temperature", 1.0))
    perturbed = getattr(loss, "perturbed_scores", None)
    scores = case.y_pred.copy()
    for start, stop in itertools.pairwise(case.offsets):
        y = case.y_true[start:stop]
        valid = y >= 0
        both = valid[:, None] & valid[None, :] & ~np.eye(y.size, dtype=bool)
        pairs = (y[:, None] > y[None, :]) & (y[None, :] >= 0)
        both = (y[:, None] >= 0) & (y[None, :] >= 0) & ~np.eye(y.size, dtype=bool)
        for _ in range(100):
            s = scores[start:stop]
            difference = np.subtract.outer(s, s)
            close = pairs & (np.abs(difference / temperature - 1.0) < 1e-3)
            close |= pairs & (np.abs(difference - np.subtract.outer(y, y)) < 1e-3)
            close |= both & (np.abs(difference) < 1e-3)
            if perturbed is not None and both.any():
                noisy = perturbed(y, s, group=[y.size])
                for row in noisy:
                    close |= both & (np.abs(np.subtract.outer(row, row)) < 1e-3)
            if not close.any():
                break
            scores[start + np.argwhere(close)[0, 0]] += 0.01
    return Case(case.y_true, scores, case.group, case.sample_weight)


def check_gradient(loss: Loss, case: Case) -> None:
    """Check that the gradient is the derivative of ``loss(reduction="sum")``."""
    case = away_from_kinks(loss, case)

    def total(scores: Array) -> Array:
        return np.asarray(
            loss.loss(case.y_true, scores, reduction="sum", **case.kwargs())
        )

    grad, _ = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    numeric = central_difference(total, case.y_pred, 1e-4)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def check_hessian(loss: Loss, case: Case) -> None:
    """Check the hessian: the exact diagonal or a surrogate >= it; finite, floored.

    A surrogate that does not bound the exact diagonal (``hessian_bounds_exact``
    False, a documented Gauss-Newton hessian) is only checked to be finite and
    floored here; its formula is the loss's own test's business.
    """
    case = away_from_kinks(loss, case)
    _, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    assert np.all(np.isfinite(hess)), "the hessian has NaN or inf entries"
    assert np.all(hess >= HESSIAN_FLOOR), "the hessian is below HESSIAN_FLOOR"

    def gradient(scores: Array) -> Array:
        return loss.grad_hess(case.y_true, scores, **case.kwargs())[0]

    exact = central_difference(gradient, case.y_pred, 1e-4)
    if loss.approx_hessian and not loss.hessian_bounds_exact:
        return
    if loss.approx_hessian:
        bound = np.maximum(exact, HESSIAN_FLOOR) * (1 - 1e-6) - 1e-7
        below = np.flatnonzero(hess < bound)
        assert below.size == 0, (
            f"the hessian surrogate is below the exact diagonal at rows {below[:5]}: "
            f"{hess.ravel()[below[:5]]} < {exact.ravel()[below[:5]]}"
        )
    else:
        np.testing.assert_allclose(
            hess, np.maximum(exact, HESSIAN_FLOOR), rtol=1e-5, atol=1e-7
        )


def _results(loss: Loss, labels: Array, scores: Array, **kwargs: NDArray) -> tuple:
    grad, hess = loss.grad_hess(labels, scores, **kwargs)
    return grad, hess, loss.loss(labels, scores, reduction="sum", **kwargs)


def check_groups_are_independent(loss: Loss, case: Case) -> None:
    """Check that groups together give what each gives alone (sums add up)."""
    if not loss.needs_groups:
        return
    grad, hess, total = _results(loss, case.y_true, case.y_pred, **case.kwargs())
    parts = 0.0
    for g, (start, stop) in enumerate(itertools.pairwise(case.offsets)):
        part = slice(start, stop)
        alone = _results(
            loss,
            case.y_true[part],
            case.y_pred[part],
            group=case.group[g : g + 1],
            sample_weight=case.sample_weight[part],
        )
        np.testing.assert_allclose(grad[part], alone[0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(hess[part], alone[1], rtol=1e-12)
        parts += alone[2]
    np.testing.assert_allclose(total, parts, rtol=1e-10)


def _label_stable_permutation(case: Case, rng: np.random.Generator) -> NDArray:
    """Shuffle rows within groups (equal labels keep their order); reverse groups."""
    order = []
    for start, stop in itertools.pairwise(case.offsets):
        labels = case.y_true[start:stop]
        shuffled = rng.permutation(stop - start)
        # positions of each label value, in row order, dealt to the shuffled slots
        slots = {value: iter(np.flatnonzero(labels == value)) for value in set(labels)}
        order.append(start + np.array([next(slots[labels[k]]) for k in shuffled]))
    return np.concatenate(order[::-1]).astype(np.int64)


def check_permutation(loss: Loss, case: Case) -> None:
    """Check that permuting rows (ties kept in order) and groups permutes results."""
    if not loss.needs_groups:
        return
    order = _label_stable_permutation(case, np.random.default_rng(5))
    grad, hess, total = _results(loss, case.y_true, case.y_pred, **case.kwargs())
    p_grad, p_hess, p_total = _results(
        loss,
        case.y_true[order],
        case.y_pred[order],
        group=case.group[::-1],
        sample_weight=case.sample_weight[order],
    )
    np.testing.assert_allclose(p_grad, grad[order], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p_hess, hess[order], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(p_total, total, rtol=1e-10)


def check_shift_invariance(loss: Loss, case: Case) -> None:
    """Check that a ranking loss sees only score differences within a group."""
    if not loss.needs_groups:
        return
    shifted = case.y_pred.copy()
    start, stop = case.offsets[4], case.offsets[5]
    shifted[start:stop] += 3.7
    for reduction in ("sum", "none"):
        np.testing.assert_allclose(
            loss.loss(case.y_true, shifted, reduction=reduction, **case.kwargs()),
            loss.loss(case.y_true, case.y_pred, reduction=reduction, **case.kwargs()),
            rtol=1e-9,
            atol=1e-12,
        )
    np.testing.assert_allclose(
        loss.grad_hess(case.y_true, shifted, **case.kwargs())[0],
        loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())[0],
        rtol=1e-9,
        atol=1e-12,
    )


def check_ignored_rows(loss: Loss, case: Case) -> None:
    """Check that ignored rows get gradient 0 and the floor, as dropped rows."""
    grad, hess, total = _results(loss, case.y_true, case.y_pred, **case.kwargs())
    ignored = case.y_true < 0
    assert np.all(grad[ignored] == 0), "an ignored row has a non-zero gradient"
    assert np.all(hess[ignored] == HESSIAN_FLOOR), "an ignored row's hessian > floor"
    if loss.is_multiclass:
        return
    keep = ~ignored
    sizes = np.diff(np.concatenate(([0], np.cumsum(keep)))[case.offsets])
    dropped = _results(
        loss,
        case.y_true[keep],
        case.y_pred[keep],
        group=sizes[sizes > 0],
        sample_weight=case.sample_weight[keep],
    )
    np.testing.assert_allclose(grad[keep], dropped[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hess[keep], dropped[1], rtol=1e-12)
    np.testing.assert_allclose(total, dropped[2], rtol=1e-12)


def check_extreme_scores(loss: Loss, case: Case) -> None:
    """Check that scores of 1e-8 and 1e4 give finite values and hessians > 0."""
    for scale in (1e-8, 1e4):
        scores = case.y_pred / max(float(np.abs(case.y_pred).max()), 1e-300) * scale
        grad, hess, total = _results(loss, case.y_true, scores, **case.kwargs())
        assert np.isfinite(total), f"loss is not finite at score scale {scale}"
        assert np.all(np.isfinite(grad)), f"gradient not finite at scale {scale}"
        assert np.all(np.isfinite(hess) & (hess > 0)), f"bad hessian at scale {scale}"


def check_inputs_unchanged(loss: Loss, case: Case) -> None:
    """Check that no call writes into its inputs (they are made read-only)."""
    arrays = {
        "y_true": case.y_true.copy(),
        "y_pred": case.y_pred.copy(),
        "sample_weight": case.sample_weight.copy(),
        "mask": np.arange(case.y_true.shape[0]) % 7 != 0,
    }
    for value in arrays.values():
        value.flags.writeable = False  # a write raises
    group = case.group if loss.needs_groups else None
    loss.grad_hess(**arrays, group=group)
    loss.loss(**arrays, group=group, reduction="none")
    loss.activation(arrays["y_pred"], group=group)


def check_object_protocol(loss: Loss, case: Case) -> None:
    """Check that pickling, copying and rebuilding give equal losses."""
    for clone in (
        pickle.loads(pickle.dumps(loss)),
        copy.deepcopy(loss),
        type(loss)(**loss.get_params()),
    ):
        assert clone == loss, f"{clone!r} != {loss!r}"
        assert hash(clone) == hash(loss)
        assert repr(clone) == repr(loss)


CHECKS: tuple[Callable[[Loss, Case], None], ...] = (
    check_gradient,
    check_hessian,
    check_groups_are_independent,
    check_permutation,
    check_shift_invariance,
    check_ignored_rows,
    check_extreme_scores,
    check_inputs_unchanged,
    check_object_protocol,
)
"""Every contract check, in the order :func:`check_loss` runs them."""


def check_loss(loss: Loss, seeds: tuple[int, ...] = (0, 1)) -> None:
    """Run every contract check on ``loss`` with cases of the given seeds.

    Parameters
    ----------
    loss : Loss
        The loss to check.
    seeds : tuple of int, default (0, 1)
        Seeds of :func:`make_case`.

    Raises
    ------
    AssertionError
        Naming the broken property.
    """
    for seed in seeds:
        case = make_case(loss, seed=seed)
        for check in CHECKS:
            check(loss, case)

r"""Pairwise ranking losses with keras_rs semantics.

All of them sum a pair function :math:`f` of the tempered score difference over the
ordered pairs of a list whose labels differ:

.. math::

    \mathcal{L} = \sum_i \sum_j \lambda_{ij} \, w_i \, \mathbb{I}(y_i > y_j) \,
        f\!\left(\frac{s_i - s_j}{T}\right)

The pair's loss is credited to its higher-labelled row i (the per-row values of
``reduction="none"``) and weighted by that row's sample weight, on both ends of the
gradient. :math:`\lambda_{ij} = 1` unless a ``lambda_weight`` is given
(:mod:`gbrank.losses.lambdaweights`). :class:`PairwiseMeanSquaredError` differs:
every ordered pair of distinct rows counts, label ties included, and there is no
temperature (keras_rs's code).

What the boosters get is the loss's booster step (``step``,
:mod:`gbrank.losses.steps`): by default the pairs with a row in the current top
30 by score, each query's step normalised as LightGBM's ``lambdarank`` does
(:data:`~gbrank.losses.steps.TOP30_QUERY`); with a lambda weight, and for
``pairwise_soft_zero_one``, each pair is also weighted by
:math:`1 / (0.01 + |s_i - s_j|)`: LightGBM's full ``lambdarank`` recipe.
The defaults were chosen on five real LETOR sets and two synthetic ones
(``benchmarks/letor.py``; the numbers are in :mod:`gbrank.losses.steps`).
:meth:`~gbrank.Loss.loss` and :meth:`~gbrank.Loss.grad_hess` are the neural
twin's value and its exact derivative.

:class:`PairwiseQRLoss` (rax's pairwise quantile regression) regresses score
differences on label differences with asymmetric absolute (or squared) errors.
LambdaLoss (:mod:`gbrank.losses.lambdaloss`) and YetiRank
(:mod:`gbrank.losses.yetirank`) are pairwise losses with their own pair weights.

Cost per list of n valid rows: the booster step O(n k) with its top-k pairs;
the exact derivatives O(n²) (every pair) except for the hinge without lambda
weights, O(n log n) (after one sort by score, a row's active pairs are range
counts; :func:`gbrank._kernels.pairwise.hinge_sorted`), and the squared error
without lambda weights, O(n) (its pair sums reduce to per-list moments). A pair
costs a few nanoseconds (one exponential per row, not per pair); memory is O(n).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from gbrank._kernels.lambdaweights import Gain, LambdaKind
from gbrank._kernels.pairfunctions import (
    HINGE,
    LOGISTIC,
    QUANTILE,
    SOFT_ZERO_ONE,
    SQUARED_ERROR,
    PairFunction,
    PairParameters,
)
from gbrank._kernels.pairwise import (
    PairConfig,
    PairHessian,
    PairSelection,
    constant_hessian,
    exact_sums,
    pair_sums,
)
from gbrank._validation import check_choice, check_real
from gbrank.losses.base import Array, Batch, Loss, check_temperature
from gbrank.losses.lambdaweights import LambdaWeight, resolve_lambda_weight
from gbrank.losses.steps import EXACT, LAMBDARANK, TOP30, TOP30_QUERY, PairStep

STEPS = {
    "exact": EXACT,
    "lambdarank": LAMBDARANK,
    "top30": TOP30,
    "top30_query": TOP30_QUERY,
}
"""Named booster steps (``"auto"`` is each loss's own default)."""


class _PairwiseLoss(Loss):
    """Shared machinery: checks, the kernels' options, no activation.

    A pairwise loss is its class (parameters, documentation) and its pair
    function (:mod:`gbrank._kernels.pairfunctions`), named by ``pair``: the
    kernels, the flags and the parameters they read come from there.
    """

    pair: ClassVar[PairFunction]
    _auto_step: ClassVar[PairStep] = TOP30_QUERY
    lambda_weight: str | LambdaWeight | None
    step: str | PairStep

    @property
    def differentiable(self) -> bool:
        """Whether ``grad_hess`` is the gradient of a smooth loss.

        False for the hinge and under rank-based lambda weights (DCG, NDCG),
        whose gradient is taken with the weights frozen.
        """
        weight = resolve_lambda_weight(self.lambda_weight)
        smooth = self.pair.smooth
        return smooth and (weight is None or not weight.depends_on_scores)

    def check_params(self) -> None:
        """Validate the temperature, the lambda weight and the booster step."""
        check_temperature(self._temperature())
        resolve_lambda_weight(self.lambda_weight)
        self.resolved_step().check()

    def resolved_step(self) -> PairStep:
        """Return the :class:`~gbrank.losses.steps.PairStep` that ``step`` names."""
        if isinstance(self.step, PairStep):
            return self.step
        if self.step == "auto":
            return self._default_step()
        if isinstance(self.step, str) and self.step in STEPS:
            return STEPS[self.step]
        raise ValueError(
            f"step={self.step!r} is not supported; pass 'auto', "
            f"{', '.join(repr(name) for name in STEPS)} or a "
            "gbrank.losses.steps.PairStep."
        )

    def _default_step(self) -> PairStep:
        """Return the step ``"auto"`` names.

        LightGBM's ``lambdarank`` recipe with a lambda weight (LambdaMART then
        gets LightGBM's own gradients), else the loss's own default
        (:mod:`gbrank.losses.steps` has the measurements).
        """
        if resolve_lambda_weight(self.lambda_weight) is not None:
            return LAMBDARANK
        return self._auto_step

    def check_labels(self, labels: Array) -> None:
        """Also check the labels against the lambda weight's gain."""
        super().check_labels(labels)
        weight = resolve_lambda_weight(self.lambda_weight)
        if weight is not None:
            weight.check_labels(labels)

    def _temperature(self) -> float:
        """Return the kernels' temperature: 1 for a loss without one."""
        return 1.0 if self.temperature is None else self.temperature

    def _hessian(self) -> PairHessian:
        return PairHessian.CURVATURE

    def _lambda_args(self) -> tuple[LambdaKind, int, Gain, dict[str, Any]]:
        """Return the kernel's lambda weight: kind, topn, gain, further options."""
        weight = resolve_lambda_weight(self.lambda_weight)
        if weight is None:
            return LambdaKind.NONE, 0, Gain.LINEAR, {}
        return (*weight.kernel_args(), weight.kernel_options())

    def _pair_parameters(self) -> PairParameters:
        """Return the parameters the pair function reads, as floats, in its slots."""
        values = [float(getattr(self, name)) for name in self.pair.parameters]
        slots = [*values, 0.0, 0.0]
        return slots[0], slots[1]

    def _config(self, need_loss: bool, step: PairStep = EXACT) -> PairConfig:
        lambda_kind, topn, gain, options = self._lambda_args()
        selection = PairSelection.ALL
        if step.topk is not None:
            selection = PairSelection.TOPK
        elif step.pairs_per_row is not None:
            selection = PairSelection.SAMPLED
        return PairConfig(
            pair=self.pair.code,
            temperature=float(self._temperature()),
            hessian=int(self._hessian()),
            lambda_kind=int(lambda_kind),
            topn=topn,
            gain=int(gain),
            need_loss=need_loss,
            selection=int(selection),
            topk=int(step.topk or 0),
            pairs_per_row=int(step.pairs_per_row or 0),
            seed=int(step.seed),
            score_normalization=step.score_normalization,
            parameters=self._pair_parameters(),
            **options,
        )

    def compute_booster(self, batch: Batch) -> tuple[Array, Array]:
        """Return the booster step of ``step`` (see :mod:`gbrank.losses.steps`)."""
        step = self.resolved_step()
        if step == EXACT:
            return super().compute_booster(batch)
        rows, out = batch.rows, self.outputs(batch)
        config = self._config(False, step)
        mass = pair_sums(rows, config, out)
        grad, hess = out.grad, out.hess
        if config.hessian == PairHessian.CONSTANT:
            hess = constant_hessian(rows, config.temperature)
        if step.query_normalization:
            factor = np.ones(mass.size)
            np.divide(np.log2(1.0 + mass), mass, out=factor, where=mass > 0)
            per_row = np.repeat(factor, batch.groups.sizes)
            grad, hess = grad * per_row, hess * per_row
        return grad, hess

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Pair sums of every group (see the class notes)."""
        rows, out = batch.rows, self.outputs(batch)
        config = self._config(need_loss)
        exact_sums(rows, config, out)
        hess = out.hess
        if config.hessian == PairHessian.CONSTANT:
            hess = constant_hessian(rows, config.temperature)
        return out.loss, out.grad, hess

    def compute_activation(self, batch: Batch) -> Array:
        """Scores are the activation (identity)."""
        return batch.scores.copy()


class PairwiseHingeLoss(_PairwiseLoss):
    r"""Pairwise hinge loss, as keras_rs ``PairwiseHingeLoss``.

    Parameters
    ----------
    temperature : float, default 1.0
        Score differences are divided by it before the hinge; must be > 0.
    hessian : {"active_pairs", "constant"}, default "active_pairs"
        Positive surrogate for the hessian, which is 0 almost everywhere.
        ``"active_pairs"``: every pair inside the margin (:math:`d_{ij} < 1`)
        adds :math:`\lambda_{ij} w_i / T^2` to the hessian of both its rows, the
        curvature of a hinge smoothed over one margin width. ``"constant"``:
        :math:`w_i / T^2` on every valid row (a plain gradient step).
    lambda_weight : str, LambdaWeight or None, default None
        Per-pair weight :math:`\lambda_{ij}` (:mod:`gbrank.losses.lambdaweights`).
    step : {"auto", "top30_query", "top30", "lambdarank", "exact"} or PairStep, \
default "auto"
        The Newton step handed to the booster (:mod:`gbrank.losses.steps`);
        ``"auto"`` is ``"top30_query"``, or ``"lambdarank"`` with a lambda
        weight. :meth:`loss` and :meth:`grad_hess` ignore it.

    Notes
    -----
    Per list, with :math:`d_{ij} = (s_i - s_j)/T` and :math:`\lambda_{ij} = 1`
    without lambda weights:

    .. math::

        \mathcal{L} = \sum_{i,j:\, y_i > y_j} \lambda_{ij} w_i \max(0, 1 - d_{ij}),
        \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = \frac{1}{T}\Big(
            \sum_{j:\, y_j < y_k,\ d_{kj} < 1} (-\lambda_{kj} w_k)
            + \sum_{i:\, y_i > y_k,\ d_{ik} < 1} \lambda_{ik} w_i \Big)

    Ties in labels form no pair; ignored rows (label < 0 or masked) form none.
    The hessian is a surrogate (``approx_hessian = True``); rows in no active pair
    get the floor 1e-16. The default reduction is keras_rs's
    ``"sum_over_batch_size"``: the sum divided by the number of rows, ignored ones
    included.

    References
    ----------
    .. [1] R. Herbrich, T. Graepel, K. Obermayer, "Large Margin Rank Boundaries for
       Ordinal Regression", Advances in Large Margin Classifiers, MIT Press, 2000.
    .. [2] keras-team/keras-rs, ``keras_rs.losses.PairwiseHingeLoss``
       (keras_rs/src/losses/pairwise_hinge_loss.py).

    See Also
    --------
    keras_rs.losses.PairwiseHingeLoss : the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PairwiseHingeLoss()
    >>> round(loss.loss([1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8]), 5)
    2.32
    """

    name = "pairwise_hinge"
    approx_hessian = True
    pair = HINGE
    _hessians: ClassVar[dict[str, PairHessian]] = {
        "active_pairs": PairHessian.CURVATURE,
        "constant": PairHessian.CONSTANT,
    }

    def __init__(
        self,
        *,
        temperature: float = 1.0,
        hessian: str = "active_pairs",
        lambda_weight: str | LambdaWeight | None = None,
        step: str | PairStep = "auto",
    ):
        self.temperature = temperature
        self.hessian = hessian
        self.lambda_weight = lambda_weight
        self.step = step

    def check_params(self) -> None:
        """Validate the parameters."""
        super().check_params()
        check_choice(self.hessian, "hessian", self._hessians)

    def _hessian(self) -> PairHessian:
        return self._hessians[self.hessian]


class PairwiseLogisticLoss(_PairwiseLoss):
    r"""Pairwise logistic loss (RankNet), as keras_rs ``PairwiseLogisticLoss``.

    Parameters
    ----------
    temperature : float, default 1.0
        Score differences are divided by it; must be > 0.
    lambda_weight : str, LambdaWeight or None, default None
        Per-pair weight :math:`\lambda_{ij}`; ``"ndcg"`` makes this LambdaMART.
    step : {"auto", "top30_query", "top30", "lambdarank", "exact"} or PairStep, \
default "auto"
        The Newton step handed to the booster (:mod:`gbrank.losses.steps`);
        ``"auto"`` is ``"top30_query"``, or ``"lambdarank"`` with a lambda
        weight. :meth:`loss` and :meth:`grad_hess` ignore it.

    Notes
    -----
    Per list, with :math:`d_{ij} = (s_i - s_j)/T` and :math:`\sigma` the sigmoid:

    .. math::

        \mathcal{L} = \sum_{i,j:\, y_i > y_j} \lambda_{ij} w_i \log(1 + e^{-d_{ij}}),
        \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = \frac{1}{T}\Big(
            -\sum_{j:\, y_j < y_k} \lambda_{kj} w_k \sigma(-d_{kj})
            + \sum_{i:\, y_i > y_k} \lambda_{ik} w_i \sigma(-d_{ik}) \Big)

        \frac{\partial^2 \mathcal{L}}{\partial s_k^2} = \frac{1}{T^2}
            \sum_{\text{pairs } (i, j) \ni k} \lambda_{ij} w_i \,
            \sigma(d_{ij}) \sigma(-d_{ij})

    :math:`\log(1 + e^{-d})` is computed as :math:`\max(-d, 0) +
    \log(1 + e^{-|d|})`. The hessian is the exact diagonal (with frozen lambda
    weights). Label ties and ignored rows form no pair. Default reduction:
    keras_rs's ``"sum_over_batch_size"`` (sum ÷ number of rows, ignored included).

    References
    ----------
    .. [1] C. Burges, T. Shaked, E. Renshaw, A. Lazier, M. Deeds, N. Hamilton,
       G. Hullender, "Learning to Rank using Gradient Descent", ICML 2005 (RankNet).
    .. [2] keras-team/keras-rs, ``keras_rs.losses.PairwiseLogisticLoss``
       (keras_rs/src/losses/pairwise_logistic_loss.py).

    See Also
    --------
    keras_rs.losses.PairwiseLogisticLoss : the neural twin.
    lightgbm : ``objective="lambdarank"``, the native twin of ``lambda_weight="ndcg"``.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PairwiseLogisticLoss()
    >>> round(loss.loss([1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8]), 5)
    1.70708
    """

    name = "pairwise_logistic"
    pair = LOGISTIC

    def __init__(
        self,
        *,
        temperature: float = 1.0,
        lambda_weight: str | LambdaWeight | None = None,
        step: str | PairStep = "auto",
    ):
        self.temperature = temperature
        self.lambda_weight = lambda_weight
        self.step = step


class PairwiseSoftZeroOneLoss(_PairwiseLoss):
    r"""Pairwise soft zero-one loss, as keras_rs ``PairwiseSoftZeroOneLoss``.

    Parameters
    ----------
    temperature : float, default 1.0
        Score differences are divided by it; must be > 0.
    lambda_weight : str, LambdaWeight or None, default None
        Per-pair weight :math:`\lambda_{ij}` (:mod:`gbrank.losses.lambdaweights`).
    step : {"auto", "top30_query", "top30", "lambdarank", "exact"} or PairStep, \
default "auto"
        The Newton step handed to the booster (:mod:`gbrank.losses.steps`);
        ``"auto"`` is ``"lambdarank"`` (the others' top-30 query-normalised step
        plus score normalisation, which this bounded pair function needs on
        long lists: :data:`gbrank.losses.steps.LAMBDARANK`). :meth:`loss` and
        :meth:`grad_hess` ignore it.

    Notes
    -----
    Per list, with :math:`d_{ij} = (s_i - s_j)/T` and :math:`\sigma` the sigmoid:

    .. math::

        \mathcal{L} = \sum_{i,j:\, y_i > y_j} \lambda_{ij} w_i \sigma(-d_{ij}),
        \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = \frac{1}{T}\Big(
            -\sum_{j:\, y_j < y_k} \lambda_{kj} w_k \sigma(d_{kj})\sigma(-d_{kj})
            + \sum_{i:\, y_i > y_k} \lambda_{ik} w_i \sigma(d_{ik})\sigma(-d_{ik})
            \Big)

    The exact curvature of a pair, :math:`f''(d) = \sigma(d)\sigma(-d)
    (\sigma(d) - \sigma(-d))`, is negative for :math:`d < 0` and 0 at
    :math:`d = 0`, where the gradient is largest. The hessian given to boosters
    (``approx_hessian = True``) replaces it by :math:`|f'(d)| =
    \sigma(d)\sigma(-d) \ge |f''(d)|`:

    .. math::

        h_k = \frac{1}{T^2} \sum_{\text{pairs } (i, j) \ni k}
            \lambda_{ij} w_i \, \sigma(d_{ij}) \sigma(-d_{ij})

    so it bounds the exact diagonal from above, is > 0 on every row in a pair,
    and a lone pair's Newton step :math:`|f'| / h = T` is one temperature
    (the logistic loss's curvature, same scale). Label ties and ignored rows form
    no pair. Default reduction: keras_rs's ``"sum_over_batch_size"``.

    References
    ----------
    .. [1] keras-team/keras-rs, ``keras_rs.losses.PairwiseSoftZeroOneLoss``
       (keras_rs/src/losses/pairwise_soft_zero_one_loss.py).
    .. [2] tensorflow/ranking, ``tfr.keras.losses.PairwiseSoftZeroOneLoss``.

    See Also
    --------
    keras_rs.losses.PairwiseSoftZeroOneLoss : the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PairwiseSoftZeroOneLoss()
    >>> round(loss.loss([1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8]), 5)
    0.86104
    """

    name = "pairwise_soft_zero_one"
    approx_hessian = True
    pair = SOFT_ZERO_ONE
    _auto_step = LAMBDARANK

    def __init__(
        self,
        *,
        temperature: float = 1.0,
        lambda_weight: str | LambdaWeight | None = None,
        step: str | PairStep = "auto",
    ):
        self.temperature = temperature
        self.lambda_weight = lambda_weight
        self.step = step


class PairwiseMeanSquaredError(_PairwiseLoss):
    r"""Pairwise squared error, as keras_rs ``PairwiseMeanSquaredError`` computes it.

    Parameters
    ----------
    lambda_weight : str, LambdaWeight or None, default None
        Per-pair weight :math:`\lambda_{ij}` (symmetric; label ties get 0).
    step : {"auto", "top30_query", "top30", "lambdarank", "exact"} or PairStep, \
default "auto"
        The Newton step handed to the booster (:mod:`gbrank.losses.steps`);
        ``"auto"`` is ``"top30_query"``, or ``"lambdarank"`` with a lambda
        weight. :meth:`loss` and :meth:`grad_hess` ignore it.

    Notes
    -----
    keras_rs's code (not its docstring, which shows :math:`\mathbb{I}(y_i > y_j)`)
    sums over every ordered pair of distinct valid rows, label ties included, and
    ignores its ``temperature``; this loss has none. Per list:

    .. math::

        \mathcal{L} = \sum_i \sum_{j \ne i} \lambda_{ij} w_i
            \big((y_i - y_j) - (s_i - s_j)\big)^2, \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = -2 \sum_{j \ne k}
            (\lambda_{kj} w_k + \lambda_{jk} w_j) \big((y_k - y_j) - (s_k - s_j)\big)

        \frac{\partial^2 \mathcal{L}}{\partial s_k^2} = 2 \sum_{j \ne k}
            (\lambda_{kj} w_k + \lambda_{jk} w_j)

    Each unordered pair appears twice, credited once to each of its rows (the
    per-row values of ``reduction="none"``) with that row's weight. The hessian
    is exact. Ignored rows form no pair. Default reduction: keras_rs's
    ``"sum_over_batch_size"`` (sum ÷ number of rows, ignored included).

    References
    ----------
    .. [1] keras-team/keras-rs, ``keras_rs.losses.PairwiseMeanSquaredError``
       (keras_rs/src/losses/pairwise_mean_squared_error.py).
    .. [2] tensorflow/ranking, ``tfr.keras.losses.PairwiseMeanSquaredError``.

    See Also
    --------
    keras_rs.losses.PairwiseMeanSquaredError : the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PairwiseMeanSquaredError()
    >>> round(loss.loss([1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8]), 5)
    19.104
    """

    name = "pairwise_mse"
    pair = SQUARED_ERROR

    def __init__(
        self,
        *,
        lambda_weight: str | LambdaWeight | None = None,
        step: str | PairStep = "auto",
    ):
        self.lambda_weight = lambda_weight
        self.step = step


class PairwiseQRLoss(_PairwiseLoss):
    r"""Pairwise quantile-regression loss, as rax ``pairwise_qr_loss``.

    Parameters
    ----------
    tau : float, default 0.5
        The quantile, in (0, 1]: the weight of a pair whose score difference
        falls short of its label difference (``1 - tau`` past it).
    squared : bool, default False
        Square both sides of the kink (a squared, asymmetric error).
    lambda_weight : str, LambdaWeight or None, default None
        Per-pair weight :math:`\lambda_{ij}` (:mod:`gbrank.losses.lambdaweights`).
    step : {"auto", "top30_query", "top30", "lambdarank", "exact"} or PairStep, \
default "auto"
        The Newton step handed to the booster (:mod:`gbrank.losses.steps`);
        ``"auto"`` is ``"top30_query"``, or ``"lambdarank"`` with a lambda
        weight. :meth:`loss` and :meth:`grad_hess` ignore it.

    Notes
    -----
    Per list, over the pairs with :math:`y_i > y_j`, with
    :math:`\rho_{ij} = (y_i - y_j) - (s_i - s_j)` (no temperature):

    .. math::

        \mathcal{L} = \sum_{i,j:\, y_i > y_j} \lambda_{ij} w_i \big(
            \tau \max(0, \rho_{ij})^{p} + (1 - \tau) \max(0, -\rho_{ij})^{p}\big)

    with :math:`p = 1`, or :math:`p = 2` when ``squared``: score differences
    are regressed on label differences, under-shooting pairs weighing
    :math:`\tau`. The gradient of a pair on its credited row i is
    :math:`-\tau` if :math:`\rho > 0`, :math:`1 - \tau` if :math:`\rho < 0`
    and 0 at the kink (JAX's convention, as rax) (squared: :math:`-2\tau\rho`,
    :math:`-2(1 - \tau)\rho`), and the opposite on row j.

    Hessian: squared, the exact diagonal (:math:`2\tau` or :math:`2(1 - \tau)`
    per pair on both rows, 0 at the kink). Unsquared, the exact hessian is 0
    almost everywhere; boosters get the surrogate (``approx_hessian = True``)
    where each pair adds the slope of the side of the kink it is on,
    :math:`\lambda_{ij} w_i \tau` (:math:`\rho \ge 0`) or
    :math:`\lambda_{ij} w_i (1 - \tau)` (:math:`\rho < 0`), to both rows: a
    lone pair's Newton step moves its score difference by one label unit, and
    a row's step is at most one label unit (as the hinge's surrogate steps by
    one margin). Label ties and ignored rows form no pair. Default reduction:
    ``"sum_over_batch_size"`` (the pairwise family's); rax's default, the mean
    over the valid pairs of the batch, has no gbrank reduction (use
    ``reduction="sum"`` and divide).

    References
    ----------
    .. [1] R. Koenker, G. Bassett, "Regression Quantiles", Econometrica 46(1),
       1978 (the check function).
    .. [2] google/rax, ``rax.pairwise_qr_loss`` (rax/_src/losses.py).

    See Also
    --------
    rax.pairwise_qr_loss : the neural twin.
    PairwiseMeanSquaredError : the symmetric squared error over every pair.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PairwiseQRLoss(tau=0.5)
    >>> round(loss.loss([2.0, 0.0, 1.0], [0.5, 1.0, 0.0], reduction="sum"), 5)
    2.5
    """

    name = "pairwise_qr"
    pair = QUANTILE

    def __init__(
        self,
        *,
        tau: float = 0.5,
        squared: bool = False,
        lambda_weight: str | LambdaWeight | None = None,
        step: str | PairStep = "auto",
    ):
        self.tau = tau
        self.squared = squared
        self.lambda_weight = lambda_weight
        self.step = step

    @property
    def approx_hessian(self) -> bool:
        """True unless ``squared`` (the unsquared loss's hessian is 0 a.e.)."""
        return not self.squared

    def check_params(self) -> None:
        """Validate the parameters."""
        check_real(self.tau, "tau", low=0.0, high=1.0, low_open=True)
        if not isinstance(self.squared, (bool, np.bool_)):
            raise ValueError(f"squared must be True or False, got {self.squared!r}.")
        super().check_params()

r"""Approximate-rank losses: ApproxNDCG, ApproxMRR and Gumbel ApproxNDCG.

A metric of ranks becomes differentiable when each row's rank is replaced by
its approximate rank (Qin, Liu & Li 2010)

.. math::  r_i = 1 + \sum_{j \ne i} \sigma\big((s_j - s_i) / T\big)

over the list's valid rows; the loss is minus the metric. These losses follow
TF-Ranking's ``ApproxNDCGLoss`` / ``ApproxMRRLoss`` / ``GumbelApproxNDCGLoss``
(rax's ``approx_t12n`` / ``gumbel_t12n`` give the same values without
weights): temperature 0.1 by default, per-row weights as TF-Ranking's list
weight :math:`W = \sum_i w_i y_i / \sum_i y_i` (a per-list weight scales the
list's loss), one value per list, default reduction the sum over lists divided
by their number (``"sum_over_batch_size"``, Keras' ``AUTO``). Scores are raw
ranking scores (activation: identity).

Cost: O(n²) time per list of n rows (every pair enters every approximate rank;
the references build the n x n matrix of pairs), O(n) memory; the default
booster step of lists of more than 2,048 rows: O(n·K + near pairs) (below).

Booster step (``step="auto"``): the hessian surrogate :math:`h` of
:meth:`~gbrank.Loss.grad_hess` bounds the exact diagonal and keeps
:math:`|g_k| \le T h_k`, so a plain Newton step moves
a row by at most :math:`T` per round, too little on long lists (measured below).
The boosters get instead, per list, the gradient and the surrogate divided by
the list's mean surrogate (hessians then average 1 per row, so XGBoost's
``min_child_weight`` and ``reg_lambda`` count rows whatever the temperature,
and training does not depend on the scale of :math:`T`), and the surrogate
multiplied by :data:`STEP_SCALE` :math:`\cdot T / T_{\mathrm{eff}}`, which
allows steps of up to :math:`10\, T_{\mathrm{eff}}` (:math:`T_{\mathrm{eff}}
= T`; with Gumbel noise :math:`\sqrt{T^2 + \beta^2}`, the scale at which the
expected approximate ranks change, since the difference of two Gumbel draws is
logistic with scale :math:`\beta`). Measured with ``benchmarks/quality.py``
(100-row lists, 100 rounds, seed 0): ApproxNDCG's NDCG@10 0.633 -> 0.811 on
LightGBM and 0.641 -> 0.799 on XGBoost; over seeds 0-3 it averages 0.802
(LightGBM; native ``lambdarank`` 0.802) and 0.794 (XGBoost; native
``rank:pairwise`` 0.795). Steps of up to 3 T or 30 T were worse; 20 T gained
0.002-0.003 on the long lists and lost 0.01 on the bundled sample.
``step="exact"`` hands :meth:`~gbrank.Loss.grad_hess` to the boosters.

Long lists: on lists of more than 2,048 rows
(:data:`~gbrank._kernels.approx_sweep.SWEEP_ROWS`; without ``topn``) the
``"auto"`` step is computed in a sorted sweep, O(n·K + near pairs) instead of
O(n²) (:mod:`gbrank._kernels.approx_sweep`: far pairs by polynomials carried
down the list, near pairs one by one). The gradient is the same to ~1e-12; the
surrogate is the same on near pairs, and the far pairs of a row enter it per
label level and side as :math:`|\sum_j \sigma'_{kj} (c_j - c_k)|`: exactly
their :math:`\sum_j \sigma'_{kj} |c_j - c_k|` where the differences share a
sign (always where the upper row has the higher label), less where they do
not, never less than the row's gradient (so :math:`|g_k| \le T h_k` holds).
One 100,000-row list: 0.17-0.26 s instead of about 5 s (0.41-0.46 s before
2026-12-07's economised series; until then only lists of more than 8,192 rows
were swept). It trains as every
pair does: 60 synthetic lists of 3,000 rows (40 train, 20 test, 50 rounds,
the sweep forced on every list), 12 seeds, 240 test lists, NDCG@10 with the
sweep minus every pair +0.0005 ± 0.0026 (s.e.) on LightGBM, -0.0013 ± 0.0030
on XGBoost. Taking :math:`c_j + c_k \ge |c_j - c_k|` on the far pairs whose
upper row has the lower label instead, as until 2026-12-07 (then the
``"sweep"`` step, not the default), lost -0.0062 ± 0.0032 and -0.0058 ± 0.0037
on the same lists. ``step="pairs"`` sums every pair at any length (the
``"auto"`` step before 2026-12-07); ``"sweep"`` is accepted as a name of
``"auto"``, so that models saved with it load.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from gbrank._kernels import approx as kernels
from gbrank._kernels.approx import ApproxConfig, ApproxMetric
from gbrank._kernels.approx_sweep import SWEEP_ROWS
from gbrank._validation import check_choice, check_int, check_real
from gbrank.losses.base import Array, Batch, Loss, check_temperature

PAIR_NS = 4.0
"""Estimated nanoseconds per unordered pair and draw, for cutting work into chunks."""

STEP_SCALE = 0.1
"""Factor of the normalised surrogate in the ``"auto"`` booster step: Newton
steps of up to 10 effective temperatures."""

STEPS = ("auto", "pairs", "exact", "sweep")


def normalized_step(
    batch: Batch, grad: Array, hess: Array, scale: float
) -> tuple[Array, Array]:
    """Divide each list's gradient and hessian by its mean hessian; scale the latter.

    A list whose hessians sum to 0 keeps zeros. Each ratio is formed as
    ``h / sum h`` first, so tiny sums cannot overflow.
    """
    starts = batch.groups.offsets[:-1]
    sizes = np.diff(batch.groups.offsets)
    total = np.repeat(np.add.reduceat(hess, starts), sizes)
    count = np.repeat(np.add.reduceat(batch.valid, starts), sizes).astype(np.float64)
    positive = total > 0.0
    grad_ratio = np.divide(grad, total, out=np.zeros_like(grad), where=positive)
    hess_ratio = np.divide(hess, total, out=np.zeros_like(hess), where=positive)
    return grad_ratio * count, hess_ratio * (count * scale)


class _ApproxLoss(Loss):
    """Shared machinery: one kernel, the configuration, identity activation."""

    per_group = True
    approx_hessian = True
    _metric: ClassVar[ApproxMetric]
    temperature: float
    step: str

    def check_params(self) -> None:
        """Validate the temperature and the booster step."""
        check_temperature(self.temperature)
        check_choice(self.step, "step", STEPS)

    def _smoothing(self) -> float:
        """Return the effective temperature: the score scale of the relaxation."""
        return float(self.temperature)

    def compute_booster(self, batch: Batch) -> tuple[Array, Array]:
        """Return the booster step (module docstring): auto, pairs or exact."""
        if self.step == "exact":
            return super().compute_booster(batch)
        config = self._config(False, cutoff_gradient=False)
        config = config._replace(sweep_above=0 if self.step == "pairs" else SWEEP_ROWS)
        _, grad, hess = self._run(batch, config)
        scale = STEP_SCALE * float(self.temperature) / self._smoothing()
        return normalized_step(batch, grad, hess, scale)

    def _config(self, need_loss: bool, cutoff_gradient: bool = True) -> ApproxConfig:
        return ApproxConfig(
            metric=int(self._metric),
            temperature=float(self.temperature),
            topn=0,
            cutoff_gradient=cutoff_gradient,
            samples=0,
            beta=0.0,
            seed=0,
            need_loss=need_loss,
        )

    def _run(self, batch: Batch, config: ApproxConfig) -> tuple[Array, Array, Array]:
        bits = batch.labels.view(np.int64)
        sizes = np.diff(batch.groups.offsets).astype(np.float64)
        # the sweep has a kernel of its own, compiled only when a list needs it
        sweep = 0 < config.sweep_above < sizes.max(initial=0)
        kernel = kernels.approx_metric_sweep if sweep else kernels.approx_metric
        # the swept lists' Gumbel draws run on the threads, a list at a time
        drawn = (sizes > config.sweep_above) & (sweep and config.samples > 1)
        todo = ~drawn
        out = self.run_groups(
            batch,
            lambda first, stop, rows, out: kernel(
                first, stop, rows, bits, config, todo, out
            ),
            np.where(todo, sizes * sizes * (PAIR_NS * max(config.samples, 1)), 0.0),
        )
        for group in np.flatnonzero(drawn):
            kernels.draws_in_parallel(batch.rows, int(group), bits, config, out)
        return out

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Loss, gradient and hessian surrogate of every list."""
        return self._run(batch, self._config(need_loss))

    def compute_activation(self, batch: Batch) -> Array:
        """Identity: approximate-rank losses score rows with raw scores."""
        return batch.scores.copy()


class ApproxNDCGLoss(_ApproxLoss):
    r"""ApproxNDCG: minus NDCG with approximate ranks (Qin et al. 2010).

    TF-Ranking's ``ApproxNDCGLoss`` (temperature 0.1) and rax's
    ``approx_t12n(ndcg_metric)``, with rax's approximate top-n cutoff.

    Parameters
    ----------
    temperature : float, default 0.1
        :math:`T` of the approximate ranks (TF-Ranking's default; rax's is 1);
        must be >= 1e-150.
    topn : int or None, default None
        Cut NDCG at ``topn`` (rax's ``topn``): each row's DCG term is
        multiplied by :math:`\kappa_i = \sigma((c - r_i)/T)`, with the cutoff
        point :math:`c` halfway between the ``topn``-th and the next smallest
        approximate rank, and the ideal DCG is cut at ``topn``. A list of at
        most ``topn`` rows is not cut.
    step : {"auto", "pairs", "exact"}, default "auto"
        The booster step (module :mod:`gbrank.losses.approx`): ``"auto"``
        normalises each list's gradient and surrogate and allows Newton steps
        of up to 10 T (with ``topn``, with rax's gradient, the cutoff point
        held fixed), on lists of more than 2,048 rows in O(n·K) by a sorted
        sweep with a per-level surrogate (module docstring); ``"pairs"`` sums
        every pair at any length, O(n²); ``"exact"`` hands :meth:`grad_hess`
        to the boosters. ``"sweep"``: another name of ``"auto"``.

    Notes
    -----
    Per list of valid rows, with gains :math:`G_i = 2^{y_i} - 1`, discount
    :math:`D(r) = 1/\log_2(1 + r)`, the exact ideal DCG :math:`I` of the
    labels and the list weight :math:`W = \sum_i w_i y_i / \sum_i y_i`:

    .. math::

        \mathcal{L} = -\frac{W}{I} \sum_i G_i D(r_i) \kappa_i

    (:math:`\kappa = 1` without ``topn``). With :math:`c_i = \partial
    \mathcal{L} / \partial r_i \ge 0` and :math:`d_{kj} = (s_k - s_j)/T`:

    .. math::

        \frac{\partial \mathcal{L}}{\partial s_k} =
            \frac{1}{T} \sum_{j \ne k} \sigma'(d_{kj}) (c_j - c_k)

    plus, with ``topn``, the motion of the cutoff point :math:`c`: rax holds it
    fixed with ``stop_gradient``, so its gradient is not the derivative of its
    value; :meth:`grad_hess` is the exact derivative, the ``"auto"`` booster
    step uses rax's gradient. (The cutoff point follows the ``topn``-th and
    next rows by score, ties by row order: a kink where they tie.) The loss is
    not convex; the hessian is the surrogate

    .. math::

        h_k = \frac{1}{T^2} \sum_{j \ne k} \sigma'(d_{kj})\, |c_j - c_k|
            \ \big[+ \tfrac{1}{T^2}\big(\phi_k''^{+} A_k^2 +
            \textstyle\sum_{j \ne k} \phi_j''^{+} \sigma'(d_{kj})^2\big)\big],

    :math:`A_k = \sum_j \sigma'(d_{kj})`, :math:`\phi_i(r) = -W G_i D(r)
    \kappa_i(r) / I`. It bounds the exact diagonal: the bracket (``topn``
    only) bounds the curvature of the :math:`\phi_i` (concave without
    ``topn``), the first sum the curvature of the approximate ranks, since
    :math:`|\sigma''| \le \sigma'`. With ``topn`` the moving cutoff point adds
    curvature the surrogate does not bound (``hessian_bounds_exact`` is False
    then). A Newton step with it moves a row by at most :math:`T`
    (:math:`|g_k| \le T h_k`), too little to train well: the default booster
    step (``step="auto"``) divides each list's gradient and surrogate by the
    list's mean surrogate and the surrogate by 10, which allows steps of up to
    :math:`10 T` and makes training independent of the scale of :math:`T`
    (measured on 100-row lists: NDCG@10 0.633 -> 0.811 on LightGBM).

    Per-row weights enter as TF-Ranking's list weight :math:`W` (rax instead
    multiplies the gains of both the DCG and the ideal DCG, so that a per-list
    weight cancels).

    A list without a positive label (ideal DCG 0) has loss 0 and zero gradient
    and counts in the mean (TF-Ranking gives it weight 0; rax divides by 1).
    Tied scores need no rule (:math:`\sigma(0) = 1/2`). Ignored rows take part
    in nothing; padded rows of a rax batch count in rax's top-n cutoff (rax
    ranks them first), so with ``topn`` gbrank equals rax on lists without
    padding. Default reduction ``"sum_over_batch_size"`` (TF-Ranking's;
    rax's mean over lists with a valid row is ``"mean_over_valid"``).

    References
    ----------
    .. [1] T. Qin, T.-Y. Liu, H. Li, "A general approximation framework for
       direct optimization of information retrieval measures", Information
       Retrieval 13, 2010.
    .. [2] TF-Ranking ``tfr.keras.losses.ApproxNDCGLoss`` and rax
       ``rax.approx_t12n(rax.ndcg_metric)``, whose values and gradients this
       loss reproduces (allRank's ``approxNDCGLoss`` with ``alpha = 1/T``
       agrees too).

    See Also
    --------
    tfr.keras.losses.ApproxNDCGLoss : the neural twin.
    GumbelApproxNDCGLoss : its expectation under Gumbel noise on the scores.
    NeuralNDCGLoss : NDCG of a relaxed sort.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.ApproxNDCGLoss()
    >>> round(loss.loss([1.0, 0.0], [5.0, 0.0]), 6)  # ranks 1 and 2: NDCG 1
    -1.0
    """

    name = "approx_ndcg"
    _metric = ApproxMetric.NDCG

    def __init__(
        self, *, temperature: float = 0.1, topn: int | None = None, step: str = "auto"
    ):
        self.temperature = temperature
        self.topn = topn
        self.step = step

    @property
    def hessian_bounds_exact(self) -> bool:
        """False with ``topn``: the moving cutoff point adds curvature."""
        return self.topn is None

    def check_params(self) -> None:
        """Validate the temperature and topn."""
        super().check_params()
        check_int(self.topn, "topn", allow_none=True)

    def _config(self, need_loss: bool, cutoff_gradient: bool = True) -> ApproxConfig:
        config = super()._config(need_loss, cutoff_gradient)
        return config._replace(topn=0 if self.topn is None else int(self.topn))


class ApproxMRRLoss(_ApproxLoss):
    r"""ApproxMRR: minus label-weighted reciprocal rank with approximate ranks.

    TF-Ranking's ``ApproxMRRLoss`` (Qin et al. 2010).

    Parameters
    ----------
    temperature : float, default 0.1
        :math:`T` of the approximate ranks; must be >= 1e-150.
    step : {"auto", "pairs", "exact"}, default "auto"
        The booster step, as :class:`ApproxNDCGLoss`'s.

    Notes
    -----
    Per list of valid rows, with :math:`Y = \sum_i y_i` and the list weight
    :math:`W = \sum_i w_i y_i / Y`:

    .. math::

        \mathcal{L} = -\frac{W}{Y} \sum_i \frac{y_i}{r_i}, \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} =
            \frac{1}{T} \sum_{j \ne k} \sigma'(d_{kj}) (c_j - c_k), \quad
        c_i = \frac{W y_i}{Y r_i^2}

    Graded labels weigh the reciprocal ranks (they are not binarised), as in
    TF-Ranking; rax's ``approx_t12n(mrr_metric)`` is a different loss (minus
    the reciprocal rank of the best-ranked row with label >= 1). The hessian
    given to boosters is the surrogate
    :math:`h_k = T^{-2} \sum_{j \ne k} \sigma'(d_{kj}) |c_j - c_k|`, an upper
    bound of the exact diagonal (:math:`-y/r` is concave in :math:`r` and
    :math:`|\sigma''| \le \sigma'`). A list without a positive label has loss
    0 and counts in the mean. Ties and ignored rows as in
    :class:`ApproxNDCGLoss`. Default reduction ``"sum_over_batch_size"``
    (TF-Ranking's Keras ``AUTO``).

    References
    ----------
    .. [1] T. Qin, T.-Y. Liu, H. Li, "A general approximation framework for
       direct optimization of information retrieval measures", Information
       Retrieval 13, 2010.
    .. [2] TF-Ranking ``tfr.keras.losses.ApproxMRRLoss``, whose values and
       gradients this loss reproduces.

    See Also
    --------
    tfr.keras.losses.ApproxMRRLoss : the neural twin.
    ApproxNDCGLoss

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.ApproxMRRLoss()
    >>> round(loss.loss([1.0, 0.0], [5.0, 0.0]), 6)  # rank 1
    -1.0
    """

    name = "approx_mrr"
    _metric = ApproxMetric.MRR

    def __init__(self, *, temperature: float = 0.1, step: str = "auto"):
        self.temperature = temperature
        self.step = step


class GumbelApproxNDCGLoss(_ApproxLoss):
    r"""ApproxNDCG of Gumbel-perturbed scores, averaged over draws (Bruch et al. 2020).

    TF-Ranking's ``GumbelApproxNDCGLoss`` / rax's
    ``gumbel_t12n(approx_t12n(ndcg_metric))``: a Monte-Carlo estimate of the
    expected ApproxNDCG loss under random perturbations of the scores.

    Parameters
    ----------
    temperature : float, default 0.1
        :math:`T` of the approximate ranks; must be >= 1e-150.
    samples : int, default 8
        Number of draws :math:`S` (TF-Ranking's ``sample_size``, rax's
        ``samples``).
    beta : float, default 1.0
        Scale of the noise (rax's ``beta``; TF-Ranking's ``gumbel_temperature``
        1 is the same); must be >= 0 (0: :class:`ApproxNDCGLoss`).
    seed : int, default 0
        Seed of the draws.
    step : {"auto", "pairs", "exact"}, default "auto"
        The booster step, as :class:`ApproxNDCGLoss`'s, with steps of up to
        :math:`10 \sqrt{T^2 + \beta^2}` (the noise smooths the expected ranks
        at the scale :math:`\beta`; measured: 0.708 NDCG@10 with steps of 10 T,
        0.80 with these, LightGBM, 100-row lists).

    Notes
    -----
    With standard Gumbel noise :math:`G^{(m)}_i` per row and draw:

    .. math::

        \mathcal{L} = \frac{1}{S} \sum_{m=1}^S
            \mathcal{L}_{\mathrm{ApproxNDCG}}(s + \beta G^{(m)}),

    and its gradient and hessian surrogate are the means of ApproxNDCG's at
    the perturbed scores (:class:`ApproxNDCGLoss`; the reparameterisation has
    :math:`\partial z / \partial s = I`): :meth:`grad_hess` is the exact
    derivative of :meth:`loss` for the seed, and over seeds its mean is the
    gradient of the expected loss :math:`E_G[\mathcal{L}_{\mathrm{ApproxNDCG}}
    (s + \beta G)]`. The surrogate bounds the exact diagonal. Cost O(S n²) per
    list.

    The draws are deterministic and stratified: row i's noise in draw m is
    :math:`-\log(-\log u)` with :math:`u = ((m + o_i) \bmod S + v_{im}) / S`,
    where the offset :math:`o_i` and :math:`v_{im} \in (0, 1)` are hashes of
    the seed (and m), the list's number of valid rows and wrapped sum of label
    bits, the row's label and its occurrence among the list's rows of that
    label (in row order). Each draw is standard Gumbel noise, independent
    across rows, so each draw's loss is unbiased; over its S draws a row
    visits every S-quantile of the distribution once, which lowers the
    Monte-Carlo error of the mean (measured on the bundled sample: NDCG@10
    0.733 -> 0.749 mean over 5 seeds, LightGBM). The loss does not depend on
    the list's position in the batch or on ignored rows, every boosting round
    sees the same draws (a fixed Monte-Carlo sample; TF-Ranking and rax draw
    afresh at every call), and rows of equal label that trade places trade
    draws. Lists with the same label multiset share draws, which correlates
    their Monte-Carlo errors but not their expectations. No
    ``log(softmax(z) + 1e-20)`` smoothing (TF-Ranking applies it; rax by
    default not): approximate ranks depend only on score differences, and the
    smoothing changes them only for rows whose softmax
    probability is below 1e-20. Weights, ties, ignored rows, lists without a
    positive label and the reduction as in :class:`ApproxNDCGLoss`.

    References
    ----------
    .. [1] S. Bruch, S. Han, M. Bendersky, M. Najork, "A Stochastic Treatment
       of Learning to Rank Scoring Functions", WSDM 2020.
    .. [2] TF-Ranking ``tfr.keras.losses.GumbelApproxNDCGLoss`` and rax
       ``rax.gumbel_t12n``, whose expected values and gradients this loss
       estimates.

    See Also
    --------
    tfr.keras.losses.GumbelApproxNDCGLoss : the neural twin.
    ApproxNDCGLoss : without noise.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.GumbelApproxNDCGLoss(seed=3)
    >>> loss.loss([1.0, 0.0], [5.0, 0.0]) == loss.loss([1.0, 0.0], [5.0, 0.0])
    True
    """

    name = "gumbel_approx_ndcg"
    _metric = ApproxMetric.NDCG

    def __init__(
        self,
        *,
        temperature: float = 0.1,
        samples: int = 8,
        beta: float = 1.0,
        seed: int = 0,
        step: str = "auto",
    ):
        self.temperature = temperature
        self.samples = samples
        self.beta = beta
        self.seed = seed
        self.step = step

    def _smoothing(self) -> float:
        """Return ``sqrt(T^2 + beta^2)``: the noise smooths the ranks at scale beta."""
        return math.hypot(float(self.temperature), float(self.beta))

    def check_params(self) -> None:
        """Validate the temperature, samples, beta and seed."""
        super().check_params()
        check_int(self.samples, "samples")
        check_real(self.beta, "beta", low=0.0)
        check_int(self.seed, "seed", minimum=0, maximum=2**63 - 1)

    def _config(self, need_loss: bool, cutoff_gradient: bool = True) -> ApproxConfig:
        config = super()._config(need_loss, cutoff_gradient)
        return config._replace(
            samples=int(self.samples), beta=float(self.beta), seed=int(self.seed)
        )

r"""NeuralNDCG: NDCG of a NeuralSort relaxation of the ranking (allRank)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from gbrank._kernels import neuralsort as kernels
from gbrank._kernels.neuralsort import NeuralConfig
from gbrank._validation import check_choice, check_int, check_positive
from gbrank.losses.base import Array, Batch, Loss, check_temperature

MAX_LIST_SIZE = 2048
"""Most valid rows of a list: NeuralNDCG keeps two n x n float64 matrices per
list (2048 rows: 64 MiB per thread)."""

CELL_NS = 1.5
"""Estimated nanoseconds per matrix cell and Sinkhorn iteration (forward and
backward), for cutting work into chunks."""

STEP_CELL_NS = 8.0
"""Estimated nanoseconds per row and matrix row of the ``"neuralsort"`` step."""

STEP_ROWS = 30
"""Rows of NeuralSort's matrix in the ``"neuralsort"`` booster step without
``topn`` (LightGBM's ``lambdarank_truncation_level``)."""

STEPS = ("exact", "neuralsort")


class NeuralNDCGLoss(Loss):
    r"""NeuralNDCG (Pobrotyn & Białobrzeski 2021), allRank's ``neuralNDCG``.

    Minus the NDCG of the labels sorted by NeuralSort's relaxed permutation
    matrix (Grover et al. 2019), made doubly stochastic by Sinkhorn scaling.

    Parameters
    ----------
    temperature : float, default 1.0
        NeuralSort's :math:`\tau`; must be >= 1e-150.
    topn : int or None, default None
        Cut the DCG and the ideal DCG at ``topn`` positions (allRank's ``k``).
    max_iter : int, default 50
        Most Sinkhorn iterations (allRank's 50).
    tol : float, default 1e-6
        Sinkhorn stops once every row and column sum is within ``tol`` of 1
        (allRank's 1e-6); must be > 0.
    step : {"exact", "neuralsort"}, default "exact"
        The booster step: :meth:`grad_hess`, or the gradient of NeuralSort's
        first ``topn`` (else 30) rows without Sinkhorn scaling, O(n (k + log
        n)) time and O(n) memory per list (Notes).

    Attributes
    ----------
    max_list_size : int
        Most valid rows of a list (2048): the loss keeps two n x n float64
        matrices per list (64 MiB per thread at 2048 rows).

    Notes
    -----
    Per list of n valid rows, with gains :math:`G_j = 2^{y_j} - 1`, discount
    :math:`D_r = 1/\log_2(1 + r)`, the exact ideal DCG :math:`I` (cut at
    ``topn``), the list weight :math:`W = \sum_i w_i y_i / \sum_i y_i` and
    :math:`A_j = \sum_k |s_j - s_k|`:

    .. math::

        \hat P^{(0)}_{rj} = \operatorname{softmax}_j
            \Big(\frac{(n + 1 - 2r) s_j - A_j}{\tau}\Big), \qquad
        \mathcal{L} = -\frac{W}{I} \sum_{r \le k} D_r \sum_j \hat P_{rj} G_j,

    :math:`\hat P` being :math:`\hat P^{(0)}` after Sinkhorn scaling
    (alternately dividing the columns and the rows by their sums, each clamped
    at 1e-10, until all sums are within ``tol`` of 1, at most ``max_iter``
    times). The gradient is the exact derivative through every executed
    iteration (reverse mode, what autograd gives allRank), with
    :math:`\partial |s_j - s_k| / \partial s_j = 0` at ties. Where two scores
    tie the loss has a kink, and where the number of Sinkhorn iterations
    changes it jumps (by the change of one iteration, below ``tol``), so
    :meth:`grad_hess` is the derivative where both stay put
    (``differentiable`` is False).

    The exact hessian has no closed form (second derivatives through the
    Sinkhorn iterations) and is indefinite. Boosters get the surrogate
    :math:`h_k = |g_k| / \tau`: NeuralSort separates two rows' positions by
    a softmax margin of :math:`|s_j - s_k| / \tau`, so :math:`\tau` is the
    relaxation's resolution in score units, and a leaf's Newton step
    :math:`-\sum g / \sum h` is at most :math:`\tau`, whatever the scale of
    the gradients (the scale of :class:`ApproxNDCGLoss`'s bound
    :math:`|g_k| \le T h_k`). It does not bound the exact diagonal
    (``hessian_bounds_exact`` is False).

    Cost: O(I n²) time per list for I Sinkhorn iterations (usually all 50 on
    lists of ~100 rows: about 0.4 ms per 100-row list and thread, 30-55 times
    the booster step of :class:`PairwiseLogisticLoss`; with one iteration it is
    still ~7 times, the n x n softmax and its backward pass), O(n²) memory
    allocated per list: lists of more than ``max_list_size`` valid rows are
    refused.

    Booster step ``step="neuralsort"``: the boosters get the gradient of
    :math:`-\frac{W}{I_k} \sum_{r \le k} D_r \sum_j \hat P^{(0)}_{rj} G_j`,
    NeuralSort's first :math:`k` rows (``topn``, else 30) without Sinkhorn
    scaling (:math:`I_k` the ideal DCG@k), and the surrogate :math:`|g| /
    \tau`. The spreads :math:`A_j` come from sorted prefix sums, so a list
    costs O(n (k + log n)) time and O(n) memory, and its length is not
    limited. Measured 2026-12-07 (2 threads): 2.0 times
    :class:`PairwiseLogisticLoss`'s step on 2,000 lists of 100 rows (the exact
    step: 35 times); one list of 100,000 rows in 0.13 s. It is not the
    default because it does not train as well everywhere (held-out NDCG@10,
    100 rounds at the estimators' defaults, this step against the exact one):

    - real data (``benchmarks/letor.py``, MQ2007-agg, MQ2008, OHSUMED and an
      MSLR-WEB10K sample, every fold, 2,668 test queries): +0.018 [+0.011,
      +0.025] on LightGBM, +0.013 [+0.006, +0.020] on XGBoost (paired, p <
      0.001), most of it on MQ2007-agg; 10 rows or every row instead of 30
      were within 0.005 of it;
    - 100-row synthetic lists (``benchmarks/quality.py``'s, 4 seeds): 0.775
      against 0.793 on LightGBM, 0.761 against 0.795 on XGBoost; the bundled
      sample: 0.680 against 0.722 and 0.693 against 0.739. Without the column
      scaling every top row puts its weight on the same high-scoring rows.

    Semantics against allRank: the Sinkhorn iterations stop per list
    (allRank's stopping test runs over the whole batch, so a list's value
    there depends on the other lists; the difference is within ``tol``); the
    ideal DCG is divided without allRank's 1e-10; lists without a positive
    label have loss 0 and count in the mean, whereas allRank averages over
    the lists with a positive label only, a reduction gbrank cannot express:
    the default ``"mean_over_valid"`` divides by the number of lists with a
    valid row (equal when every list has a positive label). allRank has no
    weights. Ignored rows take part in nothing (allRank's padding, which it
    assumes is at the end of the list). The activation is the identity.

    References
    ----------
    .. [1] P. Pobrotyn, R. Białobrzeski, "NeuralNDCG: Direct Optimisation of a
       Ranking Metric via Differentiable Relaxation of Sorting",
       arXiv:2102.07831, 2021.
    .. [2] A. Grover, E. Wang, A. Zweig, S. Ermon, "Stochastic Optimization of
       Sorting Networks via Continuous Relaxations", ICLR 2019.
    .. [3] allRank ``allrank.models.losses.neuralNDCG`` (allegro/allRank),
       whose values and gradients this loss reproduces.

    See Also
    --------
    allrank.models.losses.neuralNDCG : the neural twin.
    ApproxNDCGLoss : NDCG of approximate ranks, O(n²) without iterations.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.NeuralNDCGLoss()
    >>> round(loss.loss([1.0, 0.0], [0.0, 0.0]), 6)  # P uniform: -(1 + 1/log2 3)/2
    -0.815465
    """

    name = "neural_ndcg"
    temperature: float
    max_list_size: ClassVar[int] = MAX_LIST_SIZE
    per_group = True
    approx_hessian = True
    hessian_bounds_exact = False
    differentiable = False
    default_reduction = "mean_over_valid"

    def __init__(
        self,
        *,
        temperature: float = 1.0,
        topn: int | None = None,
        max_iter: int = 50,
        tol: float = 1e-6,
        step: str = "exact",
    ):
        self.temperature = temperature
        self.topn = topn
        self.max_iter = max_iter
        self.tol = tol
        self.step = step

    def check_params(self) -> None:
        """Validate the temperature, topn, max_iter and tol."""
        check_temperature(self.temperature)
        check_int(self.topn, "topn", allow_none=True)
        check_int(self.max_iter, "max_iter")
        check_positive(self.tol, "tol")
        check_choice(self.step, "step", STEPS)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """NeuralNDCG of every list; hessian surrogate ``|g| / tau``."""
        offsets = batch.groups.offsets
        counts = np.add.reduceat(batch.valid, offsets[:-1]) * (np.diff(offsets) > 0)
        if counts.size and counts.max() > self.max_list_size:
            group = int(np.argmax(counts))
            raise ValueError(
                f"neural_ndcg keeps two n x n matrices per list; list {group} has "
                f"{int(counts[group])} valid rows, more than {self.max_list_size}. "
                "Split or truncate long lists, or use approx_ndcg (O(n) memory)."
            )
        config = NeuralConfig(
            temperature=float(self.temperature),
            topn=0 if self.topn is None else int(self.topn),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            need_loss=need_loss,
        )
        sizes = counts.astype(np.float64)
        cost = sizes * sizes * (CELL_NS * config.max_iter)
        return self._run(batch, kernels.neural_ndcg, config, cost)

    def compute_booster(self, batch: Batch) -> tuple[Array, Array]:
        """Return the booster step: exact, or NeuralSort's top rows (Notes)."""
        if self.step == "exact":
            return super().compute_booster(batch)
        config = NeuralConfig(
            temperature=float(self.temperature),
            topn=STEP_ROWS if self.topn is None else int(self.topn),
            max_iter=0,
            tol=float(self.tol),
            need_loss=False,
        )
        sizes = np.diff(batch.groups.offsets).astype(np.float64)
        cost = sizes * (np.minimum(sizes, config.topn) + 10.0) * STEP_CELL_NS
        _, grad, hess = self._run(batch, kernels.neural_sort_step, config, cost)
        return grad, hess

    def _run(
        self, batch: Batch, kernel: Callable, config: NeuralConfig, cost: Array
    ) -> tuple[Array, Array, Array]:
        """Run ``kernel`` over the groups; hessian surrogate ``|g| / tau``."""
        out = self.run_groups(
            batch,
            lambda first, stop, rows, out: kernel(first, stop, rows, config, out),
            cost,
        )
        hess = np.abs(out.grad) / config.temperature
        return out.loss, out.grad, hess

    def compute_activation(self, batch: Batch) -> Array:
        """Identity: NeuralNDCG scores rows with raw scores."""
        return batch.scores.copy()

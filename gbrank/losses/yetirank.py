r"""YetiRank (Gulin et al. 2011): pairs from randomly perturbed rankings."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gbrank._kernels.yetirank import YetiConfig, perturbed_scores, yetirank_sums
from gbrank._validation import as_float_array, check_int, check_real
from gbrank.losses.base import Array, Batch, Loss


class YetiRankLoss(Loss):
    r"""YetiRank, as CatBoost's ``YetiRank`` (``mode=Classic``, logistic noise).

    Parameters
    ----------
    permutations : int, default 10
        Number of randomly perturbed rankings whose pair weights are averaged;
        an int >= 1.
    decay : float, default 0.85
        Weight factor per position down a perturbed ranking, in (0, 1].
    seed : int, default 0
        Seed of the noise; an int >= 0.

    Notes
    -----
    For each of the P perturbations, every valid row's score gets standard
    logistic noise, :math:`z_i = s_i + \log(u_i / (1 - u_i))`, :math:`u_i \sim
    U(0, 1)` (CatBoost's :math:`e^{s_i} u_i / (1 - u_i)`, whose log this is),
    and the rows are sorted by z. Each pair of neighbours at positions k and
    k + 1 (k = 1 at the top) with different labels gets the weight

    .. math::

        \frac{0.15}{P}\, \mathrm{decay}^{k-1} \, |y_a - y_b|

    added to :math:`W_{ij}`, i the row with the higher label, j the other. The
    loss of a list is CatBoost's ``PairLogit`` with these weights,

    .. math::

        \mathcal{L} = \sum_{i, j} W_{ij}\, w_i \log(1 + e^{-(s_i - s_j)}),
        \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} =
            -\sum_j W_{kj} w_k \sigma(s_j - s_k) + \sum_i W_{ik} w_i
            \sigma(s_k - s_i)

    with W held constant in the gradient (it changes with the ranking, as
    lambda weights do), and the exact diagonal hessian
    :math:`\sum W w\, \sigma(d)\sigma(-d)` over the pairs of a row. A pair
    carries the weight w of its higher-labelled row (CatBoost: the query's
    weight); the loss is credited to that row. In expectation over the noise,
    W is :math:`E[W]`, which has no closed form (the noise is logistic, not
    Gumbel, so this is not Plackett-Luce); P only sets the variance
    (``tests/test_references_pairwise.py`` checks the mean gradient over seeds
    against a Monte Carlo estimate of the gradient of :math:`E[W]`).

    Noise: a counter-based hash of ``seed``, the permutation, the row's rank by
    score (ties: lower label first, then row order) and its label, so a call is
    deterministic for a seed, the same for any number of threads, row order or
    group order, and after shifting a list's scores; boosting rounds see new
    noise once the ranking moves (CatBoost draws fresh noise every iteration
    from its random generator). ``perturbed_scores`` returns the noisy scores.
    Cost per list of n rows: O(P n log n). Ignored rows take part in nothing.
    Default reduction: ``"sum_over_batch_size"`` (the pairwise family's;
    CatBoost reports no value for YetiRank).

    CatBoost's leaves are Newton steps with this hessian, as gbrank's booster
    step. Not modelled: CatBoost's float32 noise (:math:`1.000001 - u` in the
    denominator), its other ``mode``\s and ``noise`` types.

    References
    ----------
    .. [1] A. Gulin, I. Kuralenok, D. Pavlov, "Winning The Transfer Learning
       Track of Yahoo!'s Learning To Rank Challenge with YetiRank", JMLR W&CP
       14, 2011.
    .. [2] catboost/catboost, ``YetiRank``
       (catboost/private/libs/algo/yetirank_helpers.cpp) and ``PairLogit``
       (catboost/private/libs/algo_helpers/error_functions.h).

    See Also
    --------
    gbrank.PairwiseLogisticLoss : the same pair loss over every pair.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.YetiRankLoss(seed=3)
    >>> grad, hess = loss.grad_hess([2.0, 0.0, 1.0], [0.1, 0.4, -0.2])
    >>> bool(grad[0] < 0 < grad[1])
    True
    """

    name = "yetirank"
    differentiable = False

    def __init__(self, *, permutations: int = 10, decay: float = 0.85, seed: int = 0):
        self.permutations = permutations
        self.decay = decay
        self.seed = seed

    def check_params(self) -> None:
        """Validate the parameters."""
        check_int(self.permutations, "permutations")
        check_real(self.decay, "decay", low=0.0, high=1.0, low_open=True)
        check_int(self.seed, "seed", minimum=0)

    def _config(self, need_loss: bool) -> YetiConfig:
        return YetiConfig(
            int(self.permutations), float(self.decay), int(self.seed), need_loss
        )

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Pair sums of the perturbed rankings of every group."""
        out = self.outputs(batch)
        yetirank_sums(batch.rows, self._config(need_loss), out)
        return out

    def compute_activation(self, batch: Batch) -> Array:
        """Scores are the activation (identity)."""
        return batch.scores.copy()

    def perturbed_scores(
        self,
        y_true: ArrayLike,
        y_pred: ArrayLike,
        *,
        group: ArrayLike | None = None,
        qid: ArrayLike | None = None,
        mask: ArrayLike | None = None,
    ) -> Array:
        r"""Return the noisy scores of every permutation.

        Parameters are those of :meth:`loss`.

        Returns
        -------
        ndarray of float64, shape (permutations, n_rows)
            Row p holds :math:`s + \epsilon_p` (the scores on ignored rows);
            each list's pairs of permutation p are its neighbours in this order.
        """
        batch = self._batch(y_true, y_pred, group, qid, None, mask)
        scores = as_float_array(y_pred, "y_pred", ndim=(1, 2)).ravel()
        out = np.tile(scores, (int(self.permutations), 1))
        perturbed_scores(batch.rows, self._config(False), out)
        return out

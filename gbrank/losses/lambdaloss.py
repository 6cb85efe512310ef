r"""LambdaLoss (Wang et al. 2018) with allRank's weighing schemes."""

from __future__ import annotations

from typing import Any, ClassVar

from gbrank._kernels.lambdaweights import Gain, LambdaKind
from gbrank._kernels.pairfunctions import LOGISTIC
from gbrank._validation import check_choice, check_int, check_real
from gbrank.losses.base import Array, Loss
from gbrank.losses.pairwise import _PairwiseLoss
from gbrank.losses.steps import TOP100_QUERY, PairStep

SCHEMES: dict[str, tuple[LambdaKind, Gain]] = {
    "ndcg1": (LambdaKind.LAMBDALOSS_ROW, Gain.EXP2),
    "ndcg2": (LambdaKind.LAMBDALOSS, Gain.EXP2),
    "ndcg2pp": (LambdaKind.LAMBDALOSS, Gain.EXP2),
    "arp1": (LambdaKind.LAMBDALOSS_ROW, Gain.LINEAR),
    "arp2": (LambdaKind.LAMBDALOSS, Gain.LINEAR),
}
"""Weighing schemes: the kernel's weight kind and the gain of a label."""


class LambdaLoss(_PairwiseLoss):
    r"""LambdaLoss, as allRank's ``lambdaLoss`` (sum reduction, log2 units).

    Parameters
    ----------
    scheme : {"ndcg2pp", "ndcg2", "ndcg1", "arp2", "arp1"}, default "ndcg2pp"
        The weighing scheme (Notes).
    mu : float, default 10.0
        NDCG-Loss2++'s weight of the NDCG-Loss2 term; finite and >= 0.
    topn : int or None, default None
        allRank's ``k``: only pairs of two rows ranked within the top ``topn``
        by score count, and the ideal DCG is taken at ``topn``.
    step : {"auto", "exact", "top30_query", "top30", "lambdarank"} or PairStep, \
default "auto"
        The Newton step handed to the booster (:mod:`gbrank.losses.steps`);
        ``"auto"`` is ``PairStep(topk=100, query_normalization=True)``: the
        pairs with a row in the current top 100, each query's step normalised,
        O(n k) per query. It trains better than the exact step on five real
        LETOR sets and as well on synthetic 100-row lists (measurements:
        :data:`gbrank.losses.steps.TOP100_QUERY`). :meth:`loss` and
        :meth:`grad_hess` ignore it.

    Notes
    -----
    Rows are ranked by score, descending, at positions :math:`r = 1, 2,
    \dots` (score ties: lower label first, then row order, the pessimistic
    order, so that the loss does not depend on row order), with
    :math:`D_r = \log_2(1 + r)`, gains :math:`G_i = (2^{y_i} - 1) /
    \mathrm{maxDCG@k}` and :math:`\delta_{ij} = |1/D_{|r_i - r_j|} -
    1/D_{|r_i - r_j| + 1}|`. Per list, with :math:`\sigma` the sigmoid:

    .. math::

        \mathcal{L} = \sum_{(i, j)} W_{ij}\, w_i \log_2\big(1 +
            e^{-(s_i - s_j)}\big)

    over the pairs with :math:`y_i > y_j`, or, for the ``1`` schemes, over
    every ordered pair of valid rows including :math:`i = j` (a constant
    :math:`W_{ii} w_i`), both rows ranked within ``topn``:

    ============ ======================================== ======================
    scheme       :math:`W_{ij}`                           allRank scheme
    ============ ======================================== ======================
    ``ndcg1``    :math:`G_i / D_{r_i}`                     ``ndcgLoss1_scheme``
    ``ndcg2``    :math:`\delta_{ij} |G_i - G_j|`           ``ndcgLoss2_scheme``
    ``ndcg2pp``  :math:`\mu \delta_{ij} |G_i - G_j| +      ``ndcgLoss2PP_scheme``
                 |1/D_{r_i} - 1/D_{r_j}| |G_i - G_j|`
    ``arp1``     :math:`y_i`                               none (pytorchltr's
                                                          ``ARPLoss1``)
    ``arp2``     :math:`|y_i - y_j|`                       ``rankNetWeighted
                                                          ByGTDiff_scheme``
    ============ ======================================== ======================

    NDCG-Loss1 and NDCG-Loss2 bound NDCG, ARP-Loss1 and ARP-Loss2 the average
    relevance position :math:`\sum_i y_i r_i` (Wang et al. 2018, sections 4-5);
    NDCG-Loss2++ mixes NDCG-Loss2 with LambdaRank's weight. The weights are
    functions of the current ranks, held constant in the gradient:

    .. math::

        \frac{\partial \mathcal{L}}{\partial s_k} = \frac{1}{\ln 2}\Big(
            -\sum_{j} W_{kj} w_k \sigma(s_j - s_k)
            + \sum_{i} W_{ik} w_i \sigma(s_k - s_i)\Big), \qquad
        h_k = \frac{1}{\ln 2} \sum_{\text{pairs} \ni k} W w\,
            \sigma(d)\sigma(-d)

    the exact diagonal hessian with frozen weights. A list whose ideal DCG is
    0 gets weight 0 under the NDCG schemes. The loss is credited to row i of a
    pair (``reduction="none"``); default reduction ``"sum"``, allRank's
    default. Deviations from allRank: no clamping (allRank clamps
    :math:`\sigma` at 1e-10, so a pair costs at most 33.2 bits), and score
    ties are ranked pessimistically (allRank: ``torch.sort``'s order). The
    LambdaLoss paper's other losses: LambdaRank is
    ``PairwiseLogisticLoss(lambda_weight="ndcg")`` (in nats); the paper
    defines no reciprocal-rank loss (for MRR use
    ``PairwiseLogisticLoss(lambda_weight="mrr")``).

    References
    ----------
    .. [1] X. Wang, C. Li, N. Golbandi, M. Bendersky, M. Najork, "The LambdaLoss
       Framework for Ranking Metric Optimization", CIKM 2018.
    .. [2] allegro/allRank, ``allrank.models.losses.lambdaLoss``;
       rjagerman/pytorchltr, ``PairwiseLambdaARPLoss1`` (ARP-Loss1).

    See Also
    --------
    gbrank.NDCG2LambdaWeight : NDCG-Loss2's weight for any pairwise loss.

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.LambdaLoss(scheme="arp2")
    >>> round(loss.loss([2.0, 0.0], [0.0, 0.0]), 5)  # 2 * log2(1 + e^0)
    2.0
    """

    name = "lambdaloss"
    default_reduction = "sum"
    pair = LOGISTIC
    _schemes: ClassVar[dict[str, tuple[LambdaKind, Gain]]] = SCHEMES

    def __init__(
        self,
        *,
        scheme: str = "ndcg2pp",
        mu: float = 10.0,
        topn: int | None = None,
        step: str | PairStep = "auto",
    ):
        self.scheme = scheme
        self.mu = mu
        self.topn = topn
        self.step = step

    @property
    def differentiable(self) -> bool:
        """False when the weights depend on the ranks (all but ARP without topn)."""
        return self.scheme in ("arp1", "arp2") and self.topn is None

    def check_params(self) -> None:
        """Validate the scheme, mu, topn and the booster step."""
        check_choice(self.scheme, "scheme", self._schemes)
        check_real(self.mu, "mu", low=0.0)
        check_int(self.topn, "topn", allow_none=True)
        self.resolved_step().check()

    def _default_step(self) -> PairStep:
        """Return :data:`~gbrank.losses.steps.TOP100_QUERY` (measured there)."""
        return TOP100_QUERY

    def check_labels(self, labels: Array) -> None:
        """Check the labels as any loss does (the gains stay finite for any)."""
        Loss.check_labels(self, labels)  # no lambda_weight to check

    def _lambda_args(self) -> tuple[LambdaKind, int, Gain, dict[str, Any]]:
        kind, gain = self._schemes[self.scheme]
        mix = {
            "ndcg2": (1.0, 0.0, 0.0),
            "ndcg2pp": (float(self.mu), 1.0, 0.0),
            "arp2": (0.0, 0.0, 1.0),
        }.get(self.scheme, (0.0, 0.0, 0.0))
        options = {"mix": mix, "pessimistic_ties": True}
        return kind, int(self.topn or 0), gain, options

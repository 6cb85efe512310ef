r"""Booster steps: how a pairwise loss hands its gradient and hessian to a booster.

A gradient-boosting round fits a tree to the per-row gradient ``g`` and hessian
``h`` and moves each leaf by ``-sum g / sum h``. For a pairwise loss on long
lists the exact derivatives make poor steps: the diagonal hessian counts the
curvature of every pair of a row, also of pairs whose two rows share a leaf and
move together, and gradients of many far-apart pairs pile up. The engines' own
LambdaMART implementations shape the step instead, and so can every gbrank
pairwise loss, through its ``step`` parameter (a :class:`PairStep`):

- pair selection: all pairs; the pairs with at least one row in the current top
  ``topk`` by score (LightGBM's ``lambdarank_truncation_level``, XGBoost's
  ``topk``), O(n k) per query; or ``pairs_per_row`` random partners of another
  label per row (XGBoost's ``mean``), O(n);
- ``score_normalization``: each pair's weight divided by
  :math:`0.01 + |s_i - s_j|` (LightGBM ``lambdarank_norm``, XGBoost
  ``lambdarank_score_normalization``): close pairs, whose order is in doubt,
  dominate the step;
- ``query_normalization``: each query's gradients and hessians multiplied by
  :math:`\log_2(1 + S) / S`, :math:`S = \sum_{pairs} 2 |g_{ij}|` (LightGBM
  ``lambdarank_norm``, XGBoost ``lambdarank_normalization``).

The selection and the normalisations use the current scores and are held fixed
while differentiating, like lambda weights. They change only what
:meth:`~gbrank.Loss.booster_grad_hess` returns (what the engines get);
:meth:`~gbrank.Loss.loss` and :meth:`~gbrank.Loss.grad_hess` stay the neural
twin's value and its exact derivative.
"""

from __future__ import annotations

from gbrank._params import Parameters
from gbrank._validation import check_int


class PairStep(Parameters):
    r"""The Newton step a pairwise loss hands to the booster.

    Parameters
    ----------
    topk : int or None, default None
        Keep only the pairs with at least one row among the current top ``topk``
        by score (ties by row order); None keeps every pair. With NDCG lambda
        weights without their own ``topn``, the ideal DCG is then taken at
        ``topk`` (as LightGBM's ``lambdarank``).
    pairs_per_row : int or None, default None
        Instead, draw this many partners of another label for every row,
        uniformly with replacement (XGBoost's ``lambdarank_pair_method="mean"``).
        Not with ``topk``.
    seed : int, default 0
        Seed of the draws; the pairs are a function of the seed, the query and
        the row (the same in every boosting round and for any number of threads).
    score_normalization : bool, default False
        Divide each pair's weight by :math:`0.01 + |s_i - s_j|` (in a query
        whose scores are not all equal).
    query_normalization : bool, default False
        Multiply each query's gradients and hessians by :math:`\log_2(1 + S)/S`,
        :math:`S = \sum_{pairs} 2 |g_{ij}|`.

    Examples
    --------
    >>> import gbrank
    >>> from gbrank.losses.steps import PairStep
    >>> lambdarank = PairStep(topk=30, score_normalization=True,
    ...                       query_normalization=True)
    >>> loss = gbrank.PairwiseLogisticLoss(lambda_weight="ndcg", step=lambdarank)
    >>> loss.step.topk, loss.resolved_step() == lambdarank
    (30, True)
    """

    def __init__(
        self,
        *,
        topk: int | None = None,
        pairs_per_row: int | None = None,
        seed: int = 0,
        score_normalization: bool = False,
        query_normalization: bool = False,
    ) -> None:
        self.topk = topk
        self.pairs_per_row = pairs_per_row
        self.seed = seed
        self.score_normalization = score_normalization
        self.query_normalization = query_normalization

    def check(self) -> None:
        """Validate the parameters; raise ``ValueError`` naming the bad one."""
        check_int(self.topk, "topk", allow_none=True)
        check_int(self.pairs_per_row, "pairs_per_row", allow_none=True)
        check_int(self.seed, "seed", minimum=0)
        if self.topk is not None and self.pairs_per_row is not None:
            raise ValueError(
                "pass topk (truncation) or pairs_per_row (sampling), not both."
            )
        for name in ("score_normalization", "query_normalization"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"{name} must be True or False, got {getattr(self, name)!r}."
                )


EXACT = PairStep()
"""All pairs, no normalisation: the exact derivatives."""

TOP30 = PairStep(topk=30, score_normalization=True)
"""Pairs with a row in the current top 30, score-normalised: the default step of
the pairwise losses before real data was measured. On 100-row synthetic lists
(``make_ranking``) it trains best, but on real LETOR data it loses up to 0.04
NDCG@10 (RankNet on MQ2007). :math:`1/(0.01 + |s_i - s_j|)` puts the step on
the pairs whose scores are (nearly) tied. Exact ties, frequent there because
features tie documents, are not the whole reason: with exactly tied pairs
weighted 1 instead of 100, RankNet still scored 0.601 on MQ2007-agg (0.595 with
LightGBM's weighting, 0.634 without score normalisation; measured 2026-12-06)."""

TOP30_QUERY = PairStep(topk=30, query_normalization=True)
"""The default step of the pairwise losses without a lambda weight (but
``pairwise_soft_zero_one``; ``lambdaloss``'s is :data:`TOP100_QUERY`): pairs
with a row in the current top 30, each query's step normalised, no score
normalisation. Held-out NDCG@10, mean over five real LETOR sets (MQ2007-agg,
MQ2008, MQ2007, OHSUMED, an MSLR-WEB10K sample; 5 folds each, LightGBM at the
estimators' defaults), this step vs :data:`TOP30`: RankNet 0.569 vs 0.546, hinge
0.554 vs 0.548, pairwise MSE 0.559 vs 0.555, pairwise QR 0.554 vs 0.549
(LightGBM's ``lambdarank`` 0.560); on XGBoost RankNet 0.562 vs 0.537, hinge
0.553 vs 0.536, MSE 0.555 vs 0.539. On synthetic 100-row lists (``make_ranking``
and a second generator) it gives up 0.01-0.03 (RankNet 0.801 vs 0.823, QR 0.786
vs 0.816), and on ``make_ranking(600, 100, 136)`` (136 features) much more:
RankNet 0.703 vs 0.753, hinge 0.667 vs 0.728 (``lambdarank`` 0.736); real data
decided."""

TOP100_QUERY = PairStep(topk=100, query_normalization=True)
"""The default step of ``lambdaloss``: pairs with a row in the current top 100,
each query's step normalised; O(n k) per query (one 100k-row query: 0.11-0.15 s;
the exact step, the default until 2026-12-06, is O(n²): 30-44 s). Held-out
NDCG@10 at the estimators' defaults, this step vs :data:`EXACT`, mean over the
sets and the per-query difference (paired randomisation test): five real LETOR
sets (as :data:`TOP30_QUERY`; 4,360 test queries) LightGBM 0.562 vs 0.557,
+0.007 (p < 0.001), XGBoost 0.561 vs 0.553, +0.004 (p = 0.03); five synthetic
sets of 100-row lists (``make_ranking`` with 40 and 136 features, a second
generator) LightGBM 0.818 vs 0.819, -0.001 (p = 0.41), XGBoost 0.810 vs 0.812,
-0.002 (p = 0.11). The query normalisation makes the gain on real data (every
pair with it: +0.004 on both engines); truncation at 30 instead of 100 changes
nothing there (-0.002, p = 0.34; +0.000) but loses 0.004-0.008 on the
synthetic lists (0.012-0.016 with 136 features). On 100-row lists it costs
more per call than the exact step (the same pairs, plus the top-k selection and
the normalisation)."""

LAMBDARANK = PairStep(topk=30, score_normalization=True, query_normalization=True)
"""LightGBM ``lambdarank``'s defaults (truncation level 30, ``lambdarank_norm``).
The default step of the pairwise losses with a lambda weight: LambdaMART then
gets LightGBM's own gradients, and does as well as ``lambdarank`` on synthetic
100-row lists (without the score normalisation it lost 0.02 there, for
+0.000 to +0.006 on the real sets). Also the default of
``pairwise_soft_zero_one``, whose bounded pair function needs the score
normalisation on long lists (without it, 0.65 instead of 0.79 NDCG@10 on
``make_ranking`` lists; 0.557 vs 0.567 on the real sets)."""

r"""Lambda weights: per-pair weights of the pairwise losses (LambdaRank).

A lambda weight :math:`\lambda_{ij}` multiplies the loss of pair (i, j). The DCG
and NDCG weights depend on the ranks of the current scores, so they are held
fixed when differentiating: ``grad_hess`` of a pairwise loss with such a weight is
the gradient (and hessian) of the loss with the weights frozen at the current
ranks, the LambdaRank/LambdaMART convention. Between two score ties of a list the
ranks do not change and this is the exact derivative; the loss itself jumps where
two scores cross. ``PairwiseLogisticLoss(lambda_weight="ndcg")`` is LambdaMART.

Pass an object below, or the shortcuts ``"label_diff"``, ``"dcg"``, ``"ndcg"``,
``"ndcg2"``, ``"precision"``, ``"mrr"``, ``"map"`` and ``"err"`` (default
parameters), as the ``lambda_weight`` of a pairwise loss; every pairwise loss
and every booster step (:mod:`gbrank.losses.steps`) takes every weight. Like
google/rax's ``rax.dcg_lambdaweight`` and TF-Ranking's ``DCGLambdaWeight``, except
that rax (and TF-Ranking's DCG weights) also multiply by the padded list size, a
constant per batch; gbrank does not (its weights are rax's divided by the list
size).

Ranks (1 at the top) are those of the valid rows of a list by score, descending,
score ties broken by row order (as rax). A row is relevant for the binary
metrics (precision, MRR, MAP) when its label is > 0, as in :mod:`gbrank.metrics`
(TF-Ranking's ``PrecisionLambdaWeight`` uses label >= 1: the same for integer
labels). The MRR, MAP and ERR weights are the exact change of the metric when the
two rows swap ranks (computed in O(1) per pair from prefix sums over the
ranking), the LambdaMART recipe for these metrics.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from gbrank._kernels.lambdaweights import Gain, LambdaKind
from gbrank._params import Parameters
from gbrank._validation import check_choice, check_gain_labels, check_int, check_real

GAINS = {"exp2": Gain.EXP2, "linear": Gain.LINEAR}


class LambdaWeight(Parameters):
    """Base class: parameters, equality, ``repr`` and the kernel's arguments."""

    _kind: ClassVar[LambdaKind]
    depends_on_scores: ClassVar[bool] = True
    """Whether the weights change with the ranks (then frozen in the gradient)."""

    def kernel_args(self) -> tuple[LambdaKind, int, Gain]:
        """Return ``(lambda_kind, topn, gain)`` for the pairwise kernels."""
        return self._kind, 0, Gain.LINEAR

    def kernel_options(self) -> dict[str, float]:
        """Return further :class:`~gbrank._kernels.pairwise.PairConfig` fields."""
        return {}

    def check_labels(self, labels: NDArray[np.float64]) -> None:
        """Raise ``ValueError`` if a label is outside the weight's domain.

        Parameters
        ----------
        labels : ndarray of float64
            Flat labels; negative ones mark ignored rows.
        """


class LabelDiffLambdaWeight(LambdaWeight):
    r"""Absolute label difference, :math:`\lambda_{ij} = |y_i - y_j|`.

    It does not depend on the scores, so the loss stays differentiable and
    ``grad_hess`` is its exact gradient. Label ties get weight 0.

    See Also
    --------
    rax.labeldiff_lambdaweight : the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.LabelDiffLambdaWeight()
    LabelDiffLambdaWeight()
    """

    _kind = LambdaKind.LABEL_DIFF
    depends_on_scores = False


class _GainWeight(LambdaWeight):
    """A swap weight from gains and discounts: ``topn`` and ``gain`` parameters."""

    topn: int | None
    gain: str

    def __init__(self, *, topn: int | None = None, gain: str = "exp2"):
        check_int(topn, "topn", allow_none=True)
        check_choice(gain, "gain", GAINS)
        self.topn = topn
        self.gain = gain

    def kernel_args(self) -> tuple[LambdaKind, int, Gain]:
        """Return ``(lambda_kind, topn, gain)``; topn 0 means no cutoff."""
        return self._kind, int(self.topn or 0), GAINS[self.gain]

    def check_labels(self, labels: NDArray[np.float64]) -> None:
        """Labels with the gain ``"exp2"`` are at most ``MAX_GAIN_LABEL`` (961)."""
        if self.gain == "exp2":
            check_gain_labels(
                labels, f"lambda_weight={self!r}", ", or use gain='linear'"
            )


class DCGLambdaWeight(_GainWeight):
    r"""DCG swap weight: the change in DCG when rows i and j trade places.

    Parameters
    ----------
    topn : int or None, default None
        Ranks past ``topn`` have discount 0 (None: no cutoff); an int >= 1.
    gain : {"exp2", "linear"}, default "exp2"
        Gain of a label: :math:`2^y - 1` or :math:`y`.

    Notes
    -----
    With :math:`r_i` the rank of row i among the valid rows of its list by score,
    descending, ties broken by row order (1 is the top):

    .. math::

        \lambda_{ij} = |G(y_i) - G(y_j)| \cdot |D(r_i) - D(r_j)|, \qquad
        D(r) = \frac{\mathbb{I}(r \le n)}{\log_2(1 + r)}

    held constant in the gradient (see the module notes). Label ties get 0.

    See Also
    --------
    rax.dcg_lambdaweight, tfr.keras.losses.DCGLambdaWeight : the neural twins.
    NDCGLambdaWeight : the same divided by the ideal DCG.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.DCGLambdaWeight(topn=10)
    DCGLambdaWeight(topn=10)
    """

    _kind = LambdaKind.DCG


class NDCGLambdaWeight(DCGLambdaWeight):
    r"""NDCG swap weight: :class:`DCGLambdaWeight` divided by the ideal DCG.

    Parameters
    ----------
    topn : int or None, default None
        Ranks past ``topn`` have discount 0, in the weights and in the ideal DCG.
    gain : {"exp2", "linear"}, default "exp2"
        Gain of a label: :math:`2^y - 1` or :math:`y`.

    Notes
    -----
    .. math::

        \lambda_{ij} = \frac{|G(y_i) - G(y_j)| \cdot |D(r_i) - D(r_j)|}
                            {\max_\pi \mathrm{DCG@n}(\pi)}

    A list whose ideal DCG is 0 (no positive gain) gets weight 0. With
    :class:`~gbrank.PairwiseLogisticLoss` this is LambdaMART (LightGBM's
    ``lambdarank``).

    See Also
    --------
    rax.dcg_lambdaweight : with ``normalize=True``, the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.NDCGLambdaWeight(gain="linear")
    NDCGLambdaWeight(gain='linear')
    """

    _kind = LambdaKind.NDCG


class NDCG2LambdaWeight(_GainWeight):
    r"""LambdaLoss's NDCG-Loss2 weight (rax ``dcg2_lambdaweight(normalize=True)``).

    Parameters
    ----------
    topn : int or None, default None
        The cutoff of NDCG@n: the ideal DCG is taken at ``topn`` and pairs with
        a row past it get the top-n correction below (None: no cutoff).
    gain : {"exp2", "linear"}, default "exp2"
        Gain of a label: :math:`2^y - 1` or :math:`y`.

    Notes
    -----
    With ranks :math:`r_i` of the current scores (see the module notes) and
    :math:`D(r) = 1 / \log_2(1 + r)`:

    .. math::

        \lambda_{ij} = \frac{|G(y_i) - G(y_j)|}{\max_\pi \mathrm{DCG@n}(\pi)}
            \, \big(D(|r_i - r_j|) - D(|r_i - r_j| + 1)\big) \, m_{ij},
        \qquad
        m_{ij} = \begin{cases}
            1 / (1 - D(\max(r_i, r_j))) & \max(r_i, r_j) > n \\
            1 & \text{otherwise}
        \end{cases}

    The rank-distance discount is the :math:`\delta_{ij}` of Wang et al.
    (2018), whose pairwise logistic loss bounds NDCG more tightly than
    LambdaRank's :math:`|D(r_i) - D(r_j)|`; :math:`m_{ij}` is the top-n
    correction of Jagerman et al. (2022). Held constant in the gradient. A
    list whose ideal DCG is 0 gets weight 0. Equal to rax's
    ``dcg2_lambdaweight(normalize=True)`` and TF-Ranking's
    ``NDCGLambdaWeightV2`` divided by the padded list size. With top-k pairs
    (:class:`~gbrank.losses.steps.PairStep`) and no ``topn``, the ideal DCG is
    taken at the step's ``topk``, as for :class:`NDCGLambdaWeight`.

    References
    ----------
    .. [1] X. Wang, C. Li, N. Golbandi, M. Bendersky, M. Najork, "The LambdaLoss
       Framework for Ranking Metric Optimization", CIKM 2018.
    .. [2] R. Jagerman, Z. Qin, X. Wang, M. Bendersky, M. Najork, "On
       Optimizing Top-K Metrics for Neural Ranking Models", SIGIR 2022.
    .. [3] google/rax, ``rax.dcg2_lambdaweight``; tensorflow/ranking,
       ``tfr.keras.losses.NDCGLambdaWeightV2``.

    See Also
    --------
    rax.dcg2_lambdaweight, tfr.keras.losses.NDCGLambdaWeightV2 : the neural twins.
    gbrank.LambdaLoss : LambdaLoss with allRank's weighing schemes.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.PairwiseLogisticLoss(lambda_weight=gbrank.NDCG2LambdaWeight(topn=5))
    PairwiseLogisticLoss(lambda_weight=NDCG2LambdaWeight(topn=5))
    """

    _kind = LambdaKind.NDCG2


class PrecisionLambdaWeight(LambdaWeight):
    r"""Precision@k swap weight (TF-Ranking ``PrecisionLambdaWeight``).

    Parameters
    ----------
    topn : int, default 10
        The k of precision@k; an int >= 1 (precision of the whole list does not
        change when two rows swap, so there is no ``None``).

    Notes
    -----
    With :math:`b_i = \mathbb{I}(y_i > 0)` and ranks :math:`r_i`:

    .. math::

        \lambda_{ij} = |b_i - b_j| \cdot
            \big|\mathbb{I}(r_i \le k) - \mathbb{I}(r_j \le k)\big|

    1 when swapping the two rows moves a relevant row into or out of the top
    k, else 0: the number of relevant rows in the top k changes by
    :math:`\lambda_{ij}`, so :math:`\lambda_{ij} = k \, |\Delta \mathrm{P@k}|`
    (TF-Ranking's convention: no :math:`1/k`). TF-Ranking counts a row as
    relevant when its label is >= 1 (the same for integer labels).

    References
    ----------
    .. [1] tensorflow/ranking, ``tfr.keras.losses.PrecisionLambdaWeight``.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.PrecisionLambdaWeight(topn=5)
    PrecisionLambdaWeight(topn=5)
    """

    _kind = LambdaKind.PRECISION

    def __init__(self, *, topn: int = 10):
        check_int(topn, "topn")
        self.topn = topn

    def kernel_args(self) -> tuple[LambdaKind, int, Gain]:
        """Return ``(lambda_kind, topn, gain)``."""
        return self._kind, int(self.topn), Gain.LINEAR


class MRRLambdaWeight(LambdaWeight):
    r"""Reciprocal-rank swap weight: :math:`|\Delta \mathrm{RR@k}|` of swapping i, j.

    Parameters
    ----------
    topn : int or None, default None
        The cutoff k of RR@k (None: the whole list).

    Notes
    -----
    :math:`\mathrm{RR@k} = 1/r_f` for the first relevant row (label > 0) f if
    :math:`r_f \le k`, else 0 (:func:`gbrank.metrics.mrr`). With
    :math:`D(r) = \mathbb{I}(r \le k)/r`, a relevant row p and an irrelevant
    row q (any other pair: 0), f and the second relevant row f2:

    .. math::

        \lambda_{pq} = \begin{cases}
            \max(D(r_q) - D(r_f), 0) & p \ne f \\
            D(r_q) - D(r_f) & p = f,\ r_q < r_f \\
            D(r_f) - \max(D(r_q), D(r_{f2})) & p = f,\ r_q > r_f
        \end{cases}

    the exact change of RR@k (O(1) per pair). Held constant in the gradient.
    CatBoost's ``LambdaMart:metric=MRR`` has the same deltas for the first
    relevant row, but for a relevant row below it uses
    :math:`D(r_q) - D(r_p)` (the change were it the first) and ignores ``top``.

    References
    ----------
    .. [1] P. Donmez, K. M. Svore, C. J. C. Burges, "On the Local Optimality of
       LambdaRank", SIGIR 2009 (LambdaRank with MRR and MAP swap deltas).
    .. [2] catboost/catboost, ``TLambdaMartError::CalcDersMRR``
       (catboost/private/libs/algo_helpers/error_functions.cpp).

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.PairwiseLogisticLoss(lambda_weight="mrr")
    >>> # the relevant row is second: RR 1/2, swapped 1; log(1 + e) / 2
    >>> round(loss.loss([0.0, 1.0], [1.0, 0.0], reduction="sum"), 5)
    0.65663
    """

    _kind = LambdaKind.MRR

    def __init__(self, *, topn: int | None = None):
        check_int(topn, "topn", allow_none=True)
        self.topn = topn

    def kernel_args(self) -> tuple[LambdaKind, int, Gain]:
        """Return ``(lambda_kind, topn, gain)``; topn 0 means no cutoff."""
        return self._kind, int(self.topn or 0), Gain.LINEAR


class MAPLambdaWeight(MRRLambdaWeight):
    r"""Average-precision swap weight: :math:`|\Delta \mathrm{AP@k}|` of swapping i, j.

    Parameters
    ----------
    topn : int or None, default None
        The cutoff k of AP@k (None: the whole list).

    Notes
    -----
    :math:`\mathrm{AP@k} = \frac{1}{\min(R, k)} \sum_{r \le k} \mathrm{rel}_r
    \, \mathrm{P@r}` with R relevant rows (label > 0), as
    :func:`gbrank.metrics.mean_average_precision` and LightGBM's ``map@k``;
    without ``topn``, the usual :math:`1/R`. Swapping the rows at ranks
    u < v, one relevant and one not, moves the relevant row past the relevant
    rows between them; with :math:`c_r` relevant rows above rank r,
    :math:`I_r = \mathbb{I}(r \le k)/r` and
    :math:`V_r = I_r c_r - \sum_{m < r,\ \mathrm{rel}_m} I_m`:

    .. math::

        \min(R, k)\, \lambda = \begin{cases}
            |V_v - V_u| & \text{the relevant row is at } u \\
            |V_u - V_v + I_u - I_v| & \text{it is at } v
        \end{cases}

    the exact change (O(1) per pair); pairs of two relevant or two irrelevant
    rows get 0. Held constant in the gradient. CatBoost's
    ``LambdaMart:metric=MAP`` uses a heuristic instead (:math:`1/r` of the
    upper row plus :math:`1/r` of the relevant rows between, not divided by R,
    no ``top``).

    References
    ----------
    .. [1] P. Donmez, K. M. Svore, C. J. C. Burges, "On the Local Optimality of
       LambdaRank", SIGIR 2009.
    .. [2] catboost/catboost, ``TLambdaMartError::CalcDersMAP``.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.MAPLambdaWeight(topn=10)
    MAPLambdaWeight(topn=10)
    """

    _kind = LambdaKind.MAP


class ERRLambdaWeight(LambdaWeight):
    r"""Expected-reciprocal-rank swap weight: :math:`|\Delta \mathrm{ERR@k}|`.

    Parameters
    ----------
    topn : int or None, default None
        The cutoff k of ERR@k (None: the whole list).
    max_label : float or None, default None
        The top grade :math:`y_{max}` of the stop probabilities below; labels
        above it raise ``ValueError``. None: each list's largest label.

    Notes
    -----
    Chapelle et al.'s cascade: a user stops at the row of rank r with
    probability :math:`R_r = (2^{y_r} - 1) / 2^{y_{max}} < 1`, and

    .. math::

        \mathrm{ERR@k} = \sum_{r \le k} \frac{R_r}{r} \prod_{m < r} (1 - R_m)

    With :math:`p_r = \prod_{m<r}(1 - R_m)`, :math:`X_r = p_r\,
    \mathbb{I}(r \le k)/r`, :math:`E_r = \sum_{m \le r} R_m X_m` and
    :math:`F_r = E_{r-1} + X_r`, swapping the rows at ranks u < v changes ERR
    by

    .. math::

        \lambda = \frac{|R_u - R_v| \, |F_u - F_v|}{1 - R_u}

    exactly (O(1) per pair; the rows in between see their stop chances scaled
    by :math:`(1 - R_v)/(1 - R_u)`). Held constant in the gradient. CatBoost's
    ``LambdaMart:metric=ERR`` computes the same change but skips the rows in
    between whose label equals the upper row's, takes the labels as stop
    probabilities directly (labels in [0, 1]) and has no ``top``.

    References
    ----------
    .. [1] O. Chapelle, D. Metzler, Y. Zhang, P. Grinspan, "Expected Reciprocal
       Rank for Graded Relevance", CIKM 2009.
    .. [2] catboost/catboost, ``TLambdaMartError::CalcDersERR``.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.ERRLambdaWeight(max_label=4)
    ERRLambdaWeight(max_label=4)
    """

    _kind = LambdaKind.ERR

    def __init__(self, *, topn: int | None = None, max_label: float | None = None):
        check_int(topn, "topn", allow_none=True)
        check_real(max_label, "max_label", low=0.0, allow_none=True)
        self.topn = topn
        self.max_label = max_label

    def kernel_args(self) -> tuple[LambdaKind, int, Gain]:
        """Return ``(lambda_kind, topn, gain)``; topn 0 means no cutoff."""
        return self._kind, int(self.topn or 0), Gain.EXP2

    def kernel_options(self) -> dict[str, float]:
        """Return the top grade (-1: each list's largest label)."""
        return {"max_label": -1.0 if self.max_label is None else self.max_label}

    def check_labels(self, labels: NDArray[np.float64]) -> None:
        """Labels are at most ``max_label`` (when given)."""
        if self.max_label is None:
            return
        bad = np.flatnonzero(labels > self.max_label)
        if bad.size:
            raise ValueError(
                f"{self!r} needs labels <= max_label={self.max_label!r} (the "
                f"top grade of the stop probabilities); y_true[{bad[0]}] = "
                f"{labels[bad[0]].item()!r}. Raise max_label or pass None (each "
                "list's largest label)."
            )


SHORTCUTS: dict[str, type[LambdaWeight]] = {
    "label_diff": LabelDiffLambdaWeight,
    "dcg": DCGLambdaWeight,
    "ndcg": NDCGLambdaWeight,
    "ndcg2": NDCG2LambdaWeight,
    "precision": PrecisionLambdaWeight,
    "mrr": MRRLambdaWeight,
    "map": MAPLambdaWeight,
    "err": ERRLambdaWeight,
}


def resolve_lambda_weight(value: str | LambdaWeight | None) -> LambdaWeight | None:
    """Turn a ``lambda_weight`` parameter into a :class:`LambdaWeight` (or None).

    Parameters
    ----------
    value : str, LambdaWeight or None
        None, a key of :data:`SHORTCUTS` (``"label_diff"``, ``"ndcg"``, ...),
        or an instance.

    Returns
    -------
    LambdaWeight or None
    """
    if value is None or isinstance(value, LambdaWeight):
        return value
    if isinstance(value, str) and value in SHORTCUTS:
        return SHORTCUTS[value]()
    raise ValueError(
        f"lambda_weight={value!r} is not supported; pass None, one of "
        f"{', '.join(repr(k) for k in SHORTCUTS)} or a gbrank.losses.lambdaweights "
        "object such as NDCGLambdaWeight(topn=10)."
    )

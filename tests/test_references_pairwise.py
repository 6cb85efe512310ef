"""Reference values of the pairwise family (pairwise_qr, the lambda weights,
LambdaLoss, YetiRank): rax, TF-Ranking, allRank and CatBoost numbers on one
fixed input, compared input for input.

The numbers were produced by running the references themselves (float64 unless
noted) on ``LABELS``, ``SCORES`` and ``MASK`` below: masked rows are ``where=``
False for rax, label -1 for TF-Ranking and allRank. Versions and calls:

- rax @ af92de1f (git HEAD; jax 0.10.2, ``jax_enable_x64``):
  ``jax.value_and_grad(lambda s: rax.pairwise_qr_loss(s, labels, where=mask,
  tau=0.5, reduce_fn=jnp.sum))(scores)`` (also ``tau=0.3, squared=True``), and
  ``rax.pairwise_logistic_loss(..., lambdaweight_fn=functools.partial(
  rax.dcg2_lambdaweight, normalize=True[, topn=2]), reduce_fn=jnp.sum)``;
  ``rax.dcg2_lambdaweight(scores, labels, normalize=True[, topn=2])`` for the
  weight matrices.
- TF-Ranking 0.5.3 on TensorFlow 2.15.1 (float32 only):
  ``tfr.keras.losses.PairwiseLogisticLoss(lambda_weight=
  tfr.keras.losses.PrecisionLambdaWeight(topn=k))`` (Keras ``AUTO`` reduction:
  sum / 15), gradients of the ``SUM`` reduction, and the lambda weight's
  ``pair_weights``.
- allRank @ c8847566 (torch 2.13.0, float64 copy of the loss file):
  ``lambdaLoss(y_pred, y_true, weighing_scheme=..., k=None or 3)`` (default
  ``reduction="sum"``, ``reduction_log="binary"``, ``mu=10``, ``sigma=1``).
- Swap deltas: brute force, |M(rows i, j swapped) - M| on the score ranking
  (numpy); CatBoost 1.2.10 ``LambdaMart`` pair deltas (``norm=false``) from a
  float64 restatement checked against the binary to 1.2e-7.
- YetiRank: Monte Carlo estimate (2,000,000 perturbations per list, numpy) of
  CatBoost's expected pair weights (logistic noise, ``decay=0.85``), and the
  PairLogit gradient and hessian they give; standard errors from the same run.

Scripts: ``make_refs_rax.py``, ``make_refs_tf.py``, ``make_refs_allrank.py
f64``, ``make_refs_lambdaweights.py``, ``make_refs_yetirank.py`` of the research
notes (REFERENCE.md, section 0.3).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gbrank

from . import _oracles

LABELS = np.array(
    [[3.0, 0.0, 1.0, 2.0, 0.0], [0.0, 1.0, 0.0, 2.0, 1.0], [1.0, 0.0, 0.0, 0.0, 0.0]]
)
SCORES = np.array(
    [
        [0.5, -1.2, 0.3, 2.0, 0.1],
        [1.1, 0.4, -0.7, 0.0, 0.9],
        [-0.3, 0.8, 0.2, -1.5, 0.6],
    ]
)
MASK = np.array(
    [[True] * 5, [True, True, True, True, False], [True, True, True, False, False]]
)
LIST_SIZE = 5  # rax and TF-Ranking multiply the DCG weights by the padded size
FLOAT32 = 1e-6  # TF-Ranking computes in float32
VARIANTS = ["masked", "unmasked"]


def _mask(variant):
    return {"mask": MASK} if variant == "masked" else {}


def _array(text, shape):
    """A float array from whitespace-separated numbers (full float64 reprs)."""
    return np.array(text.split(), dtype=float).reshape(shape)


RAX = {
    "pairwise_qr/masked": {
        "value_sum": 11.35,
        "grad_sum": _array(
            """
                -2.0 -0.5 0.0 1.0 1.5
                1.0 0.5 0.0 -1.5 0.0
                -1.0 0.5 0.5 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                5.750000000000001 3.8000000000000003 1.8
            """,
            (3,),
        ),
    },
    "pairwise_qr/unmasked": {
        "value_sum": 14.249999999999998,
        "grad_sum": _array(
            """
                -2.0 -0.5 0.0 1.0 1.5
                1.5 0.5 -0.5 -2.0 0.5
                -1.0 0.5 0.5 -0.5 0.5
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                5.750000000000001 5.65 2.8499999999999996
            """,
            (3,),
        ),
    },
    "pairwise_qr_sq_tau0.3/masked": {
        "value_sum": 13.953,
        "grad_sum": _array(
            """
                -4.92 -1.6 0.3200000000000002 4.1 2.1
                2.88 -0.039999999999999925 0.6399999999999999 -3.4799999999999995 0.0
                -2.16 1.26 0.8999999999999999 0.0 0.0
            """,
            (3, 5),
        ),
    },
    "pairwise_qr_sq_tau0.3/unmasked": {
        "value_sum": 16.831,
        "grad_sum": _array(
            """
                -4.92 -1.6 0.3200000000000002 4.1 2.1
                3.6 -0.039999999999999925 -0.20000000000000018 -4.619999999999999
                1.2599999999999998
                -3.0200000000000005 1.26 0.8999999999999999 -0.2799999999999999 1.14
            """,
            (3, 5),
        ),
    },
    "pairwise_logistic+dcg2_norm/masked": {
        "value_sum": 8.120339158891483,
        "grad_sum": _array(
            """
                -1.4088410655371884 0.05535658229858047 0.4510255864997989
                0.6038214823667614 0.29863741437204755
                0.7454045860050047 0.22392198000646796 0.5509393902753942
                -1.5202659562868668 0.0
                -1.6398129474923933 0.49115685370032186 1.1486560937920713 0.0 0.0
            """,
            (3, 5),
        ),
    },
    "pairwise_logistic+dcg2_norm/unmasked": {
        "value_sum": 8.77669224739859,
        "grad_sum": _array(
            """
                -1.4088410655371884 0.05535658229858047 0.4510255864997989
                0.6038214823667614 0.29863741437204755
                0.5403685059357215 0.389417855682332 0.4983496854189158
                -1.3937569266702137 -0.034379120366755445
                -2.301284449975236 0.2600530643003657 1.1486560937920713
                0.4271530759805891 0.46542221590221
            """,
            (3, 5),
        ),
    },
    "pairwise_logistic+dcg2_norm_topn2/masked": {
        "value_sum": 14.265533997102496,
        "grad_sum": _array(
            """
                -2.231568412576421 0.0953588714563381 0.9804748105610709
                0.6016939552218501 0.5540407753371617
                1.1512154006184325 0.7984032576454388 0.9677089501373759
                -2.9173276084012474 0.0
                -3.2796258949847865 0.9823137074006437 2.2973121875841427 0.0 0.0
            """,
            (3, 5),
        ),
    },
    "pairwise_logistic+dcg2_norm_topn2/unmasked": {
        "value_sum": 15.020451012220772,
        "grad_sum": _array(
            """
                -2.231568412576421 0.0953588714563381 0.9804748105610709
                0.6016939552218501 0.5540407753371617
                0.8977921658577745 0.7545061530292979 0.9246969118547361
                -2.721697234928007 0.14470200418619839
                -3.9885136897953837 0.4567756132091428 2.0175808849623094
                0.6966566609463123 0.8175005306776193
            """,
            (3, 5),
        ),
    },
    "lambdaweight_dcg2_norm/unmasked": {
        "matrix": _array(
            """
                0.0 0.2583173538854323 1.1787880133929656 0.7858586755953104
                0.48787865327370095
                0.2583173538854323 0.0 0.06969695046767158 0.06998520293989603 0.0
                1.1787880133929656 0.06969695046767158 0.0 0.13939390093534312
                0.1964646688988276
                0.7858586755953104 0.06998520293989603 0.13939390093534312 0.0
                0.11070743737947099
                0.48787865327370095 0.0 0.1964646688988276 0.11070743737947099 0.0
                0.0 0.15847492136396185 0.0 0.25172338696877733 0.4467157134655429
                0.15847492136396185 0.0 0.15847492136396185 0.8934314269310858 0.0
                0.0 0.15847492136396185 0.0 1.3401471403966285 0.08390779565625911
                0.25172338696877733 0.8934314269310858 1.3401471403966285 0.0
                0.3169498427279237
                0.4467157134655429 0.0 0.08390779565625911 0.3169498427279237 0.0
                0.0 0.3466172096330347 1.845351232142713 1.845351232142713
                0.6546487678572871
                0.3466172096330347 0.0 0.0 0.0 0.0
                1.845351232142713 0.0 0.0 0.0 0.0
                1.845351232142713 0.0 0.0 0.0 0.0
                0.6546487678572871 0.0 0.0 0.0 0.0
            """,
            (3, 5, 5),
        ),
    },
    "lambdaweight_dcg2_norm_topn2/unmasked": {
        "matrix": _array(
            """
                0.0 0.44498504642570774 2.4901315140277673 0.8300438380092559
                0.9051265994201968
                0.44498504642570774 0.0 0.12006201005505156 0.1205585622138818 0.0
                2.4901315140277673 0.12006201005505156 0.0 0.2944627376921323
                0.3644869404992194
                0.8300438380092559 0.1205585622138818 0.2944627376921323 0.0
                0.2053876423029113
                0.9051265994201968 0.0 0.3644869404992194 0.2053876423029113 0.0
                0.0 0.3605956668334666 0.0 0.5030306680976746 0.5082310475237335
                0.3605956668334666 0.0 0.2940531010238206 1.78538598658037 0.0
                0.0 0.2940531010238206 0.0 2.4866674112857394 0.15569244206236232
                0.5030306680976746 1.78538598658037 2.4866674112857394 0.0
                0.6333757584497146
                0.5082310475237335 0.0 0.15569244206236232 0.6333757584497146 0.0
                0.0 0.6088230065849249 3.2413055501420973 3.0096382302913005
                1.1498714432729782
                0.6088230065849249 0.0 0.0 0.0 0.0
                3.2413055501420973 0.0 0.0 0.0 0.0
                3.0096382302913005 0.0 0.0 0.0 0.0
                1.1498714432729782 0.0 0.0 0.0 0.0
            """,
            (3, 5, 5),
        ),
    },
}
TF = {
    "pairwise_logistic+precision_topn2/masked": {
        "value_default": 0.32641494274139404,
        "grad_sum": _array(
            """
                -0.5557776093482971 0.19363099336624146 0.0 -0.1692741960287094
                0.5314208269119263
                0.7502601146697998 -0.249739870429039 0.249739870429039
                -0.7502601146697998 0.0
                -1.372719407081604 0.7502601146697998 0.6224592924118042 0.0 0.0
            """,
            (3, 5),
        ),
    },
    "pairwise_logistic+precision_topn2/unmasked": {
        "value_default": 0.41087016463279724,
        "grad_sum": _array(
            """
                -0.5557776093482971 0.19363099336624146 0.0 -0.1692741960287094
                0.5314208269119263
                1.4184478521347046 -0.6681877374649048 0.1679816097021103
                -0.7502601146697998 -0.1679816097021103
                -1.4612095355987549 0.7502601146697998 0.0 0.0 0.7109494805335999
            """,
            (3, 5),
        ),
    },
    "pairwise_logistic+precision_topn3/masked": {
        "value_default": 0.15668098628520966,
        "grad_sum": _array(
            """
                -0.5557776093482971 0.3760564923286438 -0.6325914859771729
                -0.1692741960287094 0.9815868139266968
                0.0 -0.249739870429039 0.5815520882606506 -0.33181220293045044 0.0
                0.0 0.0 0.0 0.0 0.0
            """,
            (3, 5),
        ),
    },
    "pairwise_logistic+precision_topn3/unmasked": {
        "value_default": 0.4747220575809479,
        "grad_sum": _array(
            """
                -0.5557776093482971 0.3760564923286438 -0.6325914859771729
                -0.1692741960287094 0.9815868139266968
                0.7502601146697998 -0.249739870429039 0.4177214801311493
                -0.7502601146697998 -0.1679816097021103
                -2.0836689472198486 0.7502601146697998 0.6224592924118042 0.0
                0.7109494805335999
            """,
            (3, 5),
        ),
    },
    "tf_pair_weights_precision_topn2/unmasked": {
        "matrix": _array(
            """
                0.0 1.0 0.0 0.0 1.0
                1.0 0.0 0.0 1.0 0.0
                0.0 0.0 0.0 0.0 0.0
                0.0 1.0 0.0 0.0 1.0
                1.0 0.0 0.0 1.0 0.0
                0.0 1.0 0.0 1.0 0.0
                1.0 0.0 0.0 0.0 0.0
                0.0 0.0 0.0 0.0 1.0
                1.0 0.0 0.0 0.0 0.0
                0.0 0.0 1.0 0.0 0.0
                0.0 1.0 0.0 0.0 1.0
                1.0 0.0 0.0 0.0 0.0
                0.0 0.0 0.0 0.0 0.0
                0.0 0.0 0.0 0.0 0.0
                1.0 0.0 0.0 0.0 0.0
            """,
            (3, 5, 5),
        ),
    },
}
ALLRANK = {
    "lambdaLoss[ndcgLoss2PP_scheme]/masked": {
        "value_default": 26.450849297397923,
        "grad_default": _array(
            """
                -4.431700305485755 0.2144967319204678 1.3714641688416485
                1.858723149217884 0.9870162555057558
                2.695925813808495 0.5905360173341159 1.636965177990003
                -4.923427009132614 0.0
                -5.39027568662488 1.9583773811236156 3.4318983055012646 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                7.935242612671206 9.523769820697702 8.991836864029016
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss2PP_scheme]/unmasked": {
        "value_default": 29.018685944335957,
        "grad_default": _array(
            """
                -4.431700305485755 0.2144967319204678 1.3714641688416485
                1.858723149217884 0.9870162555057558
                2.194251069534689 1.026063326606971 1.477356251022407
                -4.6127267511960435 -0.08494389596802343
                -7.538622037872042 1.3665882525745088 3.3765746677230823
                1.247138109219686 1.5483210083547654
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                7.935242612671206 9.15096194333819 11.932481388326561
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss2_scheme]/masked": {
        "value_default": 2.3430346069738395,
        "grad_default": _array(
            """
                -0.40650560373024486 0.015972533352544775 0.13013847539145917
                0.17422605163854982 0.08616854334769111
                0.21507829993706223 0.06461022602027372 0.1589675052361399
                -0.43865603119347585 0.0
                -0.47315000146655806 0.14171791142641624 0.3314320900401418 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                0.7239291472527112 0.8383963693474064 0.7807090903737217
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss2_scheme]/unmasked": {
        "value_default": 2.532418076146111,
        "grad_default": _array(
            """
                -0.40650560373024486 0.015972533352544775 0.13013847539145917
                0.17422605163854982 0.08616854334769111
                0.15591739275320876 0.11236224184530275 0.1437933239564889
                -0.40215324126235197 -0.00991971729264847
                -0.6640103327308318 0.07503545324682327 0.3314320900401418
                0.12325032488353249 0.13429246456033422
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                0.7239291472527112 0.7764550282131655 1.0320339006802346
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss1_scheme]/masked": {
        "value_default": 8.262271315451304,
        "grad_default": _array(
            """
                -1.1107125856785331 0.136839776743095 0.22080618791710685
                0.38630886422248045 0.36675775679585093
                0.6146650232940944 0.026098432259503423 0.26036825163307886
                -0.9011317071866767 0.0
                -0.9902077619994413 0.5411982668594532 0.4490094951399883 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                3.38347726979086 2.6753951316030324 2.2033989140574137
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss1_scheme]/unmasked": {
        "value_default": 9.4811651811586,
        "grad_default": _array(
            """
                -1.1107125856785331 0.136839776743095 0.22080618791710685
                0.38630886422248045 0.36675775679585093
                0.5763749683496971 0.014274994150498765 0.23034821508729064
                -0.945445083879664 0.12444690629217775
                -1.4384799426164592 0.46616281361262984 0.38675572781832407
                0.14382363849680996 0.44173776268869536
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                3.38347726979086 3.2650245344807045 2.832663376887037
            """,
            (3,),
        ),
    },
    "lambdaLoss[rankNetWeightedByGTDiff_scheme]/masked": {
        "value_default": 20.936541779944662,
        "grad_default": _array(
            """
                -4.883867945256933 1.0447316024072937 0.6091141330527088
                0.4682422808506477 2.7617799289462823
                3.1287842527274705 -0.4605659741740631 1.317706218368668
                -3.9859244969220757 0.0
                -1.9804155239988828 1.0823965337189063 0.8980189902799764 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                9.040090470661696 8.489653481168137 3.4067978281148275
            """,
            (3,),
        ),
    },
    "lambdaLoss[rankNetWeightedByGTDiff_scheme]/unmasked": {
        "value_default": 26.314374845731418,
        "grad_default": _array(
            """
                -4.883867945256933 1.0447316024072937 0.6091141330527088
                0.4682422808506477 2.7617799289462823
                3.9220270339623378 -0.4605659741740631 1.560052461096475
                -5.011607818681644 -0.009905702203105937
                -3.340046992693118 1.0823965337189063 0.8980189902799764
                0.33394814693466657 1.0256833217595682
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                9.040090470661696 11.697043696917202 5.577240678152521
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss2PP_scheme]_k3/masked": {
        "value_default": 22.979819259513608,
        "grad_default": _array(
            """
                -3.62469396503484 0.0 1.6713029604165452 1.9533910046182947 0.0
                2.695925813808495 0.7403292967051645 0.0 -3.4362551105136596 0.0
                -5.39027568662488 1.9583773811236156 3.4318983055012646 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                6.443622591318453 7.544359804166138 8.991836864029016
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss2PP_scheme]_k3/unmasked": {
        "value_default": 8.272343586156438,
        "grad_default": _array(
            """
                -3.62469396503484 0.0 1.6713029604165452 1.9533910046182947 0.0
                1.2017953749833565 -0.42221654204776093 0.0 0.0 -0.7795788329355955
                0.0 0.0 0.0 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                6.443622591318453 1.828720994837987 -0.0
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss2_scheme]_k3/masked": {
        "value_default": 2.0227705867659367,
        "grad_default": _array(
            """
                -0.33849904204167375 0.0 0.15932599002076672 0.17917305202090703 0.0
                0.21507829993706223 0.07760243406548266 0.0 -0.2926807340025449 0.0
                -0.47315000146655806 0.14171791142641624 0.3314320900401418 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                0.5959881889261216 0.6460733074660937 0.7807090903737217
            """,
            (3,),
        ),
    },
    "lambdaLoss[ndcgLoss2_scheme]_k3/unmasked": {
        "value_default": 0.7493087279776016,
        "grad_default": _array(
            """
                -0.33849904204167375 0.0 0.15932599002076672 0.17917305202090703 0.0
                0.10142448845101126 -0.03055368545686621 0.0 0.0 -0.07087080299414505
                0.0 0.0 0.0 0.0 0.0
            """,
            (3, 5),
        ),
        "per_list": _array(
            """
                0.5959881889261216 0.15332053905148008 -0.0
            """,
            (3,),
        ),
    },
}
SWAPS = {
    "exact_mrr": _array(
        """
            0.0 0.5 0.0 0.5 0.5
            0.5 0.0 0.0 0.0 0.0
            0.0 0.0 0.0 0.0 0.16666666666666669
            0.5 0.0 0.0 0.0 0.0
            0.5 0.0 0.16666666666666669 0.0 0.0
        """,
        (5, 5),
    ),
    "exact_mrr_top2": _array(
        """
            0.0 0.5 0.0 0.5 0.5
            0.5 0.0 0.0 0.0 0.0
            0.0 0.0 0.0 0.0 0.5
            0.5 0.0 0.0 0.0 0.0
            0.5 0.0 0.5 0.0 0.0
        """,
        (5, 5),
    ),
    "exact_map": _array(
        """
            0.0 0.2777777777777778 0.0 0.36111111111111116 0.16666666666666663
            0.2777777777777778 0.0 0.10555555555555551 0.0 0.0
            0.0 0.10555555555555551 0.0 0.04999999999999993 0.16111111111111115
            0.36111111111111116 0.0 0.04999999999999993 0.0 0.0
            0.16666666666666663 0.0 0.16111111111111115 0.0 0.0
        """,
        (5, 5),
    ),
    "exact_map_top2": _array(
        """
            0.0 0.5 0.0 0.5 0.16666666666666666
            0.5 0.0 0.0 0.0 0.0
            0.0 0.0 0.0 0.0 0.16666666666666666
            0.5 0.0 0.0 0.0 0.0
            0.16666666666666666 0.0 0.16666666666666666 0.0 0.0
        """,
        (5, 5),
    ),
    "exact_err": _array(
        """
            0.0 0.08072916666666666 0.0 0.26611328125 0.0625
            0.08072916666666666 0.0 0.012532552083333343 0.018229166666666657 0.0
            0.0 0.012532552083333343 0.0 0.014355468750000017 0.033365885416666685
            0.26611328125 0.018229166666666657 0.014355468750000017 0.0
            0.059895833333333315
            0.0625 0.0 0.033365885416666685 0.059895833333333315 0.0
        """,
        (5, 5),
    ),
    "exact_err_top2": _array(
        """
            0.0 0.1171875 0.0 0.3515625 0.0625
            0.1171875 0.0 0.0 0.0 0.0
            0.0 0.0 0.0 0.0 0.0625
            0.3515625 0.0 0.0 0.0 0.125
            0.0625 0.0 0.0625 0.125 0.0
        """,
        (5, 5),
    ),
    "catboost_mrr": _array(
        """
            0.0 0.0 0.0 0.0 0.0
            0.6666666666666667 0.0 0.0 0.0 0.0
            0.0 0.0 0.0 0.0 0.0
            0.75 0.0 0.0 0.0 0.0
            0.5 0.0 0.16666666666666669 0.0 0.0
        """,
        (5, 5),
    ),
    "catboost_map": _array(
        """
            0.0 0.0 0.0 0.0 0.0
            1.5 0.0 0.3333333333333333 0.0 0.0
            0.0 0.0 0.0 0.0 0.0
            1.8333333333333333 0.0 0.25 0.0 0.0
            1.0 0.0 0.5 0.0 0.0
        """,
        (5, 5),
    ),
    "catboost_err_R": _array(
        """
            0.0 0.0 0.0 0.0 0.0
            0.08072916666666666 0.0 0.012532552083333332 0.0 0.0
            0.0 0.0 0.0 0.0 0.0
            0.26611328125 0.018229166666666664 0.014355468750000003 0.0 0.0625
            0.0625 0.0 0.03515625 0.0 0.0
        """,
        (5, 5),
    ),
}
YETIRANK = {
    "masked": {
        "expected_grad": _array(
            """
                -0.17798910375886776 0.028856286899842935 0.02527939922903885
                0.025857254598866973 0.097996163031119
                0.15073071097248653 -0.025519319223840313 0.057112390261026894
                -0.1823237820096731 0.0
                -0.12361127399350677 0.0664819931452933 0.05712928084821347 0.0 0.0
            """,
            (3, 5),
        ),
        "expected_hess": _array(
            """
                0.0882219715775604 0.024415106706742074 0.05245763344211854
                0.02979013507374887 0.061126838646719014
                0.04176147526028465 0.04381117027961151 0.03939246253791093
                0.06916749176709973 0.0
                0.038171832847323256 0.016603205947931656 0.0215686268993916 0.0 0.0
            """,
            (3, 5),
        ),
        "grad_standard_error": _array(
            """
                7.747482714414808e-05 1.860346507707449e-05 4.416090116679017e-05
                4.283021027196565e-05 5.554832255320263e-05
                8.013850694269932e-05 4.453362371235192e-05 3.004874761326492e-05
                8.283675924270184e-05 0.0
                4.526535122163421e-05 3.5779879798084704e-05 2.7726381351566812e-05 0.0
                0.0
            """,
            (3, 5),
        ),
    },
    "unmasked": {
        "expected_grad": _array(
            """
                -0.17801759673427503 0.028847609465050786 0.025373270363081398
                0.025750321255603066 0.09804639565053977
                0.1409027052838254 -0.018092563517058374 0.04830426887360034
                -0.16474874046846744 -0.0063656701718999426
                -0.11329836714176818 0.03692512934017416 0.030678414228815735
                0.010608693680404428 0.03508612989237385
            """,
            (3, 5),
        ),
        "expected_hess": _array(
            """
                0.08826768286519991 0.024407630479019896 0.052491896890554765
                0.02979917504187991 0.06116509947987613
                0.044870414697341994 0.03144252030183888 0.034255615762831246
                0.05969693246381011 0.030498007226633296
                0.03909873423820994 0.009221677902301717 0.011582349025613637
                0.00815304401394021 0.010141663296354379
            """,
            (3, 5),
        ),
        "grad_standard_error": _array(
            """
                7.747743137304509e-05 1.859716503874238e-05 4.4171115545452764e-05
                4.282383739745267e-05 5.55558548154309e-05
                7.706700579468626e-05 4.048309094418231e-05 2.736245248789051e-05
                8.03292650206946e-05 4.101134645735241e-05
                5.2998541027625535e-05 3.3117979564903125e-05 2.6196339272933398e-05
                8.39677511286708e-06 3.090777826044553e-05
            """,
            (3, 5),
        ),
    },
}


# -- pairwise_qr: rax.pairwise_qr_loss ---------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    ("tau", "squared", "key"),
    [(0.5, False, "pairwise_qr"), (0.3, True, "pairwise_qr_sq_tau0.3")],
)
def test_pairwise_qr_matches_rax(tau, squared, key, variant):
    """rax's default reduction (the mean over the batch's valid pairs) has no
    gbrank equivalent: the sums, gradients and per-list values are compared."""
    reference = RAX[f"{key}/{variant}"]
    loss = gbrank.PairwiseQRLoss(tau=tau, squared=squared)
    kwargs = _mask(variant)
    value = loss.loss(LABELS, SCORES, reduction="sum", **kwargs)
    assert value == pytest.approx(reference["value_sum"], rel=1e-12)
    grad, _ = loss.grad_hess(LABELS, SCORES, **kwargs)
    np.testing.assert_allclose(grad, reference["grad_sum"], rtol=1e-12, atol=1e-15)
    if "per_list" in reference:
        per_row = loss.loss(LABELS, SCORES, reduction="none", **kwargs)
        np.testing.assert_allclose(per_row.sum(axis=1), reference["per_list"])


# -- lambda weights: NDCG-Loss2 (rax), precision (TF-Ranking) ------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("topn", [None, 2])
def test_ndcg2_weight_is_raxs_divided_by_the_list_size(topn, variant):
    suffix = "_topn2" if topn else ""
    reference = RAX[f"pairwise_logistic+dcg2_norm{suffix}/{variant}"]
    loss = gbrank.PairwiseLogisticLoss(
        lambda_weight=gbrank.NDCG2LambdaWeight(topn=topn)
    )
    kwargs = _mask(variant)
    value = loss.loss(LABELS, SCORES, reduction="sum", **kwargs)
    assert LIST_SIZE * value == pytest.approx(reference["value_sum"], rel=1e-12)
    grad, _ = loss.grad_hess(LABELS, SCORES, **kwargs)
    np.testing.assert_allclose(
        LIST_SIZE * grad, reference["grad_sum"], rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("topn", [None, 2])
def test_ndcg2_oracle_matrix_is_raxs(topn):
    """The oracle's plain definition reproduces rax's weight matrices."""
    suffix = "_topn2" if topn else ""
    matrices = RAX[f"lambdaweight_dcg2_norm{suffix}/unmasked"]["matrix"]
    weight = gbrank.NDCG2LambdaWeight(topn=topn)
    for b in range(3):
        got = _oracles.ndcg2_matrix(LABELS[b], SCORES[b], weight)
        np.testing.assert_allclose(LIST_SIZE * got, matrices[b], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("topn", [2, 3])
def test_precision_weight_matches_tf_ranking(topn, variant):
    reference = TF[f"pairwise_logistic+precision_topn{topn}/{variant}"]
    loss = gbrank.PairwiseLogisticLoss(
        lambda_weight=gbrank.PrecisionLambdaWeight(topn=topn)
    )
    kwargs = _mask(variant)
    # TF-Ranking's Keras AUTO reduction is gbrank's sum_over_batch_size (/ 15)
    value = loss.loss(LABELS, SCORES, **kwargs)
    assert value == pytest.approx(reference["value_default"], rel=FLOAT32)
    grad, _ = loss.grad_hess(LABELS, SCORES, **kwargs)
    np.testing.assert_allclose(grad, reference["grad_sum"], rtol=FLOAT32, atol=1e-7)


def test_precision_oracle_matrix_is_tf_rankings():
    matrices = TF["tf_pair_weights_precision_topn2/unmasked"]["matrix"]
    weight = gbrank.PrecisionLambdaWeight(topn=2)
    for b in range(3):
        got = _oracles.swap_matrix(LABELS[b], SCORES[b], weight)
        np.testing.assert_array_equal(got, matrices[b])


# -- lambda weights: exact swap deltas of MRR, MAP, ERR -------------------------------

# list 1 (unmasked): relevant rows 1, 3, 4 (rank 3, 4, 2), the first relevant
# row is 4, at rank 2; ERR with top grade 3 (R = (2^y - 1) / 8)
SWAP_WEIGHTS = {
    "exact_mrr": gbrank.MRRLambdaWeight(),
    "exact_mrr_top2": gbrank.MRRLambdaWeight(topn=2),
    "exact_map": gbrank.MAPLambdaWeight(),
    "exact_map_top2": gbrank.MAPLambdaWeight(topn=2),
    "exact_err": gbrank.ERRLambdaWeight(max_label=3),
    "exact_err_top2": gbrank.ERRLambdaWeight(topn=2, max_label=3),
}
# the brute-force MAP@2 divides by the R = 3 relevant rows, gbrank by min(R, 2)
SWAP_SCALE = {"exact_map_top2": 3 / 2}


def _weighted_logistic(labels, scores, matrix):
    """Sum over y_i > y_j of W_ij log(1 + exp(-(s_i - s_j))), and its gradient."""
    value, grad = 0.0, np.zeros(len(labels))
    for i in range(len(labels)):
        for j in range(len(labels)):
            if labels[i] > labels[j]:
                d = scores[i] - scores[j]
                value += matrix[i][j] * math.log1p(math.exp(-d))
                slope = -matrix[i][j] / (1 + math.exp(d))
                grad[i] += slope
                grad[j] -= slope
    return value, grad


@pytest.mark.parametrize("key", SWAP_WEIGHTS)
def test_swap_weights_are_the_exact_metric_changes(key):
    labels, scores = LABELS[1], SCORES[1]
    weight = SWAP_WEIGHTS[key]
    expected = np.array(SWAPS[key]) * SWAP_SCALE.get(key, 1.0)
    # the oracle's brute force and the reference's agree ...
    np.testing.assert_allclose(
        _oracles.swap_matrix(labels, scores, weight), expected, atol=1e-15
    )
    # ... and the kernel's O(1)-per-pair deltas give the loss they imply
    loss = gbrank.PairwiseLogisticLoss(lambda_weight=weight)
    value, grad = _weighted_logistic(labels, scores, expected)
    assert loss.loss(labels, scores, reduction="sum") == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(loss.grad_hess(labels, scores)[0], grad, atol=1e-15)


def test_where_catboosts_lambdamart_deltas_differ():
    """CatBoost's LambdaMart:metric=MRR|MAP|ERR deltas (on list 1) equal the
    exact changes only in part, as the weights' docstrings say."""
    exact_mrr, catboost_mrr = np.array(SWAPS["exact_mrr"]), SWAPS["catboost_mrr"]
    # pairs of the first relevant row (4) with irrelevant rows 0 and 2: equal
    assert catboost_mrr[4][0] == pytest.approx(exact_mrr[4][0])
    assert catboost_mrr[4][2] == pytest.approx(exact_mrr[4][2])
    # a relevant row below the first (3, rank 4) with row 0 (rank 1): CatBoost
    # takes 1/1 - 1/4 (as if row 3 were first), the exact change is 1/1 - 1/2
    assert catboost_mrr[3][0] == pytest.approx(0.75)
    assert exact_mrr[3][0] == pytest.approx(0.5)
    # MAP: CatBoost's heuristic is neither divided by R nor |Delta AP|
    assert SWAPS["catboost_map"][3][0] == pytest.approx(1 + 1 / 2 + 1 / 3)
    assert SWAPS["exact_map"][3][0] == pytest.approx(0.36111111111111116)
    # ERR: equal, except where a row between the two has the upper row's label
    exact_err, catboost_err = np.array(SWAPS["exact_err"]), SWAPS["catboost_err_R"]
    for hi, lo in [(1, 0), (1, 2), (3, 0), (3, 1), (3, 2), (4, 0)]:
        assert catboost_err[hi][lo] == pytest.approx(exact_err[hi][lo], rel=1e-12)
    # row 4 (rank 2) with rows 3 (rank 4) and 2 (rank 5): row 1 (rank 3)
    # between them has row 4's label, and CatBoost skips it
    assert catboost_err[3][4] == pytest.approx(0.0625)
    assert exact_err[3][4] == pytest.approx(0.059895833333333315)
    assert catboost_err[4][2] == pytest.approx(0.03515625)
    assert exact_err[4][2] == pytest.approx(0.033365885416666685)


# -- lambdaloss: allRank lambdaLoss --------------------------------------------------

ALLRANK_SCHEMES = {
    "ndcgLoss2PP_scheme": "ndcg2pp",
    "ndcgLoss2_scheme": "ndcg2",
    "ndcgLoss1_scheme": "ndcg1",
    "rankNetWeightedByGTDiff_scheme": "arp2",
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    ("allrank", "k"),
    [
        *((name, None) for name in ALLRANK_SCHEMES),
        ("ndcgLoss2PP_scheme", 3),
        ("ndcgLoss2_scheme", 3),
    ],
)
def test_lambdaloss_matches_allrank(allrank, k, variant):
    reference = ALLRANK[f"lambdaLoss[{allrank}]{'_k3' if k else ''}/{variant}"]
    loss = gbrank.LambdaLoss(scheme=ALLRANK_SCHEMES[allrank], topn=k)
    kwargs = _mask(variant)
    # allRank's default reduction, a sum over every pair, is lambdaloss's
    value = loss.loss(LABELS, SCORES, **kwargs)
    assert value == pytest.approx(reference["value_default"], rel=1e-12)
    grad, _ = loss.grad_hess(LABELS, SCORES, **kwargs)
    np.testing.assert_allclose(grad, reference["grad_default"], rtol=1e-12, atol=1e-14)
    per_row = loss.loss(LABELS, SCORES, reduction="none", **kwargs)
    np.testing.assert_allclose(
        per_row.sum(axis=1), reference["per_list"], rtol=1e-12, atol=1e-14
    )


# -- yetirank: CatBoost's expected pair weights -----------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_yetirank_expected_gradient_is_catboosts(variant):
    """The mean gradient and hessian over seeds equal those of CatBoost's
    expected pair weights (a Monte Carlo estimate), within 4.5 standard errors
    of both estimates."""
    reference = YETIRANK[variant]
    kwargs = _mask(variant)
    runs = [
        gbrank.YetiRankLoss(permutations=1000, seed=seed).grad_hess(
            LABELS, SCORES, **kwargs
        )
        for seed in range(40)
    ]
    valid = MASK if variant == "masked" else np.ones_like(MASK)
    reference_error = np.array(reference["grad_standard_error"])
    for k, key in enumerate(["expected_grad", "expected_hess"]):
        draws = np.array([run[k] for run in runs])
        mean = draws.mean(axis=0)
        error = draws.std(axis=0, ddof=1) / math.sqrt(len(runs))
        # the reference's hessian error is at most its gradient error
        bound = 4.5 * np.sqrt(error**2 + reference_error**2)
        expected = np.where(valid, reference[key], mean)
        assert np.all(np.abs(mean - expected) <= bound + 1e-12), (key, mean, expected)

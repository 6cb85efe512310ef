"""Reference numbers of the softmax variants and the relaxed-rank listwise losses
(poly1 and unique softmax, approximate NDCG and MRR, Gumbel, NeuralNDCG), input
for input.

rax, TF-Ranking and allRank ran on the same padded batch (three lists of five
rows, the mask or label -1 on padded rows); their values and gradients are
written below as literals, each block with the command that produced it. The
gbrank value and gradient equal them to 1e-9 relative (float64 references) or
to float32 precision (TF-Ranking), with the reference's default reduction
where gbrank expresses it, else per list (``reduction="none"``) and the
gradient of the sum (what ``grad_hess`` returns).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gbrank

LABELS = np.array([[3, 0, 1, 2, 0], [0, 1, 0, 2, 1], [1, 0, 0, 0, 0]], dtype=float)
SCORES = np.array(
    [
        [0.5, -1.2, 0.3, 2.0, 0.1],
        [1.1, 0.4, -0.7, 0.0, 0.9],
        [-0.3, 0.8, 0.2, -1.5, 0.6],
    ]
)
MASK = np.array(
    [
        [True, True, True, True, True],
        [True, True, True, True, False],
        [True, True, True, False, False],
    ]
)
WEIGHTS = np.array(
    [[1.0, 2.0, 0.5, 1.5, 3.0], [2.0, 0.0, 1.0, 0.5, 1.0], [0.7, 1.3, 2.0, 1.0, 1.0]]
)
F64 = 1e-9  # float64 references (gbrank agrees to ~1e-15; allRank adds 1e-10)
F32 = 1e-6  # TF-Ranking computes in float32


def _mask(variant):
    return MASK if variant == "masked" else None


def assert_close(got, expected, rtol):
    """Relative agreement, with an absolute floor at rtol times the largest entry."""
    expected = np.asarray(expected, dtype=float)
    atol = rtol * float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


# rax (float64). Produced by (REFERENCE.md 0.3; rax git HEAD af92de1f, jax 0.10.2):
#   cd /work/scratch/zoo && venv-jax/bin/python make_refs_rax.py  -> out/refs_rax.json
RAX = {
    "poly1_softmax/masked": {
        "value_default": 6.013445596122491,
        "per_list": [9.707737563904526, 5.7773335338631036, 2.5552656905998434],
        "grad_sum": [
            [
                -2.1895057306627037,
                0.16083290722944643,
                -0.2982724171794248,
                1.736801590072159,
                0.5901436505405231,
            ],
            [
                1.6013145206501116,
                -0.2877925679943234,
                0.2646955099565462,
                -1.5782174626123342,
                0.0,
            ],
            [-0.9687061247801487, 0.6254512183438553, 0.34325490643629336, 0.0, 0.0],
        ],
    },
    "poly1_softmax/unmasked": {
        "value_default": 6.926802633566799,
        "per_list": [9.707737563904526, 8.061664826863879, 3.0110055099319952],
        "grad_sum": [
            [
                -2.1895057306627037,
                0.16083290722944643,
                -0.2982724171794248,
                1.736801590072159,
                0.5901436505405231,
            ],
            [
                1.4842911273829016,
                -0.30704828563374886,
                0.24535167315355888,
                -1.5650787459464695,
                0.1424842310437579,
            ],
            [
                -0.985873728705582,
                0.39949478732901017,
                0.21924738784506917,
                0.04005288545089395,
                0.32707866808060865,
            ],
        ],
    },
    "unique_softmax/masked": {
        "value_default": 7.91656905951326,
        "per_list": [15.438024602197128, 6.579516136112254, 1.7321664402303956],
        "grad_sum": [
            [
                -6.021447548266713,
                0.37710759180316444,
                0.6900789725257509,
                3.570541354000529,
                1.38371962993727,
            ],
            [
                2.1056705309709693,
                0.04564504030683747,
                0.34806499773045907,
                -2.4993805690082658,
                0.0,
            ],
            [-0.823099250369448, 0.531439221650759, 0.29166002871868896, 0.0, 0.0],
        ],
    },
    "unique_softmax/unmasked": {
        "value_default": 8.688079649654963,
        "per_list": [15.438024602197128, 8.496354845340244, 2.129859501427519],
        "grad_sum": [
            [
                -6.021447548266713,
                0.37710759180316444,
                0.6900789725257509,
                3.570541354000529,
                1.38371962993727,
            ],
            [
                2.17204421048568,
                -0.17168603848478337,
                0.3590364931614166,
                -2.64506194774884,
                0.2856672825865273,
            ],
            [
                -0.8811460085044766,
                0.3570571230612699,
                0.19595710388628165,
                0.03579813430111377,
                0.2923336472558111,
            ],
        ],
    },
    "approx_ndcg_T0.1/masked": {
        "value_default": -0.6374379485692777,
        "per_list": [-0.8244388601760948, -0.5872687535493873, -0.5006062319823511],
        "grad_sum": [
            [
                -0.14442366471450377,
                8.151427058964606e-08,
                0.1120961808126439,
                -4.237684116679842e-07,
                0.032327826156000966,
            ],
            [
                0.00048485063604131813,
                0.00365184332246714,
                0.0006939198013854676,
                -0.0048306137598939265,
                0.0,
            ],
            [
                -0.0060342113268417475,
                1.5121063441246717e-05,
                0.006019090263400501,
                0.0,
                0.0,
            ],
        ],
    },
    "approx_ndcg_T0.1/unmasked": {
        "value_default": -0.6159890109558647,
        "per_list": [-0.8244388601760948, -0.5924856914984578, -0.4310424811930415],
        "grad_sum": [
            [
                -0.14442366471450377,
                8.151427058964606e-08,
                0.1120961808126439,
                -4.237684116679842e-07,
                0.032327826156000966,
            ],
            [
                0.054458627482534064,
                0.004879644327813763,
                0.0003602044647723959,
                -0.0034349381515235543,
                -0.05626353812359666,
            ],
            [
                -0.0036473847677144303,
                8.965700942084841e-06,
                0.003568886768761164,
                3.2983666957181743e-06,
                6.623393131546342e-05,
            ],
        ],
    },
    "approx_ndcg_T1.0/masked": {
        "value_default": -0.6159508111163229,
        "per_list": [-0.6790938645950625, -0.5986046371193979, -0.5701539316345083],
        "grad_sum": [
            [
                -0.039704679528000816,
                0.0151556504597153,
                0.024946562136013976,
                -0.032624026855258795,
                0.032226493787530335,
            ],
            [
                0.026027202892331187,
                -0.003931755834758185,
                0.027801687120609504,
                -0.049897134178182506,
                0.0,
            ],
            [-0.05873207263208462, 0.02605423631974259, 0.03267783631234202, 0.0, 0.0],
        ],
    },
    "approx_ndcg_T1.0/unmasked": {
        "value_default": -0.5844372888959604,
        "per_list": [-0.6790938645950625, -0.6001515144961334, -0.47406648759668524],
        "grad_sum": [
            [
                -0.039704679528000816,
                0.0151556504597153,
                0.024946562136013976,
                -0.032624026855258795,
                0.032226493787530335,
            ],
            [
                0.023081251908995355,
                0.00040557083250817097,
                0.02050789098374113,
                -0.03245918880671352,
                -0.011535524918531135,
            ],
            [
                -0.060543558074635836,
                0.014078536751032952,
                0.01765763209566572,
                0.013366574320795875,
                0.01544081490714129,
            ],
        ],
    },
    "approx_ndcg_T0.1_topn3/unmasked": {
        "value_default": -0.3690150249614951,
        "per_list": [-0.8237349823265216, -0.2805229305750589, -0.0027871619829048506],
        "grad_sum": [
            [
                -0.13728814967923472,
                1.0234576392474987e-07,
                0.09781036736965454,
                -4.209175869929282e-07,
                0.03947810088140325,
            ],
            [
                0.05453853684632527,
                -4.894210846475861e-05,
                0.00022524726687599372,
                0.0009666486268469221,
                -0.05568149063158343,
            ],
            [
                -0.0019050159014174157,
                4.682753246438402e-06,
                0.0018640166798493752,
                1.7227250219576225e-06,
                3.459374329964456e-05,
            ],
        ],
    },
    "approx_ndcg_T0.1_topn3/masked": {"value_default": -0.3328406531448574},
    "gumbel_approx_ndcg_T0.1_MC200000/masked": {
        "value_default": -0.6808637531680393,
        "grad_default": [
            [
                -0.01948198621302287,
                0.0038160978203695775,
                0.007092694223572102,
                -0.0014185388428152976,
                0.009991733011896493,
            ],
            [
                0.016526770547766568,
                -0.0005889875199748697,
                0.008320342550906986,
                -0.02425812557869869,
                0.0,
            ],
            [
                -0.02896492248695227,
                0.015021541731973655,
                0.013943380754978621,
                0.0,
                0.0,
            ],
        ],
    },
}


# TF-Ranking 0.5.3 Keras losses (float32). Produced by: cd /work/scratch/zoo &&
# venv-tf215/bin/python make_refs_tf.py (REFERENCE.md 0.3) -> out/refs_tf.json
TF = {
    "unique_softmax/masked": {
        "value_default": 7.916568756103516,
        "grad_sum": [
            [
                -6.021447658538818,
                0.37710756063461304,
                0.690078854560852,
                3.5705416202545166,
                1.3837196826934814,
            ],
            [
                2.105670690536499,
                0.04564499855041504,
                0.34806498885154724,
                -2.499380588531494,
                0.0,
            ],
            [-0.8230992555618286, 0.5314392447471619, 0.29166001081466675, 0.0, 0.0],
        ],
    },
    "unique_softmax/unmasked": {
        "value_default": 8.688079833984375,
        "grad_sum": [
            [
                -6.021447658538818,
                0.37710756063461304,
                0.690078854560852,
                3.5705416202545166,
                1.3837196826934814,
            ],
            [
                2.172044515609741,
                -0.1716861128807068,
                0.35903650522232056,
                -2.64506196975708,
                0.28566718101501465,
            ],
            [
                -0.8811460137367249,
                0.3570571541786194,
                0.19595707952976227,
                0.03579813241958618,
                0.2923336327075958,
            ],
        ],
    },
    "approx_ndcg_T0.1/masked": {
        "value_default": -0.6374379992485046,
        "grad_sum": [
            [
                -0.14442364871501923,
                8.151425845426274e-08,
                0.11209617555141449,
                -4.0978193283081055e-07,
                0.03232782334089279,
            ],
            [
                0.00048484461149200797,
                0.0036518555134534836,
                0.000693919719196856,
                -0.004830621182918549,
                0.0,
            ],
            [
                -0.0060341693460941315,
                1.5110091226233635e-05,
                0.006019069813191891,
                0.0,
                0.0,
            ],
        ],
    },
    "approx_ndcg_T0.1/unmasked": {
        "value_default": -0.6159890294075012,
        "grad_sum": [
            [
                -0.14442364871501923,
                8.151425845426274e-08,
                0.11209617555141449,
                -4.0978193283081055e-07,
                0.03232782334089279,
            ],
            [
                0.05445863679051399,
                0.004879659973084927,
                0.00036020445986650884,
                -0.0034349411725997925,
                -0.05626354366540909,
            ],
            [
                -0.003647357225418091,
                8.959194929047953e-06,
                0.003568874439224601,
                3.2983668916131137e-06,
                6.622698128921911e-05,
            ],
        ],
    },
    "approx_mrr_T0.1/masked": {
        "value_default": -0.44855713844299316,
        "grad_sum": [
            [
                -0.11482454836368561,
                1.0196733057910023e-07,
                0.0760471448302269,
                -8.940696716308594e-07,
                0.0387781485915184,
            ],
            [
                0.0007582266698591411,
                -0.001996085047721863,
                0.0006956694996915758,
                0.000542178750038147,
                0.0,
            ],
            [
                -0.007438473403453827,
                1.8626582459546626e-05,
                0.007419855799525976,
                0.0,
                0.0,
            ],
        ],
    },
    "approx_mrr_T0.1/unmasked": {
        "value_default": -0.4047654867172241,
        "grad_sum": [
            [
                -0.11482454836368561,
                1.0196733057910023e-07,
                0.0760471448302269,
                -8.940696716308594e-07,
                0.0387781485915184,
            ],
            [
                0.07392396777868271,
                0.0032698409631848335,
                0.00029159459518268704,
                -0.0009394437074661255,
                -0.07654596120119095,
            ],
            [
                -0.00426093116402626,
                1.0466334060765803e-05,
                0.004169239662587643,
                3.8532266444235574e-06,
                7.736785482848063e-05,
            ],
        ],
    },
    "approx_mrr_T1/masked": {
        "value_default": -0.42243579030036926,
        "grad_sum": [
            [
                -0.021722909063100815,
                0.01643199659883976,
                0.020630428567528725,
                -0.05153790861368179,
                0.03619839996099472,
            ],
            [
                0.031121447682380676,
                -0.01795211434364319,
                0.032179076224565506,
                -0.045348409563302994,
                0.0,
            ],
            [-0.07502464950084686, 0.03328181058168411, 0.04174283146858215, 0.0, 0.0],
        ],
    },
    "approx_mrr_T1/unmasked": {
        "value_default": -0.36411210894584656,
        "grad_sum": [
            [
                -0.021722909063100815,
                0.01643199659883976,
                0.020630428567528725,
                -0.05153790861368179,
                0.03619839996099472,
            ],
            [
                0.025433000177145004,
                -0.004772122949361801,
                0.021195396780967712,
                -0.021177805960178375,
                -0.020678475499153137,
            ],
            [
                -0.07331711053848267,
                0.017048845067620277,
                0.02138306200504303,
                0.01618667133152485,
                0.018698537722229958,
            ],
        ],
    },
    "v1_poly1_softmax/masked": {
        "per_list": [2.203115701675415, 2.4629576206207275, 2.5552656650543213],
        "per_list_weights": [6.0, 3.0, 1.0],
    },
}


# allRank c8847566 loss files under torch 2.13.0, float64 copy. Produced by
# (REFERENCE.md 0.3):
#   cd /work/scratch/zoo && venv-torch/bin/python make_refs_allrank.py f64
#   -> out/refs_allrank_f64.json
# per_list / per_list_grad: each list alone (a batch of one).
ALLRANK = {
    "neuralNDCG_T1/masked": {
        "value_default": -0.6714380553854884,
        "per_list": [-0.7931083302632613, -0.6440507767883401, -0.5771559248598905],
        "per_list_grad": [
            [
                -0.10803236621336532,
                7.52132443777668e-05,
                0.0484491528198333,
                0.00951103256046791,
                0.04999696758868636,
            ],
            [
                0.04974975596357324,
                0.01973120656730793,
                0.028121173763820524,
                -0.0976021362947017,
                0.0,
            ],
            [-0.10537070229107176, 0.0359241828851847, 0.06944651940588706, 0.0, 0.0],
        ],
    },
    "neuralNDCG_T1/unmasked": {
        "value_default": -0.6335672417316387,
        "per_list": [-0.7931083302632613, -0.6448796397045125, -0.4627135776015853],
        "per_list_grad": [
            [
                -0.10803236621336532,
                7.52132443777668e-05,
                0.0484491528198333,
                0.00951103256046791,
                0.04999696758868636,
            ],
            [
                0.05331916612939147,
                0.008022710702899205,
                0.014600992412369859,
                -0.054967411506646344,
                -0.020975457738014205,
            ],
            [
                -0.08679459915681281,
                0.011424295109498174,
                0.04403548019669684,
                0.010230450486787574,
                0.021104373363830226,
            ],
        ],
    },
    "neuralNDCG_T1_k3/masked": {
        "value_default": -0.6139424210151491,
        "per_list": [-0.7171241249519663, -0.5475479878949471, -0.5771559248598905],
        "per_list_grad": [
            [
                -0.22710770025501922,
                -0.001056891336063655,
                0.09042772159179532,
                0.011297929690198704,
                0.1264389403090889,
            ],
            [
                0.054193691788230164,
                0.042072175871661524,
                0.10653433692758242,
                -0.20280020458747408,
                0.0,
            ],
            [-0.10537070229107176, 0.0359241828851847, 0.06944651940588706, 0.0, 0.0],
        ],
    },
    "neuralNDCG_T1_k3/unmasked": {
        "value_default": -0.4398539175882989,
        "per_list": [-0.7171241249519663, -0.41139507766291195, -0.19104234594355907],
        "per_list_grad": [
            [
                -0.22710770025501922,
                -0.001056891336063655,
                0.09042772159179532,
                0.011297929690198704,
                0.1264389403090889,
            ],
            [
                0.06577166425567027,
                0.05640523601441343,
                0.03855778432459104,
                -0.1481916728162998,
                -0.012543011778374958,
            ],
            [
                -0.23958985923714834,
                0.017877930673035555,
                0.1526204779472884,
                0.01954343950056595,
                0.04954801111625847,
            ],
        ],
    },
    "neuralNDCG_T0.1/masked": {
        "value_default": -0.6405559352336274,
        "per_list": [-0.8325654896059002, -0.5882270450066146, -0.5008751748139345],
        "per_list_grad": [
            [
                -0.08161201336336132,
                -4.882790705961246e-07,
                0.07697041188941786,
                5.166320314835267e-07,
                0.004641573120982567,
            ],
            [
                0.00095344930420931,
                0.011851950302107827,
                0.0004967812230959427,
                -0.013302180829413077,
                0.0,
            ],
            [
                -0.008737355499906091,
                -2.028576340637467e-05,
                0.008757641263312469,
                0.0,
                0.0,
            ],
        ],
    },
    "neuralNDCG_T0.1/unmasked": {
        "value_default": -0.6204104358545263,
        "per_list": [-0.8325654896059002, -0.597657655083508, -0.4310080665997375],
        "per_list_grad": [
            [
                -0.08161201336336132,
                -4.882790705961246e-07,
                0.07697041188941786,
                5.166320314835267e-07,
                0.004641573120982567,
            ],
            [
                0.09272976421217746,
                0.00671674976090394,
                0.0002349741060854605,
                -0.0062710000889901075,
                -0.09341048799017675,
            ],
            [
                -0.004206771308120874,
                -0.001198642650424785,
                0.004522159831519733,
                2.005477817003268e-06,
                0.0008812486492088926,
            ],
        ],
    },
    "approxNDCGLoss_alpha10/masked": {
        "per_list": [-0.8244388601530583, -0.5872687535493872, -0.500606231982351],
        "per_list_grad": [
            [
                -0.1444236647145039,
                8.151424141218481e-08,
                0.11209618081264387,
                -4.2376838233258775e-07,
                0.03232782615600096,
            ],
            [
                0.0004848506360413181,
                0.003651843322467138,
                0.0006939198013854671,
                -0.004830613759893923,
                0.0,
            ],
            [
                -0.006034211326841746,
                1.512106344124671e-05,
                0.006019090263400499,
                0.0,
                0.0,
            ],
        ],
    },
    "approxNDCGLoss_alpha10/unmasked": {
        "per_list": [-0.8244388601530583, -0.5924856914984576, -0.4310424811930415],
        "per_list_grad": [
            [
                -0.1444236647145039,
                8.151424141218481e-08,
                0.11209618081264387,
                -4.2376838233258775e-07,
                0.03232782615600096,
            ],
            [
                0.05445862748253406,
                0.004879644327813763,
                0.0003602044647723955,
                -0.0034349381515235543,
                -0.056263538123596656,
            ],
            [
                -0.0036473847677144307,
                8.965700942084841e-06,
                0.0035688867687611644,
                3.2983666957181688e-06,
                6.623393131546342e-05,
            ],
        ],
    },
}


# rax with per-row weights W, and the top-n cutoff on each list without padding.
# Produced by:
#   cd /work/scratch/zoo17a && ../zoo/venv-jax/bin/python make_refs_17a_rax.py
#   -> refs_17a_rax.json
RAX_EXTRA = {
    "poly1_softmax/weighted_masked": {
        "value_sum": 13.68612340161008,
        "grad_sum": [
            [
                -2.1051915253301505,
                0.17525349585789057,
                0.27662760015853904,
                1.0102533609737399,
                0.6430570683399811,
            ],
            [
                0.5849705765274656,
                0.2904877914539275,
                0.09669498594233059,
                -0.9721533539237237,
                0.0,
            ],
            [-0.7217763496693143, 0.4660194518486276, 0.25575689782068667, 0.0, 0.0],
        ],
        "per_list": [9.026859412742379, 2.6236482303369772, 2.035615758530725],
    },
    "poly1_softmax_eps-0.5/weighted_masked": {
        "value_sum": 10.245507746973432,
        "grad_sum": [
            [
                -2.0844204652778466,
                0.1613679307771309,
                0.2276029300500904,
                1.103342793789486,
                0.5921068106611395,
            ],
            [
                0.45948665449264936,
                0.22817431990933068,
                0.0759526331402912,
                -0.7636136075422711,
                0.0,
            ],
            [-0.5033660380532632, 0.32500145680898307, 0.17836458124428006, 0.0, 0.0],
        ],
        "per_list": [8.070582918164035, 1.3739579458328444, 0.8009668829765528],
    },
    "unique_softmax/weighted_masked": {
        "value_sum": 19.454905233600595,
        "grad_sum": [
            [
                -6.021447548266713,
                0.36700083764510205,
                1.1447836428789688,
                3.163028117157998,
                1.3466349505846447,
            ],
            [
                0.7519719427563821,
                0.3734182156362944,
                0.12430012611145648,
                -1.2496902845041329,
                0.0,
            ],
            [-0.5761694752586135, 0.37200745515553124, 0.20416202010308226, 0.0, 0.0],
        ],
        "per_list": [15.556606664437986, 2.6857820610013325, 1.2125165081612768],
    },
    "approx_ndcg_T0.1_topn2/unpadded": {
        "per_list": [-0.8090096896880411, -0.17478680775707622, -0.0035373487824653994],
        "grad_per_list": [
            [
                -0.22946270973324215,
                1.0290972401524476e-07,
                0.18746059760115788,
                -2.638919631218313e-07,
                0.042002273114323384,
            ],
            [
                0.0005978739169644658,
                -0.006233227117696376,
                0.0003130622770624831,
                0.005322290923669427,
                0.0,
            ],
            [
                -0.0023835370096375714,
                5.972879036729571e-06,
                0.0023775641306008418,
                0.0,
                0.0,
            ],
        ],
    },
    "approx_ndcg_T0.1_topn3/unpadded": {
        "per_list": [-0.8237349823265216, -0.5847091916676262, -0.5006062319823511],
        "grad_per_list": [
            [
                -0.13728814967923472,
                1.0234576392474987e-07,
                0.09781036736965454,
                -4.209175869929282e-07,
                0.03947810088140325,
            ],
            [
                0.0004890272833591765,
                0.008062425636841482,
                0.0009212190631809383,
                -0.009472671983381597,
                0.0,
            ],
            [
                -0.0060342113268417475,
                1.5121063441246717e-05,
                0.006019090263400501,
                0.0,
                0.0,
            ],
        ],
    },
}


# TF-Ranking Keras ApproxNDCGLoss / ApproxMRRLoss with per-row weights W (float32).
# Produced by:
#   cd /work/scratch/zoo17a && ../zoo/venv-tf215/bin/python make_refs_17a_tf.py
#   -> refs_17a_tf.json
TF_EXTRA = {
    "approx_ndcg_T0.1/weighted_masked": {
        "value_sum": -1.4393227100372314,
        "unreduced": [-0.8931421637535095, -0.19575625658035278, -0.3504243493080139],
        "grad_sum": [
            [
                -0.1564589887857437,
                8.830711806240288e-08,
                0.12143753468990326,
                -4.470348358154297e-07,
                0.03502180799841881,
            ],
            [
                0.0001616148801986128,
                0.0012172851711511612,
                0.00023130657791625708,
                -0.0016102055087685585,
                0.0,
            ],
            [
                -0.004223920404911041,
                1.0577064131211955e-05,
                0.004213348496705294,
                0.0,
                0.0,
            ],
        ],
    },
    "approx_mrr_T0.1/weighted_masked": {
        "value_sum": -1.0381840467453003,
        "unreduced": [-0.6747443675994873, -0.12958332896232605, -0.23385636508464813],
        "grad_sum": [
            [
                -0.12439321726560593,
                1.1046461168007227e-07,
                0.08238442987203598,
                -8.940696716308594e-07,
                0.042009659111499786,
            ],
            [
                0.00025274220388382673,
                -0.0006653554737567902,
                0.00023188984778244048,
                0.0001807231456041336,
                0.0,
            ],
            [
                -0.005206931382417679,
                1.3038607903581578e-05,
                0.0051938993856310844,
                0.0,
                0.0,
            ],
        ],
    },
}

VARIANTS = ["masked", "unmasked"]


# -- poly1_softmax (rax.poly1_softmax_loss) ----------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_poly1_softmax_equals_rax(variant):
    ref = RAX[f"poly1_softmax/{variant}"]
    loss = gbrank.Poly1SoftmaxLoss()
    mask = _mask(variant)
    # rax's default reduction: mean over lists with a valid row
    assert_close(loss.loss(LABELS, SCORES, mask=mask), ref["value_default"], F64)
    assert_close(
        loss.loss(LABELS, SCORES, mask=mask, reduction="none"), ref["per_list"], F64
    )
    assert_close(loss.grad_hess(LABELS, SCORES, mask=mask)[0], ref["grad_sum"], F64)


@pytest.mark.parametrize("name", ["poly1_softmax", "poly1_softmax_eps-0.5"])
def test_poly1_softmax_weights_scale_the_labels_as_rax(name):
    ref = RAX_EXTRA[f"{name}/weighted_masked"]
    loss = gbrank.Poly1SoftmaxLoss(epsilon=-0.5 if "eps" in name else 1.0)
    kwargs = {"mask": MASK, "sample_weight": WEIGHTS}
    assert_close(
        loss.loss(LABELS, SCORES, reduction="none", **kwargs), ref["per_list"], F64
    )
    assert_close(loss.grad_hess(LABELS, SCORES, **kwargs)[0], ref["grad_sum"], F64)


def test_poly1_softmax_differs_from_tf_ranking_unless_the_label_sum_is_one():
    """TF-Ranking's PolyOneSoftmaxLoss normalises the labels and weighs a list by
    Y = sum y: equal to rax (and gbrank) on list 3 (Y = 1) only."""
    ref = TF["v1_poly1_softmax/masked"]
    values = gbrank.Poly1SoftmaxLoss().loss(LABELS, SCORES, mask=MASK, reduction="none")
    tf_weighted = np.multiply(ref["per_list"], ref["per_list_weights"])
    assert_close(values[2], tf_weighted[2], F32)
    assert not np.allclose(values[:2], tf_weighted[:2], rtol=1e-3)


# -- unique_softmax (rax.unique_softmax_loss, TF-Ranking UniqueSoftmaxLoss) ---------


@pytest.mark.parametrize("variant", VARIANTS)
def test_unique_softmax_equals_rax_and_tf_ranking(variant):
    ref = RAX[f"unique_softmax/{variant}"]
    loss = gbrank.UniqueSoftmaxLoss()
    mask = _mask(variant)
    assert_close(loss.loss(LABELS, SCORES, mask=mask), ref["value_default"], F64)
    assert_close(
        loss.loss(LABELS, SCORES, mask=mask, reduction="none"), ref["per_list"], F64
    )
    assert_close(loss.grad_hess(LABELS, SCORES, mask=mask)[0], ref["grad_sum"], F64)
    tf = TF[f"unique_softmax/{variant}"]  # Keras AUTO: sum over lists / 3
    value = loss.loss(LABELS, SCORES, mask=mask, reduction="sum_over_batch_size")
    assert_close(value, tf["value_default"], F32)
    assert_close(loss.grad_hess(LABELS, SCORES, mask=mask)[0], tf["grad_sum"], F32)


def test_unique_softmax_weights_scale_each_rows_term_as_rax():
    ref = RAX_EXTRA["unique_softmax/weighted_masked"]
    loss = gbrank.UniqueSoftmaxLoss()
    kwargs = {"mask": MASK, "sample_weight": WEIGHTS}
    assert_close(
        loss.loss(LABELS, SCORES, reduction="none", **kwargs), ref["per_list"], F64
    )
    assert_close(loss.grad_hess(LABELS, SCORES, **kwargs)[0], ref["grad_sum"], F64)


# -- approx_ndcg (rax approx_t12n(ndcg_metric), TF-Ranking ApproxNDCGLoss, allRank) --


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("temperature", [0.1, 1.0])
def test_approx_ndcg_equals_rax(variant, temperature):
    ref = RAX[f"approx_ndcg_T{temperature}/{variant}"]
    loss = gbrank.ApproxNDCGLoss(temperature=temperature)
    mask = _mask(variant)
    # every list has a valid row: rax's mean equals TF-Ranking's sum / 3 here
    assert_close(loss.loss(LABELS, SCORES, mask=mask), ref["value_default"], F64)
    assert_close(
        loss.loss(LABELS, SCORES, mask=mask, reduction="none"), ref["per_list"], F64
    )
    assert_close(loss.grad_hess(LABELS, SCORES, mask=mask)[0], ref["grad_sum"], F64)


@pytest.mark.parametrize("variant", VARIANTS)
def test_approx_ndcg_equals_tf_ranking_and_allrank(variant):
    loss = gbrank.ApproxNDCGLoss()
    mask = _mask(variant)
    tf = TF[f"approx_ndcg_T0.1/{variant}"]
    assert_close(loss.loss(LABELS, SCORES, mask=mask), tf["value_default"], F32)
    assert_close(loss.grad_hess(LABELS, SCORES, mask=mask)[0], tf["grad_sum"], F32)
    allrank = ALLRANK[f"approxNDCGLoss_alpha10/{variant}"]  # alpha = 1 / T
    per_list = loss.loss(LABELS, SCORES, mask=mask, reduction="none")
    assert_close(per_list, allrank["per_list"], F64)
    assert_close(
        loss.grad_hess(LABELS, SCORES, mask=mask)[0], allrank["per_list_grad"], F64
    )


def test_approx_ndcg_weights_weigh_lists_as_tf_ranking():
    ref = TF_EXTRA["approx_ndcg_T0.1/weighted_masked"]
    loss = gbrank.ApproxNDCGLoss()
    kwargs = {"mask": MASK, "sample_weight": WEIGHTS}
    assert_close(
        loss.loss(LABELS, SCORES, reduction="none", **kwargs), ref["unreduced"], F32
    )
    assert_close(
        loss.loss(LABELS, SCORES, reduction="sum", **kwargs), ref["value_sum"], F32
    )
    assert_close(loss.grad_hess(LABELS, SCORES, **kwargs)[0], ref["grad_sum"], F32)


def _rax_topn_gradient(loss, mask):
    """The gradient with the cutoff point held fixed (rax's stop_gradient): what
    the "auto" booster step uses before normalising."""
    batch = loss._batch(LABELS, SCORES, None, None, None, mask)
    _, grad, _ = loss._run(batch, loss._config(False, cutoff_gradient=False))
    return grad.reshape(LABELS.shape)


def test_approx_ndcg_topn_equals_rax_value_and_stop_gradient_gradient():
    ref = RAX["approx_ndcg_T0.1_topn3/unmasked"]
    loss = gbrank.ApproxNDCGLoss(topn=3)
    assert_close(loss.loss(LABELS, SCORES), ref["value_default"], F64)
    assert_close(loss.loss(LABELS, SCORES, reduction="none"), ref["per_list"], F64)
    assert_close(_rax_topn_gradient(loss, None), ref["grad_sum"], F64)
    # grad_hess differentiates the cutoff point too: it differs from rax's
    exact = loss.grad_hess(LABELS, SCORES)[0]
    assert not np.allclose(exact, ref["grad_sum"], rtol=1e-3)


@pytest.mark.parametrize("topn", [2, 3])
def test_approx_ndcg_topn_on_padded_lists_equals_rax_on_the_unpadded_lists(topn):
    """rax ranks padded rows first in its top-n cutoff (they get approximate rank
    1); gbrank treats them as absent, so it equals rax run on each list without
    its padding."""
    ref = RAX_EXTRA[f"approx_ndcg_T0.1_topn{topn}/unpadded"]
    loss = gbrank.ApproxNDCGLoss(topn=topn)
    assert_close(
        loss.loss(LABELS, SCORES, mask=MASK, reduction="none"), ref["per_list"], F64
    )
    assert_close(_rax_topn_gradient(loss, MASK), ref["grad_per_list"], F64)
    padded = RAX["approx_ndcg_T0.1_topn3/masked"] if topn == 3 else None
    if padded is not None:  # rax's own padded value differs
        assert not np.isclose(
            loss.loss(LABELS, SCORES, mask=MASK), padded["value_default"]
        )


# -- approx_mrr (TF-Ranking ApproxMRRLoss) ---------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("temperature", [0.1, 1])
def test_approx_mrr_equals_tf_ranking(variant, temperature):
    ref = TF[f"approx_mrr_T{temperature}/{variant}"]
    loss = gbrank.ApproxMRRLoss(temperature=temperature)
    mask = _mask(variant)
    assert_close(loss.loss(LABELS, SCORES, mask=mask), ref["value_default"], F32)
    assert_close(loss.grad_hess(LABELS, SCORES, mask=mask)[0], ref["grad_sum"], F32)


def test_approx_mrr_weights_weigh_lists_as_tf_ranking():
    ref = TF_EXTRA["approx_mrr_T0.1/weighted_masked"]
    loss = gbrank.ApproxMRRLoss()
    kwargs = {"mask": MASK, "sample_weight": WEIGHTS}
    assert_close(
        loss.loss(LABELS, SCORES, reduction="none", **kwargs), ref["unreduced"], F32
    )
    assert_close(loss.grad_hess(LABELS, SCORES, **kwargs)[0], ref["grad_sum"], F32)


# -- neural_ndcg (allRank neuralNDCG) --------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    ("case", "params"),
    [
        ("neuralNDCG_T1", {}),
        ("neuralNDCG_T1_k3", {"topn": 3}),
        ("neuralNDCG_T0.1", {"temperature": 0.1}),
    ],
)
def test_neural_ndcg_equals_allrank_per_list(variant, case, params):
    """allRank on each list alone: values and gradients to 1e-9 (allRank adds
    1e-10 to the ideal DCG; gbrank does not)."""
    ref = ALLRANK[f"{case}/{variant}"]
    loss = gbrank.NeuralNDCGLoss(**params)
    mask = _mask(variant)
    assert_close(
        loss.loss(LABELS, SCORES, mask=mask, reduction="none"), ref["per_list"], F64
    )
    assert_close(
        loss.grad_hess(LABELS, SCORES, mask=mask)[0], ref["per_list_grad"], F64
    )
    # allRank's batch value stops Sinkhorn when every list of the batch has
    # converged, so its lists iterate longer than alone: within 1e-6 here
    assert_close(loss.loss(LABELS, SCORES, mask=mask), ref["value_default"], 1e-6)


# -- gumbel_approx_ndcg (rax gumbel_t12n, TF-Ranking GumbelApproxNDCGLoss) ---------


def test_gumbel_approx_ndcg_expectation_equals_rax_monte_carlo():
    """Over seeds, the mean loss and gradient estimate the expected ApproxNDCG
    under Gumbel noise; rax's 200,000-draw estimate agrees within 4.5 standard
    errors of the difference (ours from the spread over seeds, rax's from the
    same per-draw spread and its 200,000 draws)."""
    ref = RAX["gumbel_approx_ndcg_T0.1_MC200000/masked"]
    seeds, samples = 100, 1000
    values, grads = [], []
    for seed in range(seeds):
        loss = gbrank.GumbelApproxNDCGLoss(samples=samples, seed=seed)
        values.append(loss.loss(LABELS, SCORES, mask=MASK))
        grads.append(loss.grad_hess(LABELS, SCORES, mask=MASK)[0] / 3)  # rax: mean
    for estimates, expected in (
        (values, ref["value_default"]),
        (grads, ref["grad_default"]),
    ):
        estimates = np.asarray(estimates)
        error = estimates.std(axis=0, ddof=1) / math.sqrt(seeds)
        error_rax = error * math.sqrt(seeds * samples / 200_000)
        bound = 4.5 * np.hypot(error, error_rax) + 1e-12
        assert np.all(np.abs(estimates.mean(axis=0) - expected) <= bound)

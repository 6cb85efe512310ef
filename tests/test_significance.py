import itertools

import numpy as np
import pytest
from scipy import stats

from gbrank.significance import against_best, best_references, holm, paired_test


def test_equal_rankers_are_not_different():
    values = np.random.default_rng(0).uniform(size=50)
    result = paired_test(values, values.copy())
    assert result.difference == 0.0
    assert result.p_value == 1.0
    assert (result.ci_low, result.ci_high) == (0.0, 0.0)
    assert not result.significant()


def test_p_value_matches_the_exact_sign_flip_distribution():
    d = np.array([0.3, -0.1, 0.2, 0.25, -0.05, 0.1, 0.15, -0.2, 0.05, 0.12])
    flips = np.array(list(itertools.product([-1.0, 1.0], repeat=d.size)))
    exact = np.mean(np.abs(flips @ d) >= abs(d.sum()) - 1e-12)
    result = paired_test(d, np.zeros_like(d), n_resamples=40_000, seed=1)
    assert abs(result.p_value - exact) < 0.01  # Monte Carlo error ~0.002
    assert result.difference == pytest.approx(d.mean())


def test_confidence_interval_is_the_paired_t_interval():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(size=80), rng.uniform(size=80)
    result = paired_test(a, b, confidence=0.9)
    expected = stats.ttest_rel(a, b).confidence_interval(confidence_level=0.9)
    assert result.ci_low == pytest.approx(expected.low)
    assert result.ci_high == pytest.approx(expected.high)
    assert result.n_queries == 80


def test_a_clear_difference_reaches_the_p_value_floor():
    rng = np.random.default_rng(4)
    base = rng.uniform(size=400)
    result = paired_test(base + 0.05 + rng.normal(0, 0.02, 400), base, n_resamples=999)
    assert result.p_value == pytest.approx(1 / 1000)
    assert result.ci_low < 0.05 < result.ci_high
    assert result.significant(alpha=0.01)


def test_swapping_the_rankers_flips_the_sign_only():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(size=60), rng.uniform(size=60)
    forward, backward = paired_test(a, b), paired_test(b, a)
    assert forward.difference == pytest.approx(-backward.difference)
    assert forward.p_value == backward.p_value
    assert forward.ci_low == pytest.approx(-backward.ci_high)


def test_deterministic_for_a_seed():
    rng = np.random.default_rng(6)
    a, b = rng.uniform(size=30), rng.uniform(size=30)
    assert paired_test(a, b, seed=7) == paired_test(a, b, seed=7)


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ([0.1, 0.2, 0.3], [0.1, 0.2], "shape"),
        ([0.5], [0.4], "at least 2 queries"),
        ([0.5, np.nan], [0.4, 0.1], "NaN|finite"),
    ],
)
def test_bad_input_is_refused(a, b, match):
    with pytest.raises(ValueError, match=match):
        paired_test(a, b)


def test_bad_confidence_is_refused():
    with pytest.raises(ValueError, match="confidence"):
        paired_test([0.1, 0.2], [0.2, 0.3], confidence=1.0)


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]).tolist() == pytest.approx([1.0, 1.0])
    assert holm([0.001]).tolist() == pytest.approx([0.001])


def test_against_best_tests_each_entry_against_its_groups_best_reference():
    a = [0.5, 0.6, 0.7, 0.2]
    better = [0.6, 0.7, 0.8, 0.3]
    worse = [0.1, 0.2, 0.3, 0.0]
    per_query = [worse, a, better, a, better]
    groups = ["x", "x", "x", "y", "z"]
    references = [True, True, False, False, True]
    tests = against_best(per_query, groups, references)
    assert list(tests) == [2]  # group y has no reference, z none to test
    expected = paired_test(better, a)
    assert tests[2] == expected
    # means pick the reference: with the first one declared best, it is used
    by_means = against_best(per_query, groups, references, means=[1, 0, 0, 0, 0])
    assert by_means[2] == paired_test(better, worse)
    assert best_references(groups, references, [0, 0, 0, 0, 0]) == {"x": 0, "z": 4}

"""The one verdict function: Welch's test, Holm's step-down, the minimum detectable effect, zero spread, sentences."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lattice_lab import verdicts
from lattice_lab.validation import InvalidParameterError


def test_holm_matches_the_worked_example_and_statsmodels():
    # the worked example of the docstring, and seven p-values whose adjustment statsmodels 0.15.0 computed
    # (statsmodels.stats.multitest.multipletests(p, method="holm")[1], run once; statsmodels is no dependency)
    assert verdicts.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    p = [0.0127, 0.2, 0.001, 0.049, 0.0049, 0.9, 0.03]
    statsmodels_holm = [0.0635, 0.4, 0.007, 0.147, 0.0294, 0.9, 0.12]
    assert verdicts.holm(p) == pytest.approx(statsmodels_holm)
    assert verdicts.holm([0.5]) == [0.5] and verdicts.holm([0.4, 0.4]) == [0.8, 0.8]


def test_the_p_value_is_welchs_and_the_family_adjusts_it():
    a, b = [0.981, 0.984, 0.986], [0.975, 0.979, 0.978, 0.976]
    v = verdicts.compare(a, b)
    assert v.p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-12)
    assert v.p_holm == v.p and v.n == (3, 4) and v.basis == "seeds"
    assert v.difference == pytest.approx(np.mean(a) - np.mean(b))
    others = [verdicts.compare([0.5, 0.6, 0.55], [0.5, 0.61, 0.56]), verdicts.compare([0.1, 0.2], [0.3])]
    family = verdicts.family([v, *others])
    assert [f.p_holm for f in family[:2]] == pytest.approx(verdicts.holm([v.p, others[0].p]))
    assert family[2].p_holm is None and family[2].outcome == "no test"  # one seed: left out of the family


def test_the_minimum_detectable_effect_matches_statsmodels_and_has_its_power():
    # statsmodels' TTestIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=1): Cohen's d, sd 1
    for n, d in ((3, 3.070892269599019), (5, 2.024440145655355), (10, 1.324947368330822)):
        assert verdicts.minimum_detectable_effect(np.sqrt(2 / n), 2 * n - 2) == pytest.approx(d, rel=1e-5)
    # and it is what it says: a true difference of one MDE is found in about 80% of experiments of 5 seeds
    rng = np.random.default_rng(0)
    effect = verdicts.minimum_detectable_effect(np.sqrt(2 / 5), 8)
    found = [stats.ttest_ind(rng.normal(effect, 1, 5), rng.normal(0, 1, 5), equal_var=False).pvalue < 0.05
             for _ in range(4000)]
    assert np.mean(found) == pytest.approx(0.8, abs=0.03)  # Welch's df is below 8 here: a little under 0.8


def test_within_noise_is_said_as_no_difference_larger_than_the_mde():
    v = verdicts.compare([0.981, 0.985, 0.983], [0.982, 0.984, 0.980], labels=("lattice", "magnitude"))
    assert v.outcome == "within noise" and v.mde > abs(v.difference)
    assert v.sentence == (f"no difference between lattice and magnitude larger than {100 * v.mde:.2f} points "
                          f"(3 seeds each; p_Holm = {v.p_holm:.2g})")
    below = verdicts.compare([0.80, 0.81, 0.82], [0.90, 0.91, 0.93], labels=("lattice", "magnitude"))
    assert below.outcome == "below" and below.sentence.startswith("lattice is below magnitude by 10.33 points")


def test_arms_that_do_not_vary_over_seeds_are_tested_on_the_test_examples_or_not_at_all():
    same = verdicts.compare([0.9357] * 3, [0.9431] * 3)
    assert same.outcome == "no test" and "replicate nothing" in same.reason and same.mde is None
    v = verdicts.compare([0.9357] * 3, [0.9431] * 3, trials=10_000)
    assert (v.basis, v.n) == ("test sequences", (10_000, 10_000))
    # the same test as a two-proportion z-test, to the precision of the t against the normal at 20,000 df
    p1, p2 = 0.9357, 0.9431
    z = (p1 - p2) / np.sqrt(p1 * (1 - p1) / 9999 + p2 * (1 - p2) / 9999)
    assert v.p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-3)
    assert "one model each, 10000 test sequences" in v.sentence
    # one arm varies: an ordinary Welch test on the seeds
    assert verdicts.compare([0.9357] * 3, [0.94, 0.945, 0.943], trials=10_000).basis == "seeds"
    assert verdicts.compare([1.0, 1.0], [1.0, 1.0], trials=100).p == 1.0
    # one measurement per arm (a live sweep on a test sample) is one model each too
    single = verdicts.compare([0.9357], [0.9431], trials=10_000)
    assert (single.basis, single.p) == ("test sequences", v.p)
    assert verdicts.compare([0.9357], [0.9431]).outcome == "no test"


def test_compare_rows_pairs_grid_points_and_makes_one_family():
    rows = [{"method": m, "amount": a, "seed": s, "accuracy": base + 0.002 * s + (0.05 if a == 0.9 else 0)}
            for m, base in (("lattice", 0.80), ("magnitude", 0.81)) for a in (0.5, 0.75, 0.9) for s in range(3)]
    rows.append({"method": "lattice", "amount": 0.95, "seed": 0, "accuracy": 0.1})  # no magnitude row there
    found = verdicts.compare_rows(rows, {"method": "lattice"}, {"method": "magnitude"}, by=["amount"],
                                  value="accuracy")
    assert [v.at for v in found] == [(0.5,), (0.75,), (0.9,)]
    assert all(v.difference == pytest.approx(-0.01) for v in found)
    assert [v.p_holm for v in found] == pytest.approx(verdicts.holm([v.p for v in found]))
    assert verdicts.compare_rows(rows, {"method": "spectral"}, {"method": "magnitude"}, by=["amount"],
                                 value="accuracy") == []  # no shared grid point: an empty family


def test_bad_inputs_use_the_validation_vocabulary():
    with pytest.raises(InvalidParameterError, match="The 'first' parameter of compare must be a nonempty list"):
        verdicts.compare([], [0.5, 0.6])
    with pytest.raises(InvalidParameterError, match="'pvalues' parameter of holm"):
        verdicts.holm([0.5, 1.5])

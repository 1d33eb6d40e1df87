"""Whether one arm beats another, said only as far as the seeds carry it: the course's one verdict function.

A comparison the course states ("the poor expander is below the biregular mask", "lattice is below
magnitude at every amount", "spectral-no-reconstruction buys accuracy") is a comparison of two arms'
per-seed values. :func:`compare` gives its verdict:

- the **difference** of the means (first minus second, reported in points: 100 × a fraction);
- **Welch's t-test** (``scipy.stats.ttest_ind(equal_var=False)``), two-sided;
- the **Holm-adjusted p-value** across the *family* of comparisons a sentence speaks for
  (:func:`family`, :func:`holm`): "at every amount" is one family of as many tests as amounts;
- the **minimum detectable effect** at the observations available (:func:`minimum_detectable_effect`):
  the smallest true difference this test finds with probability 0.8 at two-sided α = 0.05, from the
  noncentral t distribution (``scipy.stats.nct``), at the observed spread;
- the **outcome** and its **sentence**: "above"/"below" when the Holm-adjusted p is below α, else
  "within noise", said as "no difference larger than X points (with n seeds)" — never "no effect".

**Zero spread.** When neither arm varies over its seeds, the seeds replicated nothing (a deterministic
method on one fixed model: magnitude or lattice pruning of a shipped checkpoint, evaluated without
fine-tuning, gives the same accuracy for every seed). Then the only noise is the test set's: given
``trials`` (the number of test sequences), each arm is its model's per-example correctness (``round(accuracy ·
trials)`` ones) and the same Welch test runs on those — a two-proportion test, unpaired and so
conservative (both arms see the same examples); the sentence says "one model each, N test sequences".
Without ``trials`` there is no test, and the verdict says why. One measurement per arm (a live sweep on a
test sample) is treated alike; one seed against an arm that varies has no spread to test against.

Must not import anything from the package (except validation).

Examples
--------
>>> v = compare([0.9842, 0.9838, 0.9845], [0.9813, 0.9816, 0.9819], labels=("biregular", "poor expander"))
>>> v.outcome, round(v.points, 2)
('above', 0.26)
>>> print(v.sentence)
biregular is above poor expander by 0.26 points (p_Holm = 0.00073; 3 seeds each)
>>> w = compare([0.981, 0.985, 0.983], [0.982, 0.984, 0.980], labels=("a", "b"))
>>> print(w.sentence)
no difference between a and b larger than 0.61 points (3 seeds each; p_Holm = 0.57)
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize, stats

from .validation import check_choice, check_float, check_int, check_list

ALPHA = 0.05
"""Two-sided significance level of every verdict (after Holm's correction across its family)."""
POWER = 0.8
"""The power at which :func:`minimum_detectable_effect` is stated."""
SCALE = 100.0
"""Values are fractions (accuracies); differences are said in points, 100 × a fraction."""
OUTCOMES = ("above", "below", "within noise", "no test")


@dataclass(frozen=True)
class Verdict:
    """One comparison of two arms: ``first`` minus ``second`` (see the module docstring)."""

    first: str
    second: str
    difference: float
    """Mean of ``first`` minus mean of ``second`` (a fraction; :attr:`points` is it in points)."""
    n: tuple[int, int]
    """Observations per arm: seeds, or test sequences where the seeds do not vary (:attr:`basis`)."""
    basis: str
    """``"seeds"`` or ``"test sequences"``."""
    p: float | None = None
    """Welch's two-sided p-value; None where there is no test (:attr:`reason`)."""
    p_holm: float | None = None
    """``p`` adjusted by Holm's step-down across the family (equal to ``p`` for a family of one)."""
    mde: float | None = None
    """Minimum detectable effect (a fraction) at α = 0.05 two-sided and power 0.8."""
    reason: str = ""
    """Why there is no test, where there is none."""
    at: Any = None
    """Where in its family the comparison sits (the grid point, for :func:`compare_rows`)."""

    @property
    def points(self) -> float:
        return SCALE * self.difference

    @property
    def outcome(self) -> str:
        """"above" or "below" beyond noise (Holm-adjusted p < α), else "within noise"; "no test" without a test."""
        if self.p_holm is None:
            return "no test"
        if self.p_holm < ALPHA:
            return "above" if self.difference > 0 else "below"
        return "within noise"

    @property
    def observations(self) -> str:
        """The observations in words: "3 seeds each", "3 and 5 seeds", "one model each, 10000 test sequences"."""
        if self.basis == "test sequences":
            return f"one model each, {self.n[0]} test sequences"
        return f"{self.n[0]} seeds each" if self.n[0] == self.n[1] else f"{self.n[0]} and {self.n[1]} seeds"

    @property
    def p_text(self) -> str:
        """The Holm-adjusted p in words: two significant digits, or "< 1e-15" where it underflows."""
        return "< 1e-15" if self.p_holm < 1e-15 else f"= {self.p_holm:.2g}"

    @property
    def sentence(self) -> str:
        """The verdict in words, with its Holm-adjusted p and (within noise) its minimum detectable effect."""
        if self.outcome == "no test":
            return f"{self.first} against {self.second}: {self.points:+.2f} points, no test ({self.reason})"
        if self.outcome == "within noise":
            return (f"no difference between {self.first} and {self.second} larger than "
                    f"{SCALE * self.mde:.2f} points ({self.observations}; p_Holm {self.p_text})")
        return (f"{self.first} is {self.outcome} {self.second} by {abs(self.points):.2f} points "
                f"(p_Holm {self.p_text}; {self.observations})")

    def as_dict(self) -> dict[str, Any]:
        """The verdict as JSON-ready fields (what the benchmarks' reports store)."""
        at = list(self.at) if isinstance(self.at, tuple) else self.at
        return {"first": self.first, "second": self.second, "at": at, "difference": self.difference, "n": list(self.n),
                "basis": self.basis, "p": self.p, "p_holm": self.p_holm, "mde": self.mde,
                "outcome": self.outcome, "sentence": self.sentence}


def _values(values: Any, name: str) -> np.ndarray:
    return np.asarray(check_list(values, name, "compare", lambda v: check_float(v, name, "compare"),
                                 "a nonempty list of numbers"), dtype=float)


def minimum_detectable_effect(standard_error: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest true difference a two-sided Welch test at level ``alpha`` detects with probability ``power``.

    The t statistic of a true difference δ follows a noncentral t with ``df`` degrees of freedom and
    noncentrality δ / ``standard_error``; the noncentrality at which it falls beyond ±t_{1−α/2} with
    probability ``power`` (``scipy.stats.nct``, solved with ``scipy.optimize.brentq``), times the standard
    error, is the effect. With many observations it tends to (z_{0.975} + z_{0.8}) · SE ≈ 2.80 · SE.

    >>> round(minimum_detectable_effect(1.0, 1e6), 2), round(minimum_detectable_effect(1.0, 4), 2)
    (2.8, 3.76)
    """
    check_float(standard_error, "standard_error", "minimum_detectable_effect", low=0)
    critical = stats.t.ppf(1 - alpha / 2, df)

    def shortfall(noncentrality: float) -> float:  # P(T > c) + P(T < -c); the lower tail as sf(c) at -nc, which
        # scipy keeps finite where nct.cdf(-c, nc) underflows to nan
        return stats.nct.sf(critical, df, noncentrality) + stats.nct.sf(critical, df, -noncentrality) - power

    return standard_error * optimize.brentq(shortfall, 0.0, 100.0)


def _per_example(accuracy: float, trials: int) -> np.ndarray:
    correct = int(round(accuracy * trials))
    return np.concatenate([np.ones(correct), np.zeros(trials - correct)])


def compare(first: Sequence[float], second: Sequence[float], *, labels: tuple[str, str] = ("first", "second"),
            trials: int | None = None, at: Any = None) -> Verdict:
    """The verdict on ``first`` against ``second``, each a list of per-seed values (fractions), as a family of one.

    ``trials`` (the test sequences behind each value) is used only where neither arm varies over its seeds:
    see the module docstring. Put several comparisons in one :func:`family` for Holm's correction.

    >>> compare([0.9357] * 3, [0.9431] * 3, labels=("magnitude", "lattice")).reason
    'neither arm varies over its seeds (the seeds replicate nothing) and no test-set size was given'
    >>> print(compare([0.9357] * 3, [0.9431] * 3, labels=("magnitude", "lattice"), trials=10000).sentence)
    magnitude is below lattice by 0.74 points (p_Holm = 0.028; one model each, 10000 test sequences)
    >>> compare([0.98], [0.97, 0.975]).reason
    'first has one seed: no spread to test against'
    """
    a, b = _values(first, "first"), _values(second, "second")
    labels = tuple(labels)
    difference = float(a.mean() - b.mean())
    base = Verdict(labels[0], labels[1], difference, (len(a), len(b)), "seeds", at=at)
    if np.ptp(a) == 0 and np.ptp(b) == 0 and trials is not None:  # one model each (or seeds that change nothing)
        check_int(trials, "trials", "compare", low=2)
        a, b = _per_example(a[0], trials), _per_example(b[0], trials)
        base = replace(base, n=(trials, trials), basis="test sequences")
    for values, label in ((a, labels[0]), (b, labels[1])):
        if len(values) < 2:
            return replace(base, reason=f"{label} has one seed: no spread to test against")
    if np.ptp(a) == 0 and np.ptp(b) == 0 and base.basis == "seeds":
        return replace(base, reason="neither arm varies over its seeds (the seeds replicate nothing) and no "
                                    "test-set size was given")
    standard_error = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if standard_error == 0:  # two constant arms of per-example outcomes: both all right, or both all wrong
        return replace(base, p=1.0, p_holm=1.0, mde=0.0)
    with warnings.catch_warnings():  # scipy warns of "catastrophic cancellation" for an arm that is constant
        # (a deterministic arm against a varying one): its variance is exactly 0 and the test is exact
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        result = stats.ttest_ind(a, b, equal_var=False)
    p = float(result.pvalue)
    return replace(base, p=p, p_holm=p, mde=minimum_detectable_effect(standard_error, float(result.df)))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values, in their order.

    Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6, 65–70:
    sort the m p-values, p_(1) ≤ … ≤ p_(m); the adjusted p_(i) is max over j ≤ i of min(1, (m − j + 1) ·
    p_(j)); reject where it is below α. It controls the family-wise error at α for any dependence between the
    tests. scipy has no Holm correction (``scipy.stats.false_discovery_control`` is Benjamini–Hochberg, which
    controls another error rate), hence these lines; ``tests/test_verdicts.py`` pins them against a worked
    example and statsmodels' ``multipletests(method="holm")``.

    >>> holm([0.01, 0.04, 0.03, 0.005])   # sorted 0.005, 0.01, 0.03, 0.04 -> 4·0.005, 3·0.01, 2·0.03, max(1·0.04, 0.06)
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(check_list(list(pvalues), "pvalues", "holm", lambda v: check_float(v, "pvalues", "holm", low=0,
                                                                                         high=1), "a list of p-values"),
                   dtype=float)
    order = np.argsort(p, kind="stable")
    steps = np.minimum(1.0, (len(p) - np.arange(len(p))) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.maximum.accumulate(steps)
    return [round(float(v), 15) for v in adjusted]


def family(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """The verdicts of one family with their Holm-adjusted p-values (those without a test are left as they are).

    >>> v = family([compare([0.90, 0.91, 0.92], [0.80, 0.81, 0.82]), compare([0.9, 0.91, 0.92], [0.9, 0.92, 0.93])])
    >>> [x.outcome for x in v], [round(x.p_holm / x.p, 6) for x in v]
    (['above', 'within noise'], [2.0, 1.0])
    """
    tested = [i for i, v in enumerate(verdicts) if v.p is not None]
    adjusted = dict(zip(tested, holm([verdicts[i].p for i in tested]))) if tested else {}
    return [replace(v, p_holm=adjusted[i]) if i in adjusted else v for i, v in enumerate(verdicts)]


def matches(row: Any, selector: Mapping[str, Any]) -> bool:
    """Whether a row (a dict) has every field of ``selector``: a list as a field's value means "any of these",
    and floats match to 1e-9 (the selectors of :func:`compare_rows` and of the quoted-numbers test).

    >>> matches({"method": "lattice", "amount": 0.75}, {"method": ["lattice", "magnitude"], "amount": 0.75 + 1e-12})
    True
    """
    def same(value, wanted):
        if isinstance(wanted, list):
            return any(same(value, w) for w in wanted)
        if isinstance(value, float) or isinstance(wanted, float):
            return isinstance(value, (int, float)) and math.isclose(value, wanted, rel_tol=0, abs_tol=1e-9)
        return value == wanted
    return isinstance(row, Mapping) and all(key in row and same(row[key], wanted) for key, wanted in selector.items())


def compare_rows(rows: Sequence[Mapping[str, Any]], first: Mapping[str, Any], second: Mapping[str, Any], *,
                 by: Sequence[str], value: str, labels: tuple[str, str] | None = None,
                 trials: int | None = None) -> list[Verdict]:
    """One family: at every value of the ``by`` fields that both arms have, ``first``'s rows against ``second``'s.

    ``rows`` are per-seed rows (one per seed and grid point, as in a benchmark's ``rows``); ``first`` and
    ``second`` select an arm's rows by field values (a list means "any of these"); ``value`` is the field
    compared. The verdicts come in the order of ``first``'s grid points, each with its point in ``at`` (none where
    the arms share no point: an empty family).

    >>> rows = [{"method": m, "amount": a, "seed": s, "accuracy": acc + 0.001 * s}
    ...         for m, acc in (("lattice", 0.80), ("magnitude", 0.90)) for a in (0.5, 0.9) for s in range(3)]
    >>> [(v.at, v.outcome) for v in compare_rows(rows, {"method": "lattice"}, {"method": "magnitude"},
    ...                                          by=["amount"], value="accuracy")]
    [((0.5,), 'below'), ((0.9,), 'below')]
    """
    check_choice(value, "value", "compare_rows", sorted({k for r in rows for k in r}) or [value])
    labels = labels or (str(first.get("method", "first")), str(second.get("method", "second")))
    arms: list[dict[tuple, list[float]]] = [{}, {}]
    for arm, selector in zip(arms, (first, second)):
        for row in rows:
            if matches(row, selector) and row.get(value) is not None:
                arm.setdefault(tuple(row[k] for k in by), []).append(row[value])
    points = [point for point in arms[0] if point in arms[1]]
    return family([compare(arms[0][point], arms[1][point], labels=labels, trials=trials, at=point)
                   for point in points])


def tally(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """How many verdicts of a family fall in each outcome.

    >>> tally(family([compare([0.9, 0.91], [0.5, 0.51]), compare([0.9], [0.8, 0.7])]))
    {'above': 1, 'below': 0, 'within noise': 0, 'no test': 1}
    """
    return {outcome: sum(v.outcome == outcome for v in verdicts) for outcome in OUTCOMES}


def summary(verdicts: Sequence[Verdict], where: str = "points") -> str:
    """A family's verdicts in one clause: how many above, below and within noise, and the largest MDE among the last.

    >>> vs = family([compare([0.90, 0.91, 0.92], [0.80, 0.81, 0.82]), compare([0.9, 0.91, 0.92], [0.9, 0.92, 0.93])])
    >>> print(summary(vs, "amounts"))
    above at 1 of 2 amounts, below at 0, no difference larger than 4.20 points at 1 (Holm over the 2)
    """
    counts = tally(verdicts)
    within = [v.mde for v in verdicts if v.outcome == "within noise"]
    parts = [f"above at {counts['above']} of {len(verdicts)} {where}", f"below at {counts['below']}"]
    if within:
        parts.append(f"no difference larger than {SCALE * max(within):.2f} points at {len(within)}")
    if counts["no test"]:
        parts.append(f"no test at {counts['no test']}")
    tested = len(verdicts) - counts["no test"]
    return ", ".join(parts) + f" (Holm over the {tested})"

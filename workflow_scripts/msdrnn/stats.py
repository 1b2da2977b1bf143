"""Differences between two models with 95% intervals, and what they support.

The estimand of a test verdict: the expected test accuracy of one training procedure minus
another's, the expectation taken over training seeds and over the population of songs the
test songs are drawn from, for this fixed data split and the parameters the search chose
(it ran once). Three kinds of evidence:

- **Test, over seeds and songs** (the verdicts, ``test_interval``): every model predicted
  the same held-out test songs, once per seed, so the data of a comparison are two (seeds,
  songs) arrays of right/wrong, paired by song. The difference of mean accuracies gets a
  t interval whose variance is estimated by variance components (method of moments, as
  in a mixed model with random seeds and songs): (1) for each side with two or more
  seeds, the seed-to-seed variance of its accuracy *beyond* what the seed-by-song noise
  alone would give (the variance of its per-seed accuracies less the seed-by-song
  residual mean square over the songs, at least 0), over its seed count; (2) the variance
  of the paired per-song differences of the seed-averaged right/wrong, over the songs (it
  holds the song-to-song spread and the seed-by-song noise, once). Degrees of freedom:
  Satterthwaite's, the seed parts with the effective df of a difference of mean squares
  (``variance_parts``). A side with a single run (the deterministic song-statistics fit,
  or a one-seed config) has no seed part: with one run on each side the interval covers
  the test songs only, and its method says so. docs/statistics.md measures its coverage
  (msdrnn.coverage) against the percentile two-level bootstrap the study used before
  (``bootstrap_interval``, kept for that comparison) and the variant that adds each
  side's whole seed variance (``SEED_VARIANCE``, the review's), which counts the
  seed-by-song noise twice.
- **Validation, across seeds** (descriptive only, ``seed_interval``): each seed gives one
  number, its peak validation accuracy. The difference of the means gets a Welch t
  interval; a model that ran once counts as a fixed value; seeds that all gave the same
  number give no interval. These numbers are selected on the validation songs, so they
  carry no verdict.
- **The grid's best steps value** (``mcb``): Hsu's multiple comparisons with the best,
  simultaneous intervals for each steps value minus the best of the others, valid
  whichever value the data make look best.

A family of verdicts is adjusted with ``holm`` (step-down), its intervals shown at the
level of the step that decided them (``holm_levels``), so that an interval excludes 0
exactly when its Holm-adjusted p-value is below 0.05.

No TensorFlow here; scipy for the t distribution only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

LEVEL = 0.95
BLOCK = 256  # resamples computed together by bootstrap_interval
# Directions of a difference (compare_runs.py's --json verdicts), first minus second.
FIRST_HIGHER, SECOND_HIGHER, NO_CLEAR = "first higher", "second higher", "no clear difference"


@dataclass(frozen=True)
class Interval:
    """A difference (first minus second) with its interval and how it was computed.

    A t interval also keeps its standard error ``se`` and degrees of freedom ``df`` (so it
    can be shown at another level, ``at_level``) and its two-sided p-value ``p``; a
    bootstrap interval has none of them. ``level`` is its confidence level."""

    difference: float
    low: float | None
    high: float | None
    method: str
    p: float | None = None
    se: float | None = None
    df: float | None = None
    level: float = LEVEL

    @property
    def known(self) -> bool:
        return self.low is not None and self.high is not None

    def direction(self) -> str:
        """'first higher', 'second higher' or 'no clear difference' (also without an
        interval: no interval supports a winner)."""
        if self.known and self.low > 0:
            return FIRST_HIGHER
        if self.known and self.high < 0:
            return SECOND_HIGHER
        return NO_CLEAR

    def verdict(self, first: str = "first", second: str = "second") -> str:
        """Plain words that follow from the interval: it excludes 0 or it does not."""
        if not self.known:
            return "unknown (no interval)"
        if self.low > 0:
            return f"{first} higher (the interval excludes 0)"
        if self.high < 0:
            return f"{first} lower (the interval excludes 0)"
        return "no clear difference (the interval includes 0)"

    def at_level(self, level: float) -> Interval:
        """The same t interval at another confidence level (itself when it has no t)."""
        if self.se is None or self.df is None or not self.known:
            return self
        half = _t_quantile(level, self.df) * self.se
        return replace(self, low=self.difference - half, high=self.difference + half,
                       level=level)


def _t_quantile(level: float, df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2, df))


def _t_interval(difference: float, se: float, df: float, method: str,
                level: float) -> Interval:
    """A t interval with its two-sided p-value; a zero standard error (every run got the
    same songs right) gives a zero-width interval."""
    from scipy import stats

    if se == 0:
        return Interval(difference, difference, difference, method,
                        1.0 if difference == 0 else 0.0, 0.0, df, level)
    half = _t_quantile(level, df) * se
    p = float(2 * stats.t.sf(abs(difference) / se, df))
    return Interval(difference, difference - half, difference + half, method, p, se, df,
                    level)


# The test intervals' variants: the study's (seed parts beyond the seed-by-song noise,
# method-of-moments variance components) and the review's (each side's whole seed
# variance), compared in docs/statistics.md.
COMPONENTS, SEED_VARIANCE = "components", "seed variance"


def variance_parts(first: np.ndarray, second: np.ndarray, variant: str = COMPONENTS
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The difference of mean accuracies and its variance, standard error and degrees of
    freedom, for arrays of shape (..., seeds, songs) (leading axes: independent studies,
    which msdrnn.coverage simulates together).

    Parts: the song part, the variance of the paired per-song differences of the
    seed-averaged right/wrong over the songs (songs - 1 df); and for each side with two or
    more seeds a seed part over its seed count. ``COMPONENTS``: the variance of its
    per-seed accuracies less the seed-by-song residual mean square over the songs (the
    seed variance component, at least 0), whose effective df are (seeds - 1) x (component
    / whole seed variance)^2, since it varies as much as the whole seed variance it is
    taken from (Satterthwaite's rule for a difference of mean squares); ``SEED_VARIANCE``:
    the whole variance of its per-seed accuracies, seeds - 1 df, which counts the
    seed-by-song noise a second time. Satterthwaite's df for the sum."""
    if variant not in (COMPONENTS, SEED_VARIANCE):
        raise ValueError(f"variant must be {COMPONENTS!r} or {SEED_VARIANCE!r}; "
                         f"got {variant!r}")
    songs = first.shape[-1]
    per_song = first.mean(axis=-2) - second.mean(axis=-2)
    difference = per_song.mean(axis=-1)
    parts = [per_song.var(axis=-1, ddof=1) / songs]
    dfs = [np.asarray(songs - 1.0)]
    for side in (first, second):
        seeds = side.shape[-2]
        if seeds < 2:
            continue
        between = side.mean(axis=-1).var(axis=-1, ddof=1)
        if variant == SEED_VARIANCE:
            parts.append(between / seeds)
            dfs.append(np.asarray(seeds - 1.0))
            continue
        component = np.maximum(between - _residual_mean_square(side) / songs, 0.0)
        parts.append(component / seeds)
        with np.errstate(invalid="ignore", divide="ignore"):
            dfs.append(np.where(between > 0, (seeds - 1) * (component / between) ** 2, 1.0))
    variance = np.sum(parts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = np.sum([np.where(part > 0, part**2 / df, 0.0)
                              for part, df in zip(parts, dfs, strict=True)], axis=0)
        df = np.where(denominator > 0, variance**2 / denominator, songs - 1.0)
    return difference, variance, np.sqrt(variance), df


def _residual_mean_square(values: np.ndarray) -> np.ndarray:
    """Seed-by-song residual mean square of (..., seeds, songs) values: what is left once
    each seed's and each song's mean are taken out (two-way layout, one value per cell)."""
    seeds, songs = values.shape[-2:]
    grand = values.mean(axis=(-2, -1))
    total = np.square(values).sum(axis=(-2, -1)) - seeds * songs * grand**2
    rows = songs * np.square(values.mean(axis=-1) - grand[..., None]).sum(axis=-1)
    columns = seeds * np.square(values.mean(axis=-2) - grand[..., None]).sum(axis=-1)
    return np.maximum(total - rows - columns, 0.0) / ((seeds - 1) * (songs - 1))


def test_interval(first: np.ndarray | Sequence[Sequence[float]],
                  second: np.ndarray | Sequence[Sequence[float]],
                  level: float = LEVEL) -> Interval:
    """Difference of mean test accuracies (first minus second) with the study's t interval.

    ``first`` and ``second`` are (seeds, songs) arrays of 1/0 (right/wrong) on the same
    songs in the same order (paired; a 1-d array is a single run). See the module's
    docstring for the variance and ``variance_parts`` for the formulas; with one run on
    both sides the interval covers the test songs only."""
    a, b = correct_matrix(first), correct_matrix(second)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"paired values need the same songs: {a.shape[1]} and "
                         f"{b.shape[1]} songs")
    if a.shape[1] < 2:
        raise ValueError(f"a test interval needs at least 2 songs; got {a.shape[1]}")
    difference, _, se, df = variance_parts(a, b)
    return _t_interval(float(difference), float(se), float(df),
                       interval_method(a.shape[0], b.shape[0], a.shape[1]), level)


test_interval.__test__ = False  # a library function, not a test, when a test imports it


def interval_method(seeds_first: int, seeds_second: int, songs: int) -> str:
    """What a test interval covers, in words true at these seed counts."""
    if seeds_first == 1 and seeds_second == 1:
        return (f"paired t over {songs} test songs, one run each: covers the songs only, "
                "not other seeds")
    return (f"t interval (Satterthwaite df) over {seeds_first} and {seeds_second} seeds "
            f"and the same {songs} test songs (paired): covers other seeds and songs"
            + ("; a single run adds no seed spread" if min(seeds_first, seeds_second) == 1
               else ""))


def seed_interval(first: Sequence[float], second: Sequence[float],
                  level: float = LEVEL) -> Interval:
    """Difference of the means of two sets of per-seed values, with a t interval.

    Welch's interval when both sides have two or more seeds; when one side has a single
    value, the one-sample t interval of the other side minus that value; no interval when
    neither side has two seeds.
    """
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError("seed_interval needs at least one value on each side")
    difference = float(a.mean() - b.mean())
    if a.size < 2 and b.size < 2:
        return Interval(difference, None, None, "one run each")
    if a.size >= 2 and b.size >= 2:
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = float(np.sqrt(va + vb))
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)) if se else 1.0
        method = f"Welch t, {a.size} vs {b.size} seeds"
    else:
        spread = a if a.size >= 2 else b
        se = float(spread.std(ddof=1) / np.sqrt(spread.size))
        df = spread.size - 1
        method = f"one-sample t over {spread.size} seeds against a single run"
    if se == 0:  # every seed gave the same number: a t interval would have zero width
        return Interval(difference, None, None, f"no spread between seeds ({method})")
    return _t_interval(difference, se, float(df), method, level)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None stays None).

    The smallest of m p-values is multiplied by m, the next by m - 1, ..., each kept at
    least as large as the one before and at most 1; an adjusted p below 0.05 then holds
    for the family at 5%."""
    known = [(p, i) for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(known)):
        running = max(running, min(1.0, (len(known) - rank) * p))
        adjusted[i] = running
    return adjusted


def holm_levels(p_values: Sequence[float | None], alpha: float = 1 - LEVEL
                ) -> list[float | None]:
    """The confidence level at which to show each interval of a Holm family, so that an
    interval excludes 0 exactly when its Holm-adjusted p-value is below ``alpha``.

    Holm's step k (k = 0 for the smallest of m p-values) tests at alpha / (m - k) and
    stops at the first p-value that fails; an interval decided at step k is shown at level
    1 - alpha / (m - k), and those after the stop at the level of the step that stopped.
    The first step's level is Bonferroni's; None stays None."""
    known = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    levels: list[float | None] = [None] * len(p_values)
    m, stopped = len(known), None
    for step, (p, i) in enumerate(known):
        if stopped is None and p >= alpha / (m - step):
            stopped = step
        levels[i] = 1 - alpha / (m - (step if stopped is None else stopped))
    return levels


@dataclass(frozen=True)
class BestComparison:
    """One value of a grid against the best of the others (Hsu's MCB): ``difference`` is
    its mean minus the highest other mean; [low, high] the simultaneous interval of the
    true difference (0 inside when the data cannot tell); ``p`` how surely it is not the
    best (a value behind) or is the best (the value ahead)."""

    key: int
    mean: float
    difference: float
    low: float
    high: float
    p: float

    def reading(self) -> str:
        if self.high <= 0 and self.difference < 0:
            return "not the best (interval below 0)"
        if self.low >= 0 and self.difference > 0:
            return "the best (interval above 0)"
        return "could be the best (interval includes 0)"


def mcb(groups: dict[int, Sequence[float]], level: float = LEVEL
        ) -> tuple[list[BestComparison], str]:
    """Hsu's multiple comparisons with the best (constrained intervals, pooled variance):
    for each group, mean minus the highest other mean, with intervals that hold together at
    ``level`` whichever group the data make look best, so that picking the best on the same
    numbers costs nothing extra. Needs the same number (two or more) of values per group;
    the one-sided Dunnett critical value for k - 1 comparisons is computed by integration.
    Returns the rows (in the groups' order) and the method in words; no rows, and the
    reason, when no comparison is possible."""
    counts = {len(values) for values in groups.values()}
    if len(groups) < 2:
        return [], "one value: nothing to compare"
    if min(counts) < 2:
        return [], ("one seed per value: no spread between seeds to compare with, so no "
                    "comparison is possible")
    if len(counts) != 1:
        return [], f"unequal seed counts {sorted(counts)}: MCB needs the same count per value"
    n, k = counts.pop(), len(groups)
    means = {key: float(np.mean(values)) for key, values in groups.items()}
    pooled = sum(float(np.sum(np.square(np.asarray(v) - means[key])))
                 for key, v in groups.items()) / (k * (n - 1))
    df = k * (n - 1)
    se = float(np.sqrt(2 * pooled / n))
    method = (f"Hsu's MCB: each value minus the best of the other {k - 1}, simultaneous "
              f"{100 * level:g}% intervals, pooled sd over {k} values x {n} seeds ({df} df)")
    if se == 0:
        return [], f"no spread between seeds: no interval ({method})"
    distribution = _dunnett_one_sided(k - 1, df)
    critical = _solve(lambda d: distribution(d) - level)
    rows = []
    for key in groups:
        best_other = max(means[other] for other in groups if other != key)
        difference = means[key] - best_other
        p = 1 - distribution(abs(difference) / se)
        rows.append(BestComparison(key, means[key], difference,
                                   min(0.0, difference - critical * se),
                                   max(0.0, difference + critical * se), float(p)))
    return rows, method


def _dunnett_one_sided(comparisons: int, df: int):
    """F(d) = P(max of ``comparisons`` differences (Z_j - Z_0) / (S sqrt 2) <= d), Z iid
    normal and df S^2 a chi-square on ``df`` degrees of freedom: Dunnett's one-sided
    distribution for equal group sizes (correlation 1/2), integrated on fixed grids (the
    normal on 1,601 points over +-8 sd, S at 400 equal-probability points)."""
    from scipy import stats

    z = np.linspace(-8, 8, 1601)
    weights = stats.norm.pdf(z) * (z[1] - z[0])
    scale = np.sqrt(stats.chi2.ppf((np.arange(400) + 0.5) / 400, df) / df)

    def cdf(d: float) -> float:
        upper = stats.norm.cdf(z[None, :] + d * np.sqrt(2) * scale[:, None])
        return float((upper**comparisons * weights).sum(axis=1).mean())

    return cdf


def _solve(function, low: float = 0.0, high: float = 50.0) -> float:
    from scipy import optimize

    return float(optimize.brentq(function, low, high, xtol=1e-6))


def correct_matrix(correct: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """(seeds, songs) float array of 1/0 right/wrong; a 1-d array is one seed."""
    values = np.asarray(correct, dtype=np.float64)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"expected (seeds, songs) correctness; got shape {values.shape}")
    return values


def bootstrap_interval(first: np.ndarray | Sequence[Sequence[float]],
                       second: np.ndarray | Sequence[Sequence[float]], resamples: int,
                       seed: int, level: float = LEVEL) -> Interval:
    """Two-level bootstrap of the difference of mean accuracies: seeds, then songs.

    ``first`` and ``second`` are (seeds, songs) arrays of 1/0 (right/wrong), the songs in
    the same order on both sides (a 1-d array is a single run). Each resample draws each
    model's seeds with replacement (independently per model), then one set of songs with
    replacement for both, and takes mean(first) - mean(second) over the drawn seeds and
    songs. Vectorised in blocks of ``BLOCK`` resamples (memory: BLOCK x songs counts): a
    block's song draws become per-song counts (``bincount``), and one matrix product gives
    every seed's accuracy on every resampled song set; the result depends on ``seed`` only.
    """
    a, b = correct_matrix(first), correct_matrix(second)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"paired values need the same songs: {a.shape[1]} and "
                         f"{b.shape[1]} songs")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1; got {resamples}")
    songs, n_a, n_b = a.shape[1], a.shape[0], b.shape[0]
    runs = np.vstack([a, b]).T  # (songs, seeds of first + seeds of second)
    rng = np.random.default_rng(seed)
    differences = np.empty(resamples)
    for start in range(0, resamples, BLOCK):
        count = min(BLOCK, resamples - start)
        weights = np.hstack([_seed_weights(rng, count, n_a), -_seed_weights(rng, count, n_b)])
        drawn = rng.integers(0, songs, size=(count, songs), dtype=np.int64)
        drawn += np.arange(count, dtype=np.int64)[:, None] * songs
        counts = np.bincount(drawn.ravel(), minlength=count * songs).reshape(count, songs)
        accuracy = counts.astype(np.float64) @ runs / songs  # (count, seeds): each run
        differences[start:start + count] = (weights * accuracy).sum(axis=1)
    low, high = np.quantile(differences, [0.5 - level / 2, 0.5 + level / 2])
    seeds = (f"the seeds of each model resampled ({n_a} and {n_b}), then "
             if max(n_a, n_b) > 1 else "one run each, so songs only: ")
    return Interval(float(a.mean() - b.mean()), float(low), float(high),
                    f"two-level bootstrap: {seeds}the same {songs} test songs for both "
                    f"(paired), {resamples} resamples")


def _seed_weights(rng: np.random.Generator, count: int, seeds: int) -> np.ndarray:
    """(count, seeds): in each of ``count`` resamples, the share of ``seeds`` draws (with
    replacement) that fell on each seed; their weighted sum is the drawn seeds' mean."""
    draws = rng.integers(0, seeds, size=(count, seeds))
    shares = np.zeros((count, seeds))
    np.add.at(shares, (np.arange(count)[:, None], draws), 1.0 / seeds)
    return shares


def song_correctness(predictions: Sequence[Sequence[int]], targets: Sequence[int]) -> np.ndarray:
    """(seeds, songs) array: 1 where a run (seed) predicted the song's label, else 0."""
    predicted = np.asarray(predictions, dtype=np.int64)
    truth = np.asarray(targets, dtype=np.int64)
    if predicted.ndim != 2 or predicted.shape[1] != truth.size:
        raise ValueError(f"predictions of shape {predicted.shape} do not match "
                         f"{truth.size} targets")
    return (predicted == truth).astype(np.float64)

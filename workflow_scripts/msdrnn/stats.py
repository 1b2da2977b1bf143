"""Differences between two models with 95% intervals, and what they support.

Two kinds of evidence:

- **Test, over seeds and songs** (the verdicts): every model predicted the same held-out
  test songs, once per seed. The interval should describe the training *procedure* (what
  another set of seeds would give on other songs), not only the models these seeds
  happened to produce, so it is a two-level bootstrap. Each resample (1) draws, for each
  model on its own, as many of its seeds as it has, with replacement; (2) draws the test
  songs with replacement, the same songs for both models (paired); and (3) recomputes the
  difference of the mean accuracies (mean over the drawn seeds and songs). The interval
  holds the middle 95% of the resampled differences (percentile interval). A model with a
  single run (the deterministic song-statistics fit, or a one-seed config) contributes no
  seed variation; with one run on each side the interval covers songs only, and its method
  says so. Paired on the songs' identities, which the caller checks.
- **Validation, across seeds** (descriptive only): each seed gives one number, its peak
  validation accuracy. The difference of the means gets a Welch t interval (unequal
  variances); a model that ran once counts as a fixed value (one-sample t interval of the
  other side); seeds that all gave the same number give no interval. These numbers are
  selected on the validation songs (the search's parameters, every run's best epoch), so
  they carry no verdict.

For several comparisons drawn from one selection (the grid's best steps value against
every other), ``holm`` adjusts the p-values for their number (Holm's step-down method).

No TensorFlow here; scipy for the t distribution only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
BLOCK = 256  # resamples computed together by bootstrap_interval


@dataclass(frozen=True)
class Interval:
    """A difference (first minus second) with its interval and how it was computed.

    ``p`` is the two-sided p-value of a t interval (None for bootstrap intervals)."""

    difference: float
    low: float | None
    high: float | None
    method: str
    p: float | None = None

    @property
    def known(self) -> bool:
        return self.low is not None and self.high is not None

    def verdict(self, first: str = "first", second: str = "second") -> str:
        """Plain words that follow from the interval: it excludes 0 or it does not."""
        if not self.known:
            return "unknown (no interval)"
        if self.low > 0:
            return f"{first} higher (the interval excludes 0)"
        if self.high < 0:
            return f"{first} lower (the interval excludes 0)"
        return "no clear difference (the interval includes 0)"


def seed_interval(first: Sequence[float], second: Sequence[float],
                  level: float = LEVEL) -> Interval:
    """Difference of the means of two sets of per-seed values, with a t interval.

    Welch's interval when both sides have two or more seeds; when one side has a single
    value, the one-sample t interval of the other side minus that value; no interval when
    neither side has two seeds.
    """
    from scipy import stats

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
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * stats.t.sf(abs(difference) / se, df))
    return Interval(difference, difference - half, difference + half, method, p)


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

"""Differences between two models with 95% intervals, and the verdict they support.

Two kinds of evidence, each with its own interval:

- **Validation, across seeds**: each model ran under several seeds, each seed gives one
  number (its peak validation accuracy). The difference of the means gets a Welch t
  interval (unequal variances). A model that ran once (or cannot vary, such as a
  deterministic fit) counts as a fixed value: the interval is then the one-sample t
  interval of the other model's seeds around it, which leaves out the fixed side's own
  seed noise (the text says so). Seeds that all gave the same number (small validation
  sets) give no interval rather than one of zero width.
- **Test, over songs**: both models predicted the same test songs. A paired bootstrap
  resamples the songs with replacement and recomputes the difference of accuracies; the
  interval holds the middle 95% of the resampled differences (percentile interval). With
  several seeds, a song's correctness is the fraction of the seeds that got it right.

No TensorFlow here; scipy for the t quantile only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A difference (first minus second) with its interval and how it was computed."""

    difference: float
    low: float | None
    high: float | None
    method: str

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
    return Interval(difference, difference - half, difference + half, method)


def bootstrap_interval(first: np.ndarray, second: np.ndarray, resamples: int, seed: int,
                       level: float = LEVEL, chunk: int = 250) -> Interval:
    """Paired bootstrap over songs of the difference of mean correctness.

    ``first`` and ``second`` hold one value per test song in the same song order: 1/0 for
    right/wrong, or the fraction of seeds that were right. Resamples are drawn in chunks so
    that memory stays small for large test sets; the result depends on ``seed`` only.
    """
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"paired values need the same songs: shapes {a.shape} and {b.shape}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1; got {resamples}")
    per_song = a - b
    rng = np.random.default_rng(seed)
    differences = np.empty(resamples)
    for start in range(0, resamples, chunk):
        count = min(chunk, resamples - start)
        index = rng.integers(0, per_song.size, size=(count, per_song.size))
        differences[start:start + count] = per_song[index].mean(axis=1)
    low, high = np.quantile(differences, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(float(per_song.mean()), float(low), float(high),
                    f"paired bootstrap over {a.size} test songs, {resamples} resamples")


def song_correctness(predictions: Sequence[Sequence[int]], targets: Sequence[int]) -> np.ndarray:
    """Per test song, the fraction of runs (seeds) whose prediction is its label."""
    predicted = np.asarray(predictions, dtype=np.int64)
    truth = np.asarray(targets, dtype=np.int64)
    if predicted.ndim != 2 or predicted.shape[1] != truth.size:
        raise ValueError(f"predictions of shape {predicted.shape} do not match "
                         f"{truth.size} targets")
    return (predicted == truth).mean(axis=0)

"""Coverage and width of the test intervals, measured on simulated studies (NumPy only).

A simulated study is what the summary compares: two models, each trained under ``seeds``
seeds, right or wrong on the same ``songs`` test songs drawn from a population of songs.
Song j is right for model m under seed s with probability

    Phi(c_m + a_ms + scale * b_mj),

where b_mj = sqrt(r) z_j + sqrt(1 - r) e_mj is the song's ease for that model (z_j shared
by both models, so the songs are correlated between models with correlation ``r``; z and
e standard normal), a_ms ~ N(0, sd_a^2) is the seed's effect on the whole run, and what
is left, the Bernoulli draw, is the seed-by-song noise (which songs a run gets right
besides its song's ease). ``scale`` sets how much a song's ease decides its answer.

The estimand is the one of the study: the expected accuracy of model 1's training
procedure minus model 2's, over seeds and over the song population, for a fixed data
split (c_m is fixed: the split and the search's choice are not redrawn). Under the model
above it is exact: mu_m = Phi(c_m / sqrt(1 + scale^2 + sd_a^2)), and c_m is set so that
mu_m is the regime's accuracy. The seed sd is given in accuracy points, the sd over seeds
of a run's expected accuracy, to first order: sd_a = points x sqrt(1 + scale^2) /
phi(Phi^-1(mu_m)).

Measured per cell (regime x seeds per side x test songs x seed sd): the share of studies
whose interval holds the true difference (coverage) and the mean width, for

- ``new``: msdrnn.stats.test_interval's t interval (``variance_parts``, the same code:
  variance components, Satterthwaite df);
- ``review``: the same with each side's whole seed variance (``SEED_VARIANCE``), which
  counts the seed-by-song noise twice;
- ``old``: the percentile two-level bootstrap of msdrnn.stats.bootstrap_interval (seeds
  of each side with replacement, then the same songs for both), replicated vectorised:
  its seed draws exactly, its song draws by their normal limit (the mean of a bootstrap
  sample of the songs is normal with the songs' covariance / songs to within a few
  tenths of a point at 300 songs; tests/test_coverage.py checks the replica against
  bootstrap_interval itself).

``python workflow_scripts/coverage_table.py`` prints the table of docs/statistics.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import special

from msdrnn.stats import COMPONENTS, LEVEL, SEED_VARIANCE, variance_parts

SEED_COUNTS = (2, 3, 5, 10)
SONG_COUNTS = (300, 10_000)
SEED_SDS = (0.0, 0.005, 0.01, 0.02, 0.05)  # accuracy points / 100
METHODS = ("old", "review", "new")
VARIANTS = {"review": SEED_VARIANCE, "new": COMPONENTS}
CHUNK = 4_000_000  # right/wrong values simulated at once (memory: 4 bytes each)


@dataclass(frozen=True)
class Regime:
    """Two models' expected accuracies, how much a song's ease decides its answer
    (``scale``) and how alike the models find the songs (``correlation``)."""

    name: str
    accuracies: tuple[float, float]
    scale: float
    correlation: float

    @property
    def truth(self) -> float:
        return self.accuracies[0] - self.accuracies[1]


# The default study's RNN tests at about 80% and its feedforward network near 57%; close
# models and weak models bracket it. With scale 1.5 two seeds of the 80% model agree on
# about 89% of the songs; scale 0.7 makes the seed-by-song noise larger than the songs'
# ease.
REGIMES = (
    Regime("close models, songs decide (80% vs 77%)", (0.80, 0.77), 1.5, 0.6),
    Regime("weak models, noisy answers (60% vs 50%)", (0.60, 0.50), 0.7, 0.4),
)


@dataclass(frozen=True)
class Cell:
    """Coverage and mean width of one method in one cell, over ``studies`` studies."""

    method: str
    coverage: float
    width: float
    studies: int

    @property
    def error(self) -> float:
        """Monte Carlo standard error of the coverage (binomial)."""
        return float(np.sqrt(self.coverage * (1 - self.coverage) / self.studies))


def seed_effect_sd(accuracy: float, points: float, scale: float) -> float:
    """sd of a_ms that moves a run's expected accuracy by ``points`` (a fraction) to first
    order, near ``accuracy``."""
    density = np.exp(-special.ndtri(accuracy) ** 2 / 2) / np.sqrt(2 * np.pi)
    return float(points * np.sqrt(1 + scale**2) / density)


def simulate(rng: np.random.Generator, regime: Regime, seeds: int, songs: int,
             seed_sd: float, studies: int) -> tuple[np.ndarray, np.ndarray]:
    """Right/wrong (float32, 1/0) of both models: two arrays (studies, seeds, songs)."""
    z = rng.standard_normal((studies, 1, songs), dtype=np.float32)
    r = regime.correlation
    sides = []
    for accuracy in regime.accuracies:
        sd_a = seed_effect_sd(accuracy, seed_sd, regime.scale)
        c = special.ndtri(accuracy) * np.sqrt(1 + regime.scale**2 + sd_a**2)
        ease = np.sqrt(r) * z + np.sqrt(1 - r) * rng.standard_normal(
            (studies, 1, songs), dtype=np.float32)
        effect = sd_a * rng.standard_normal((studies, seeds, 1), dtype=np.float32)
        # right when the run's normal noise stays under c + a + scale * b: probability Phi
        noise = rng.standard_normal((studies, seeds, songs), dtype=np.float32)
        sides.append((noise < np.float32(c) + effect + np.float32(regime.scale) * ease)
                     .astype(np.float32))
    return sides[0], sides[1]


def t_bounds(first: np.ndarray, second: np.ndarray, variant: str,
             level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Low and high of the t interval of every study (msdrnn.stats.variance_parts)."""
    from scipy import stats

    difference, _, se, df = variance_parts(first, second, variant)  # float32: 0/1 sums
    half = stats.t.ppf(0.5 + level / 2, df) * se
    return difference - half, difference + half


def bootstrap_bounds(rng: np.random.Generator, first: np.ndarray, second: np.ndarray,
                     resamples: int = 2000, level: float = LEVEL
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Low and high of the percentile two-level bootstrap of every study: per resample,
    each side's seeds drawn with replacement (shares w), then the songs, whose resampled
    difference sum_k w_k acc*_k is normal with mean w . acc and variance w' C w / songs,
    C the covariance (ddof 0) of the runs' right/wrong over the songs."""
    studies, n_a, songs = first.shape
    n_b = second.shape[1]
    runs = np.concatenate([first, second], axis=1)  # (studies, runs, songs), float32
    accuracy = runs.mean(axis=2, dtype=np.float64)
    products = (runs @ runs.transpose(0, 2, 1)).astype(np.float64) / songs  # exact: 0/1 sums
    covariance = products - accuracy[:, :, None] * accuracy[:, None, :]  # (studies, runs, runs)
    weights = np.concatenate([_shares(rng, (studies, resamples), n_a),
                              -_shares(rng, (studies, resamples), n_b)], axis=2)
    mean = (weights @ accuracy[:, :, None])[..., 0]
    variance = ((weights @ covariance) * weights).sum(axis=2) / songs
    differences = mean + np.sqrt(np.maximum(variance, 0)) * rng.standard_normal(mean.shape)
    low, high = np.quantile(differences, [0.5 - level / 2, 0.5 + level / 2], axis=1)
    return low, high


def _shares(rng: np.random.Generator, shape: tuple[int, int], seeds: int) -> np.ndarray:
    """(*shape, seeds): the share of ``seeds`` draws with replacement on each seed."""
    count = shape[0] * shape[1]
    draws = (rng.random((count, seeds), dtype=np.float32) * seeds).astype(np.int32)
    draws = np.minimum(draws, seeds - 1) + seeds * np.arange(count, dtype=np.int32)[:, None]
    return np.bincount(draws.ravel(), minlength=count * seeds).reshape(*shape, seeds) / seeds


def measure(regime: Regime, seeds: int, songs: int, seed_sd: float, studies: int,
            seed: int = 0, methods: tuple[str, ...] = METHODS,
            resamples: int = 2000) -> dict[str, Cell]:
    """Coverage and mean width of each method over ``studies`` simulated studies."""
    rng = np.random.default_rng([seed, seeds, songs, round(seed_sd * 10_000)])
    hits = {method: 0 for method in methods}
    widths = {method: 0.0 for method in methods}
    for count in _chunks(studies, max(1, CHUNK // (2 * seeds * songs))):
        first, second = simulate(rng, regime, seeds, songs, seed_sd, count)
        for method in methods:
            if method == "old":
                low, high = bootstrap_bounds(rng, first, second, resamples)
            else:
                low, high = t_bounds(first, second, VARIANTS[method])
            hits[method] += int(np.sum((low <= regime.truth) & (regime.truth <= high)))
            widths[method] += float(np.sum(high - low))
    return {method: Cell(method, hits[method] / studies, widths[method] / studies, studies)
            for method in methods}


def _chunks(total: int, size: int) -> Iterator[int]:
    for start in range(0, total, size):
        yield min(size, total - start)

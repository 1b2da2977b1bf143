"""Intervals and verdicts of the summary's comparisons (msdrnn.stats)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from msdrnn.stats import Interval, bootstrap_interval, holm, seed_interval, song_correctness


def test_welch_interval_matches_scipy():
    a, b = [0.55, 0.57, 0.56], [0.50, 0.53]
    interval = seed_interval(a, b)
    expected = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert interval.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high))
    assert interval.method == "Welch t, 3 vs 2 seeds"


def test_single_run_is_a_fixed_value():
    interval = seed_interval([0.40], [0.50, 0.52, 0.51])
    expected = scipy_stats.ttest_1samp([0.50, 0.52, 0.51], 0.40).confidence_interval(0.95)
    assert (interval.low, interval.high) == pytest.approx((0.40 - expected.high,
                                                          0.40 - expected.low))
    assert "single run" in interval.method
    assert not seed_interval([0.4], [0.5]).known
    assert seed_interval([0.4], [0.5]).verdict("RNN") == "unknown (no interval)"


def test_verdict_follows_from_the_interval():
    assert Interval(0.05, 0.01, 0.09, "m").verdict("RNN").startswith("RNN higher")
    assert Interval(-0.05, -0.09, -0.01, "m").verdict("RNN").startswith("RNN lower")
    assert Interval(0.05, -0.01, 0.09, "m").verdict("RNN").startswith("no clear difference")


def test_seeds_without_spread_give_no_interval():
    interval = seed_interval([0.5, 0.5], [0.4, 0.4])
    assert interval.difference == pytest.approx(0.1)
    assert not interval.known and interval.method.startswith("no spread between seeds")
    assert interval.verdict("RNN") == "unknown (no interval)"


def test_paired_bootstrap_is_deterministic_and_covers_the_difference():
    rng = np.random.default_rng(1)
    a = (rng.random(400) < 0.6).astype(float)
    b = (rng.random(400) < 0.4).astype(float)
    first = bootstrap_interval(a, b, resamples=500, seed=3)
    assert first == bootstrap_interval(a, b, resamples=500, seed=3)
    assert first.low < first.difference < first.high
    assert first.low > 0  # a 20-point gap on 400 songs is clear
    assert "songs only" in first.method
    same = bootstrap_interval(a, a, resamples=200, seed=0)
    assert (same.low, same.high) == (0.0, 0.0)
    assert same.verdict().startswith("no clear difference")


def test_paired_bootstrap_rejects_unpaired_songs():
    with pytest.raises(ValueError, match="same songs"):
        bootstrap_interval(np.ones(3), np.ones(4), resamples=10, seed=0)


def test_song_correctness_keeps_one_row_per_seed():
    targets = [0, 1, 2]
    predictions = [[0, 1, 0], [0, 2, 2]]
    assert song_correctness(predictions, targets).tolist() == [[1, 1, 0], [1, 0, 1]]


def simulated_study(rng: np.random.Generator, seeds: int, songs: int, seed_sd: float,
                    accuracies: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Right/wrong of two models on the same random songs, each trained under `seeds`
    seeds. A song's difficulty is shared by both models (so pairing matters); a seed
    shifts its model's accuracy by N(0, seed_sd); each (seed, song) adds its own noise.
    The procedure's true difference is accuracies[0] - accuracies[1]."""
    difficulty = rng.random(songs)
    runs = []
    for accuracy in accuracies:
        level = accuracy + rng.normal(0, seed_sd, (seeds, 1))
        runs.append((difficulty < level + 0.15 * rng.normal(size=(seeds, songs))).astype(float))
    return runs[0], runs[1]


def test_two_level_bootstrap_covers_the_procedure_not_only_these_models():
    """Over 200 simulated studies (3 seeds per model, a seed sd of 3 points, 300 songs)
    the seeds-and-songs interval holds the true difference about 95% of the time; the
    interval over songs alone (seeds averaged first) is narrower and misses far more."""
    rng = np.random.default_rng(0)
    truth, studies = 0.05, 200
    covered = {"two-level": 0, "songs only": 0}
    widths = {"two-level": [], "songs only": []}
    for study in range(studies):
        a, b = simulated_study(rng, seeds=3, songs=300, seed_sd=0.03, accuracies=(0.6, 0.55))
        for name, interval in (
                ("two-level", bootstrap_interval(a, b, resamples=400, seed=study)),
                ("songs only", bootstrap_interval(a.mean(axis=0), b.mean(axis=0),
                                                  resamples=400, seed=study))):
            covered[name] += interval.low <= truth <= interval.high
            widths[name].append(interval.high - interval.low)
    coverage = {name: count / studies for name, count in covered.items()}
    assert 0.88 <= coverage["two-level"] <= 0.99, coverage
    assert coverage["songs only"] < 0.8, coverage
    assert np.mean(widths["two-level"]) > 1.5 * np.mean(widths["songs only"])


def test_two_level_bootstrap_resamples_each_side_s_seeds():
    """Seeds far apart widen the interval; a single run on one side (a deterministic fit)
    adds no seed spread of its own; the method names both seed counts."""
    songs = np.random.default_rng(2).random(500) < 0.5
    steady = np.vstack([songs, songs, songs]).astype(float)
    shaky = steady.copy()
    shaky[0, :100] = 1.0  # one seed gets 100 more songs right
    fixed = np.roll(songs, 1).astype(float)
    narrow = bootstrap_interval(steady, fixed, resamples=1000, seed=0)
    wide = bootstrap_interval(shaky, fixed, resamples=1000, seed=0)
    assert wide.high - wide.low > narrow.high - narrow.low
    assert "(3 and 1)" in wide.method
    assert wide.difference == pytest.approx(shaky.mean() - fixed.mean())


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None])
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []


def test_welch_p_value_matches_scipy():
    a, b = [0.55, 0.57, 0.56], [0.50, 0.53]
    assert seed_interval(a, b).p == pytest.approx(
        scipy_stats.ttest_ind(a, b, equal_var=False).pvalue)

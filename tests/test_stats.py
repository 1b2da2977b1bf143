"""Intervals and verdicts of the summary's comparisons (msdrnn.stats)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from msdrnn.stats import Interval, bootstrap_interval, seed_interval, song_correctness


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
    again = bootstrap_interval(a, b, resamples=500, seed=3, chunk=7)
    assert first == again  # chunking does not change the draws
    assert first.low < first.difference < first.high
    assert first.low > 0  # a 20-point gap on 400 songs is clear
    same = bootstrap_interval(a, a, resamples=200, seed=0)
    assert (same.low, same.high) == (0.0, 0.0)
    assert same.verdict().startswith("no clear difference")


def test_paired_bootstrap_rejects_unpaired_songs():
    with pytest.raises(ValueError, match="same songs"):
        bootstrap_interval(np.ones(3), np.ones(4), resamples=10, seed=0)


def test_song_correctness_averages_over_seeds():
    targets = [0, 1, 2]
    predictions = [[0, 1, 0], [0, 2, 2]]
    assert list(song_correctness(predictions, targets)) == [1.0, 0.5, 0.5]

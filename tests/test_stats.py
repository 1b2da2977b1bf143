"""Intervals and verdicts of the summary's comparisons (msdrnn.stats)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from msdrnn.stats import (
    Interval,
    bootstrap_interval,
    holm,
    holm_levels,
    mcb,
    seed_interval,
    song_correctness,
    test_interval,
)


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


def test_interval_of_paired_songs_one_run_each_is_a_paired_t():
    """One run per side: the songs only, exactly the paired t interval of the per-song
    differences, and the method says so."""
    rng = np.random.default_rng(1)
    a = (rng.random(400) < 0.6).astype(float)
    b = (rng.random(400) < 0.4).astype(float)
    interval = test_interval(a, b)
    expected = scipy_stats.ttest_rel(a, b)
    assert interval.p == pytest.approx(expected.pvalue)
    ci = expected.confidence_interval(0.95)
    assert (interval.low, interval.high) == pytest.approx((ci.low, ci.high))
    assert "covers the songs only" in interval.method
    assert interval.direction() == "first higher"
    same = test_interval(a, a)
    assert (same.low, same.high, same.p) == (0.0, 0.0, 1.0)


def test_interval_adds_the_seed_spread_beyond_the_song_noise():
    """Seeds that differ widen the interval and cut its degrees of freedom; seeds that
    differ only by which songs they get right (no seed effect) leave the song part."""
    rng = np.random.default_rng(2)
    ease = rng.random(500)
    steady = np.vstack([ease < 0.6 + 0.05 * rng.standard_normal(500) for _ in range(3)])
    shaky = steady.copy()
    shaky[0, :100] = 1.0  # one seed gets many more songs right
    fixed = (ease < 0.5).astype(float)
    narrow, wide = test_interval(steady, fixed), test_interval(shaky, fixed)
    assert wide.high - wide.low > 2 * (narrow.high - narrow.low)
    assert wide.df < 3 < narrow.df
    assert wide.difference == pytest.approx(shaky.mean() - fixed.mean())
    assert "over 3 and 1 seeds" in wide.method and "single run" in wide.method
    with pytest.raises(ValueError, match="same songs"):
        test_interval(np.ones(3), np.ones(4))


def test_interval_at_another_level_keeps_its_t():
    rng = np.random.default_rng(5)
    interval = test_interval(rng.random((3, 300)) < 0.6, rng.random((2, 300)) < 0.5)
    wider = interval.at_level(0.99)
    assert wider.level == 0.99 and wider.p == interval.p
    assert wider.low < interval.low < interval.high < wider.high
    half = scipy_stats.t.ppf(0.995, interval.df) * interval.se
    assert wider.high - wider.difference == pytest.approx(half)


def test_holm_levels_match_the_adjusted_p_values():
    """An interval at its Holm level excludes 0 exactly when its adjusted p < 0.05."""
    p_values = [0.009, 0.04, 0.03, None, 0.2, 0.011]
    levels = holm_levels(p_values)
    assert levels[3] is None
    assert levels[0] == pytest.approx(1 - 0.05 / 5)  # the first step: Bonferroni's
    for p, adjusted, level in zip(p_values, holm(p_values), levels, strict=True):
        if p is not None:
            assert (p < 1 - level) == (adjusted < 0.05), (p, adjusted, level)


def test_mcb_against_the_best():
    """Hsu's MCB: the critical value is Dunnett's one-sided (scipy's); a value far behind
    is not the best, the leader is the best only when clearly ahead; one seed: none."""
    rng = np.random.default_rng(0)
    groups = {k: list(rng.normal(0.5, 0.01, 3)) for k in (2, 4, 6, 8)}
    groups[8] = [v - 0.1 for v in groups[8]]
    rows, method = mcb(groups)
    assert "MCB" in method and "(8 df)" in method
    by_key = {row.key: row for row in rows}
    assert by_key[8].reading().startswith("not the best") and by_key[8].p < 0.05
    means = {k: np.mean(v) for k, v in groups.items()}
    leader = max(means, key=means.get)
    assert by_key[leader].difference > 0  # ahead, but not clearly: it could be the best
    assert by_key[leader].low < 0 < by_key[leader].high
    assert by_key[leader].reading().startswith("could be the best")
    assert all(row.low <= row.difference <= row.high for row in rows)
    data = [groups[k] for k in (8, 2, 4, 6)]
    reference = scipy_stats.dunnett(*data[1:], control=data[0], alternative="greater")
    pooled = np.sqrt(np.mean([np.var(v, ddof=1) for v in data]))
    ci = reference.confidence_interval(0.95)
    critical = (np.mean(data[1]) - np.mean(data[0]) - ci.low[0]) / (pooled * np.sqrt(2 / 3))
    behind = by_key[8]
    best_other = max(means[k] for k in (2, 4, 6))
    assert behind.difference - behind.low == pytest.approx(critical * pooled * np.sqrt(2 / 3),
                                                           rel=2e-3)
    assert behind.difference == pytest.approx(means[8] - best_other)
    assert mcb({2: [0.5], 4: [0.6]}) == ([], "one seed per value: no spread between seeds "
                                             "to compare with, so no comparison is possible")

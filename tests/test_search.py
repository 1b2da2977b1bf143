"""The Bayesian search: objective, deterministic proposals, batches, interruption."""

from __future__ import annotations

import pytest

from msdrnn.search import SearchSpace, objective, propose

SPACE = SearchSpace(15, 500, (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60))


def fake_objective(point: tuple[int, int]) -> float:
    """A smooth stand-in for a trial's objective, best near state 341, steps 4."""
    state_size, steps = point
    return 0.55 - ((state_size - 341) / 500) ** 2 - 0.005 * abs(steps - 4)


def run_search(n_calls: int, n_initial: int = 1, batch_size: int = 1, **kwargs):
    """What the workflow does: propose each trial from the results of earlier rounds."""
    points = []
    for trial in range(n_calls):
        round_start = 0 if trial < n_initial else trial - (trial - n_initial) % batch_size
        earlier = [(p, fake_objective(p)) for p in points[:round_start]]
        points.append(propose(trial, SPACE, earlier, seed=0, n_initial=n_initial,
                              batch_size=batch_size, **kwargs))
    return points


def test_objective_is_mean_of_top_ten_percent():
    accuracies = [0.1 * i for i in range(25)]  # top two of 25: 2.4 and 2.3
    assert objective(accuracies, 0.1) == pytest.approx(2.35)
    assert objective([0.3, 0.5, 0.4], 0.1) == pytest.approx(0.5)  # at least one
    with pytest.raises(ValueError):
        objective([], 0.1)


def test_proposals_are_deterministic_and_in_the_space():
    first = run_search(5)
    assert first == run_search(5)
    for state_size, steps in first:
        assert 15 <= state_size <= 500 and steps in SPACE.steps


def test_random_start_ignores_kappa_but_guided_trials_use_it():
    low, high = run_search(5, kappa=0.01), run_search(5, kappa=50)
    assert low[0] == high[0]
    assert low != high


def test_interrupted_search_continues_with_the_same_proposals():
    uninterrupted = run_search(6)
    # "interrupted after trial 4": trial 5 recomputed from the stored results only
    earlier = [(p, fake_objective(p)) for p in uninterrupted[:5]]
    assert propose(5, SPACE, earlier, seed=0, n_initial=1) == uninterrupted[5]


def test_batch_rounds_share_their_earlier_results():
    points = run_search(4, batch_size=3)
    assert len(set(points[1:4])) == 3  # one round of three distinct points
    with pytest.raises(ValueError, match="needs the results of trials 0..0"):
        propose(2, SPACE, [], seed=0, n_initial=1, batch_size=3)

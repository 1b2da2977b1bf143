"""Bayesian search over state size and steps with scikit-optimize, one trial at a time.

The seed ran ``gp_minimize`` in one process. Here every trial is its own workflow job, so
a proposal is recomputed from the earlier trials' results: a fresh ``skopt.Optimizer``
with the same seed is told every earlier (point, objective) pair and asked for the next
round. The same seed and the same earlier results therefore always give the same next
point, and an interrupted search continues exactly where it stopped. No TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SearchSpace:
    """State size (integer range) and steps (categorical) as in the original study."""

    state_min: int
    state_max: int
    steps: tuple[int, ...]

    def dimensions(self) -> list:
        from skopt.space import Categorical, Integer

        return [
            Integer(self.state_min, self.state_max, name="state_size"),
            Categorical(list(self.steps), name="steps"),
        ]


def objective(valid_accuracies: Sequence[float], top_fraction: float) -> float:
    """Mean of the best `top_fraction` (at least one) of a trial's per-epoch valid
    accuracies: with 25 epochs and 10%, the mean of the top two, as in the original study."""
    values = np.sort(np.asarray(valid_accuracies, dtype=float))[::-1]
    if values.size == 0:
        raise ValueError("objective of a trial without epochs")
    count = max(1, math.floor(top_fraction * values.size))
    return float(values[:count].mean())


def propose(
    trial: int,
    space: SearchSpace,
    earlier: Sequence[tuple[tuple[int, int], float]],
    *,
    seed: int,
    n_initial: int,
    batch_size: int = 1,
    kappa: float = 1.9,
    acq_func: str = "LCB",
) -> tuple[int, int]:
    """The (state_size, steps) point of `trial`.

    Trials ``0 .. n_initial-1`` are random starts (the seed and space alone decide them);
    later trials come in rounds of `batch_size`, each round proposed from the objectives
    of every earlier trial (`earlier`, in trial order), maximised.
    """
    from skopt import Optimizer

    optimizer = Optimizer(
        space.dimensions(),
        base_estimator="GP",
        n_initial_points=n_initial,
        acq_func=acq_func,
        acq_func_kwargs={"kappa": kappa},
        random_state=seed,
    )
    if trial < n_initial:
        starts = optimizer.ask(n_points=n_initial) if n_initial > 1 else [optimizer.ask()]
        return _point(starts[trial])
    round_start = trial - (trial - n_initial) % batch_size
    if len(earlier) != round_start:
        raise ValueError(
            f"trial {trial}: needs the results of trials 0..{round_start - 1}, "
            f"got {len(earlier)}"
        )
    points = [list(point) for point, _ in earlier]
    optimizer.tell(points, [-value for _, value in earlier])  # skopt minimises
    batch = optimizer.ask(n_points=batch_size) if batch_size > 1 else [optimizer.ask()]
    return _point(batch[trial - round_start])


def _point(x: Sequence) -> tuple[int, int]:
    return int(x[0]), int(x[1])

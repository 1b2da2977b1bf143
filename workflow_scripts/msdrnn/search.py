"""Bayesian search with scikit-optimize, one trial at a time, over any space of named
integer and categorical dimensions (the RNN's state size and steps, the feedforward
network's width and depth). No TensorFlow.

The original study ran ``skopt.gp_minimize`` in one process. Here every trial is its own
workflow job, so a proposal is recomputed from the earlier trials' results, and it is
recomputed exactly as ``gp_minimize`` (skopt 0.10.2) would have made it:

- the ``Optimizer`` is built as ``gp_minimize``/``base_minimize`` build it: one
  ``RandomState(seed)`` first draws the Gaussian process's own seed
  (``cook_estimator("GP", ..., noise="gaussian")``) and then drives the optimizer; the
  acquisition is minimised with ``acq_optimizer="auto"`` (L-BFGS for these spaces) from
  ``n_points=10000`` samples and ``n_restarts_optimizer=5`` starts, ``xi=0.01``, ``kappa``;
- the earlier trials are replayed one ``ask``/``tell`` at a time, in trial order, as
  ``gp_minimize``'s loop does, so that the random stream advances exactly as it did there
  (telling every earlier result at once, to a fresh optimizer, draws other numbers).

So with ``batch_size=1``, trial i's point is ``gp_minimize(...).x_iters[i]`` for the same
space, seed, ``n_initial`` (``n_initial_points``), acquisition and objective values
(``tests/test_search.py`` checks all 26 trials of the original study's settings). The same
earlier results always give the same next point, and an interrupted search continues where
it stopped.

A guided point that was already evaluated is replaced inside ``Optimizer.ask``, as in
``gp_minimize``: with ``acq_func="gp_hedge"`` by another acquisition function's candidate
if one is new, otherwise by a random point (skopt warns). ``Proposal.substitution`` says
so, and a point replaced by a random one is of kind ``"random"``, not ``"guided"``.

``batch_size > 1`` proposes the guided trials in rounds with skopt's ``ask(n_points)``,
whose default strategy is the constant liar ``"cl_min"``: a copy of the optimizer (seeded
from the optimizer's random stream) is asked for a point, told that it scored the best
objective seen so far (the lie), asked again, and so on; then the round's real results are
told at once. The trials of a round can train in parallel, but the second trial of a round
does not see the first's result, so the points are no longer ``gp_minimize``'s sequence.
Random starts are drawn one by one in either case, from the seed and space alone.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from msdrnn.errors import ConfigError, DataError

# gp_minimize's defaults (skopt 0.10.2), which the original study used
N_POINTS = 10000
N_RESTARTS_OPTIMIZER = 5
XI = 0.01
PRIORS = ("uniform", "log-uniform")
KINDS = ("random", "guided")
# The proposals' linear algebra runs on one thread: a proposal job has one core, and on a
# busy machine OpenBLAS's threads made the replay about three times slower
BLAS_THREADS = 1


@dataclass(frozen=True)
class Dimension:
    """One named dimension: an integer range (``low``..``high``, both included, with a
    prior) or a categorical list of integers (``categories``)."""

    name: str
    low: int | None = None
    high: int | None = None
    prior: str = "uniform"
    categories: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.categories is None:
            if self.low is None or self.high is None or self.low > self.high:
                raise ConfigError(f"dimension '{self.name}': expected low <= high; got "
                                  f"{self.low}..{self.high}")
            if self.prior not in PRIORS:
                raise ConfigError(f"dimension '{self.name}': prior must be one of {PRIORS}; "
                                  f"got '{self.prior}'")
            if self.prior == "log-uniform" and self.low < 1:
                raise ConfigError(f"dimension '{self.name}': a log-uniform range must start "
                                  f"at 1 or more; got {self.low}")
        elif not self.categories or len(set(self.categories)) != len(self.categories):
            raise ConfigError(f"dimension '{self.name}': expected distinct categories; got "
                              f"{list(self.categories)}")

    def skopt(self):
        from skopt.space import Categorical, Integer

        if self.categories is not None:
            return Categorical(list(self.categories), name=self.name)
        return Integer(self.low, self.high, prior=self.prior, name=self.name)

    def spec(self) -> str:
        """The command-line form: ``steps=cat:2,3,4``, ``width=int:32..1024:log-uniform``."""
        if self.categories is not None:
            return f"{self.name}=cat:{','.join(str(c) for c in self.categories)}"
        prior = "" if self.prior == "uniform" else f":{self.prior}"
        return f"{self.name}=int:{self.low}..{self.high}{prior}"

    def contains(self, value: int) -> bool:
        if self.categories is not None:
            return value in self.categories
        return self.low <= value <= self.high


def parse_dimension(text: str) -> Dimension:
    """A ``Dimension`` from its command-line form (see ``Dimension.spec``)."""
    expected = ("expected NAME=int:LOW..HIGH[:log-uniform] or NAME=cat:V1,V2,...; "
                f"got '{text}'")
    name, _, rest = text.partition("=")
    kind, _, values = rest.partition(":")
    try:
        if kind == "cat":
            return Dimension(name, categories=tuple(int(v) for v in values.split(",")))
        if kind == "int":
            bounds, _, prior = values.partition(":")
            low, _, high = bounds.partition("..")
            return Dimension(name, low=int(low), high=int(high), prior=prior or "uniform")
    except ValueError:
        pass
    raise ConfigError(f"search dimension: {expected}")


@dataclass(frozen=True)
class SearchSpace:
    """Named dimensions, in the order skopt sees them."""

    dimensions: tuple[Dimension, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def skopt_dimensions(self) -> list:
        return [d.skopt() for d in self.dimensions]

    def named(self, point: Sequence[int]) -> dict[str, int]:
        """{name: value} of a point given in dimension order."""
        return {d.name: int(v) for d, v in zip(self.dimensions, point, strict=True)}

    def point(self, values: Mapping[str, object], source: str = "point") -> tuple[int, ...]:
        """The point (in dimension order) of named values, checked to lie in the space;
        ``source`` names where they were read from in the ``DataError``."""
        missing = [name for name in self.names if name not in values]
        if missing:
            raise DataError(f"{source}: missing keys {missing}; expected {list(self.names)}")
        point = []
        for dim in self.dimensions:
            value = values[dim.name]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or not dim.contains(int(value)):
                raise DataError(f"{source}: '{dim.name}' = {value!r} is not in the search "
                                f"space ({dim.spec()})")
            point.append(int(value))
        return tuple(point)


def rnn_space(state_min: int, state_max: int, steps: Sequence[int]) -> SearchSpace:
    """The original study's space: state size Integer(min, max), steps Categorical."""
    return SearchSpace((Dimension("state_size", low=state_min, high=state_max),
                        Dimension("steps", categories=tuple(steps))))


def mlp_space(width_min: int, width_max: int, depths: Sequence[int]) -> SearchSpace:
    """The feedforward network's space: hidden width Integer(min, max, log-uniform) and
    depth Categorical (every hidden layer that width)."""
    return SearchSpace((Dimension("width", low=width_min, high=width_max,
                                  prior="log-uniform"),
                        Dimension("depth", categories=tuple(depths))))


@dataclass(frozen=True)
class Acquisition:
    """How the guided trials are chosen: gp_minimize's acquisition arguments and the
    number of points proposed per round."""

    kappa: float = 1.96
    acq_func: str = "LCB"
    batch_size: int = 1
    xi: float = XI


@dataclass(frozen=True)
class Proposal:
    """The point of one trial, whether skopt's acquisition chose it, and whether skopt
    replaced the acquisition's point because it had been evaluated before."""

    point: tuple[int, ...]
    kind: str  # "random" or "guided"
    substitution: str | None = None  # why the acquisition's own point was replaced
    # earlier trials whose recorded point is not what the replay asked for (another
    # machine's numerics, hand-edited files): their recorded points were told all the same
    replay_differs: tuple[int, ...] = ()

    @property
    def substituted(self) -> bool:
        return self.substitution is not None


def objective(valid_accuracies: Sequence[float], top_fraction: float) -> float:
    """Mean of the best `top_fraction` (at least one) of a trial's per-epoch valid
    accuracies: with 25 epochs and 10%, the mean of the top two, as in the original study."""
    values = np.sort(np.asarray(valid_accuracies, dtype=float))[::-1]
    if values.size == 0:
        raise ValueError("objective of a trial without epochs")
    count = max(1, math.floor(top_fraction * values.size))
    return float(values[:count].mean())


def round_start(trial: int, n_initial: int, batch_size: int) -> int:
    """The first trial of `trial`'s round: random starts are rounds of one, then rounds of
    `batch_size`. A proposal needs the results of every trial before its round."""
    if trial < n_initial:
        return trial
    return trial - (trial - n_initial) % batch_size


def optimizer(space: SearchSpace, *, seed: int, n_initial: int, acquisition: Acquisition):
    """An ``Optimizer`` built exactly as ``gp_minimize(..., random_state=seed)`` builds it."""
    from sklearn.utils import check_random_state
    from skopt import Optimizer
    from skopt.utils import cook_estimator, normalize_dimensions

    rng = check_random_state(seed)
    dimensions = normalize_dimensions(space.skopt_dimensions())
    estimator = cook_estimator("GP", space=dimensions,
                               random_state=rng.randint(0, np.iinfo(np.int32).max),
                               noise="gaussian")
    return Optimizer(
        dimensions, estimator, n_initial_points=n_initial, initial_point_generator="random",
        n_jobs=1, acq_func=acquisition.acq_func, acq_optimizer="auto", random_state=rng,
        model_queue_size=None,
        acq_optimizer_kwargs={"n_points": N_POINTS,
                              "n_restarts_optimizer": N_RESTARTS_OPTIMIZER, "n_jobs": 1},
        acq_func_kwargs={"xi": acquisition.xi, "kappa": acquisition.kappa},
    )


def propose(
    trial: int,
    space: SearchSpace,
    earlier: Sequence[tuple[Sequence[int], float]],
    *,
    seed: int,
    n_initial: int,
    acquisition: Acquisition = Acquisition(),
) -> Proposal:
    """The proposal of `trial` (0-based).

    `earlier` holds (point, objective) of every trial before `trial`'s round, in trial
    order; objectives are maximised (skopt is told their negatives). Trials
    ``0 .. n_initial-1`` are random starts, decided by the seed and the space alone (their
    `earlier` is ignored).
    """
    start = round_start(trial, n_initial, acquisition.batch_size)
    if trial >= n_initial and len(earlier) != start:
        raise ValueError(f"trial {trial}: needs the results of trials 0..{start - 1}, "
                         f"got {len(earlier)}")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=BLAS_THREADS):
        return _replay(trial, space, earlier, seed=seed, n_initial=n_initial,
                       acquisition=acquisition)


def _replay(trial: int, space: SearchSpace, earlier: Sequence[tuple[Sequence[int], float]],
            *, seed: int, n_initial: int, acquisition: Acquisition) -> Proposal:
    """gp_minimize's loop up to `trial`: ask a round, tell its recorded results, repeat;
    a recorded point the replay did not ask for is noted in ``replay_differs``."""
    opt = optimizer(space, seed=seed, n_initial=n_initial, acquisition=acquisition)
    if trial < n_initial:
        # random draws do not depend on the results told: ask, ask, ... as gp_minimize does
        for _ in range(trial):
            opt.ask()
        return Proposal(_ints(opt.ask()), "random")
    done, differs = 0, []
    while True:
        size = 1 if done < n_initial else acquisition.batch_size
        asked = _ask(opt, size, done < n_initial)
        if done <= trial < done + size:
            return replace(asked[trial - done], replay_differs=tuple(differs))
        told = [list(point) for point, _ in earlier[done:done + size]]
        differs += [done + i for i, (proposal, point) in enumerate(zip(asked, told, strict=True))
                    if proposal.point != _ints(point)]
        values = [-float(value) for _, value in earlier[done:done + size]]  # skopt minimises
        if size == 1:
            opt.tell(told[0], values[0])
        else:
            opt.tell(told, values)
        done += size


def _ask(opt, size: int, random_start: bool) -> list[Proposal]:
    """What ``opt.ask()`` (size 1) or ``opt.ask(n_points=size)`` returns, each point with
    its kind and substitution."""
    if random_start:
        return [Proposal(_ints(opt.ask()), "random")]
    if size == 1:
        return [_ask_one(opt)]
    # skopt's ask(n_points, strategy="cl_min"), step by step so that each point's
    # substitution can be seen; tests/test_search.py checks it gives skopt's points
    liar = opt.copy(random_state=opt.rng.randint(0, np.iinfo(np.int32).max))
    batch = []
    for _ in range(size):
        proposal = _ask_one(liar)
        batch.append(proposal)
        liar._tell(list(proposal.point), np.min(liar.yi))
    return batch


def _ask_one(opt) -> Proposal:
    """``opt.ask()`` of a guided trial, and why it is not the acquisition's minimum when
    skopt replaced a point evaluated before."""
    planned = _ints(opt._next_x)
    candidates = [_ints(opt.space.inverse_transform(x.reshape((1, -1)))[0])
                  for x in getattr(opt, "next_xs_", [])]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The objective has been evaluated")
        point = _ints(opt.ask())
    if point == planned:
        return Proposal(point, "guided")
    earlier = [i for i, x in enumerate(opt.Xi) if _ints(x) == planned]
    seen = (f"the acquisition's point {list(planned)} was evaluated before "
            f"(trial {earlier[0]})" if earlier else
            f"the acquisition's point {list(planned)} was evaluated before")
    if point in candidates:
        return Proposal(point, "guided", f"{seen}; skopt took another acquisition "
                                         "function's candidate")
    return Proposal(point, "random", f"{seen}; skopt drew a random point instead")


def _ints(point: Sequence) -> tuple[int, ...]:
    return tuple(int(v) for v in point)

"""Bayesian search with scikit-optimize, one trial at a time, over any space of named
integer, real and categorical dimensions (the RNN's state size and steps, the feedforward
network's width, depth and dropout rate). No TensorFlow; skopt is imported only when a
proposal is made, so the summary can read ``search_note`` without it.

Each search space is spelled once, in the workflow config's form, which
``space_from_config`` reads (``{int: [LOW, HIGH]}``, ``{real: [LOW, HIGH]}``, either with
``prior: log-uniform``, or ``{categories: [V1, ...]}``). ``config_spaces`` gives every
search of a config with its dimensions: the rules format a proposal's command line from it
(``Dimension.spec``, read back by ``parse_dimension``), and the gp_minimize tests build
their spaces from it, so the tests check the spaces the workflow runs.

The original study ran ``skopt.gp_minimize`` in one process. Here every trial is its own
workflow job, so a proposal is recomputed from the earlier trials' results, and it is
recomputed exactly as ``gp_minimize`` (skopt 0.10.2) would have made it:

- the ``Optimizer`` is built as ``gp_minimize``/``base_minimize`` build it: one
  ``RandomState(seed)`` first draws the Gaussian process's own seed
  (``cook_estimator("GP", ..., noise="gaussian")``) and then drives the optimizer; the
  acquisition is minimised with ``acq_optimizer="auto"`` (L-BFGS for these spaces) from
  ``n_points=10000`` samples and ``n_restarts_optimizer=5`` starts, ``xi=0.01``, ``kappa``
  (``KAPPA``, the study's 1.9, unless given);
- the earlier trials are replayed one ``ask``/``tell`` at a time, in trial order, as
  ``gp_minimize``'s loop does, so that the random stream advances exactly as it did there
  (telling every earlier result at once, to a fresh optimizer, draws other numbers).

So with ``batch_size=1``, trial i's point is ``gp_minimize(...).x_iters[i]`` for the same
space, seed, ``n_initial`` (``n_initial_points``), acquisition and objective values
(``tests/test_search.py`` checks all 26 trials of the original study's settings, for every
search of the default config and for real-valued dimensions). The same earlier results
always give the same next point, and an interrupted search continues where it stopped.

**Faithfulness to gp_minimize holds for batch_size 1 only**, and only while the replay asks
for the points that were recorded. Each proposal records both, so that a search that
diverged cannot look like a faithful one: ``batch_size`` (the size of the trial's round: 1
for a random start, the acquisition's ``batch_size`` for a guided trial) and
``replay_differences`` (the earlier trials whose recorded point is not what the replay
asked for: another machine's numerics, hand-edited files; their recorded points are told
all the same). ``bayes_collect.py`` copies both into trials.csv, and ``search_note`` turns
them into the summary's line.

A guided point that was already evaluated is replaced inside ``Optimizer.ask``, as in
``gp_minimize``: with ``acq_func="gp_hedge"`` by another acquisition function's candidate
if one is new, otherwise by a random point (skopt warns). ``Proposal.substitution`` says
so, and a point replaced by a random one is of kind ``"random"``, not ``"guided"``.

``batch_size > 1`` proposes the guided trials in rounds with skopt's ``ask(n_points)``,
whose default strategy is the constant liar ``"cl_min"``: a copy of the optimizer (seeded
from the optimizer's random stream) is asked for a point, told that it scored the best
objective seen so far (the lie), asked again, and so on; then the round's real results are
told at once. The trials of a round can train in parallel, but the second trial of a round
does not see the first's result, and even a round's first point differs from
``gp_minimize``'s (the copy's seed is drawn from the optimizer's stream), so the points are
no longer ``gp_minimize``'s sequence. Random starts are drawn one by one in either case,
from the seed and space alone.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from msdrnn.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

# gp_minimize's defaults (skopt 0.10.2), which the original study used
N_POINTS = 10000
N_RESTARTS_OPTIMIZER = 5
XI = 0.01
# The original study's kappa (LCB's weight of the model's uncertainty): the default of
# Acquisition and of bayes_propose.py --kappa; the configs' bayes.kappa say the same
KAPPA = 1.9
PRIORS = ("uniform", "log-uniform")
DIMENSION_KINDS = ("int", "real", "cat")
KINDS = ("random", "guided")
# What a proposal.json holds besides the point and the constants (its bookkeeping, not
# hyperparameters of the model): bayes_propose.py writes them, bayes_collect.py reads them
PROPOSAL_FIELDS = ("trial", "kind", "substituted", "substitution", "batch_size",
                   "replay_differences")
# The config form of a dimension, as errors state it
CONFIG_FORMS = ("{int: [LOW, HIGH]}, {real: [LOW, HIGH]} (either with an optional "
                "prior: uniform | log-uniform) or {categories: [V1, V2, ...]}")
NAME = re.compile(r"[A-Za-z_]\w*")
# The proposals' linear algebra runs on one thread: a proposal job has one core, and on a
# busy machine OpenBLAS's threads made the replay about three times slower
BLAS_THREADS = 1


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool) and math.isfinite(value))


def _dimension_problem(kind: str, low, high, prior: str, categories) -> str | None:
    """Why these values describe no dimension of `kind`, or None."""
    if kind not in DIMENSION_KINDS:
        return f"kind must be one of {DIMENSION_KINDS}; got '{kind}'"
    if kind == "cat":
        if low is not None or high is not None or prior != "uniform":
            return "a categorical dimension has categories only, no range or prior"
        if (categories is None or not categories or not all(map(_is_int, categories))
                or len(set(categories)) != len(categories)):
            return (f"expected distinct integer categories; got "
                    f"{None if categories is None else list(categories)}")
        return None
    if categories is not None:
        what = "an integer" if kind == "int" else "a real"
        return f"{what} range has no categories; got {list(categories)}"
    number = _is_int if kind == "int" else _is_real
    if not (number(low) and number(high)) or not low < high:
        what = "integers" if kind == "int" else "finite numbers"
        return f"expected {what} LOW < HIGH (skopt's ranges); got {low}..{high}"
    if prior not in PRIORS:
        return f"prior must be one of {PRIORS}; got '{prior}'"
    if prior == "log-uniform" and kind == "int" and low < 1:
        return f"a log-uniform integer range must start at 1 or more; got {low}"
    if prior == "log-uniform" and low <= 0:
        return f"a log-uniform range must start above 0; got {low}"
    return None


@dataclass(frozen=True)
class Dimension:
    """One named dimension of a search space: an integer range (``kind="int"``, ``low``
    and ``high`` both included) or a real range (``"real"``, e.g. a dropout rate in
    0..0.5), each with a prior, or a categorical list of integers (``"cat"``,
    ``categories``). Made from the config by ``space_from_config``."""

    name: str
    kind: str
    low: int | float | None = None
    high: int | float | None = None
    prior: str = "uniform"
    categories: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME.fullmatch(self.name):
            raise ConfigError(f"dimension {self.name!r}: expected a name of letters, digits "
                              "and underscores")
        problem = _dimension_problem(self.kind, self.low, self.high, self.prior,
                                     self.categories)
        if problem:
            raise ConfigError(f"dimension '{self.name}': {problem}")
        if self.kind == "real":  # one spelling of a bound: 0 and 0.0 are the same range
            object.__setattr__(self, "low", float(self.low))
            object.__setattr__(self, "high", float(self.high))
        elif self.kind == "int":
            object.__setattr__(self, "low", int(self.low))
            object.__setattr__(self, "high", int(self.high))
        else:
            object.__setattr__(self, "categories", tuple(int(c) for c in self.categories))

    def skopt(self):
        """The skopt dimension (``Integer``, ``Real`` or ``Categorical``)."""
        from skopt.space import Categorical, Integer, Real

        if self.kind == "cat":
            return Categorical(list(self.categories), name=self.name)
        kind = Integer if self.kind == "int" else Real
        return kind(self.low, self.high, prior=self.prior, name=self.name)

    def spec(self) -> str:
        """The command-line form: ``steps=cat:2,3,4``, ``width=int:32..1024:log-uniform``,
        ``dropout=real:0.0..0.5`` (a real bound as Python's ``repr``: read back exactly)."""
        if self.kind == "cat":
            return f"{self.name}=cat:{','.join(str(c) for c in self.categories)}"
        prior = "" if self.prior == "uniform" else f":{self.prior}"
        return f"{self.name}={self.kind}:{self.low!r}..{self.high!r}{prior}"

    def value(self, value: object) -> int | float:
        """A value of this dimension as the proposal writes it: an int, or a float for a
        real dimension (skopt hands out NumPy scalars)."""
        return float(value) if self.kind == "real" else int(value)

    def contains(self, value: object) -> bool:
        """Whether `value` is a point of this dimension: an integer of the range or the
        categories, or a finite number of a real range."""
        if self.kind == "real":
            return _is_real(value) and self.low <= value <= self.high
        if not _is_int(value):
            return False
        if self.kind == "cat":
            return int(value) in self.categories
        return self.low <= value <= self.high


def parse_dimension(text: str) -> Dimension:
    """A ``Dimension`` from its command-line form (see ``Dimension.spec``)."""
    expected = ("expected NAME=int:LOW..HIGH[:log-uniform], NAME=real:LOW..HIGH"
                f"[:log-uniform] or NAME=cat:V1,V2,...; got '{text}'")
    name, _, rest = text.partition("=")
    kind, _, values = rest.partition(":")
    try:
        if kind == "cat":
            categories = tuple(int(v) for v in values.split(","))
            return Dimension(name, "cat", categories=categories)
        if kind in ("int", "real"):
            bounds, _, prior = values.partition(":")
            low, sep, high = bounds.partition("..")
            number = int if kind == "int" else float
            if sep:
                return Dimension(name, kind, number(low), number(high), prior or "uniform")
    except ConfigError as err:
        raise ConfigError(f"search dimension '{text}': {err}") from None
    except ValueError:
        pass
    raise ConfigError(f"search dimension: {expected}")


def space_from_config(space: Mapping, where: str = "space") -> list[Dimension]:
    """The dimensions of a search space written in the config's form, in its order (the
    order skopt sees them), e.g.::

        width: {int: [32, 1024], prior: log-uniform}
        depth: {categories: [1, 2, 3]}
        dropout: {real: [0.0, 0.5]}

    `where` names the space in errors (``models.mlp.space``): a bad dimension is one
    ``ConfigError`` naming it and the form expected, before any search runs."""
    if not isinstance(space, Mapping) or not space:
        raise ConfigError(f"{where}: expected a mapping of dimension names to "
                          f"{CONFIG_FORMS}; got {space!r}")
    return [_dimension_from_config(name, value, f"{where}.{name}")
            for name, value in space.items()]


def _dimension_from_config(name: str, value: object, where: str) -> Dimension:
    expected = f"expected {CONFIG_FORMS}; got {value!r}"
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(f"{where}: expected a dimension name of letters, digits and "
                          "underscores")
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {expected}")
    kinds = [key for key in ("int", "real", "categories") if key in value]
    unknown = sorted(set(value) - {"int", "real", "categories", "prior"}, key=str)
    if len(kinds) != 1 or unknown:
        raise ConfigError(f"{where}: {expected}" + (f" (unknown keys {unknown})"
                                                    if unknown else ""))
    key = kinds[0]
    values = value[key]
    if key == "categories":
        if "prior" in value:
            raise ConfigError(f"{where}: a prior applies to int and real ranges only; "
                              f"got {value!r}")
        if not isinstance(values, (list, tuple)):
            raise ConfigError(f"{where}: expected categories: [V1, V2, ...], distinct "
                              f"integers; got {values!r}")
        kind, low, high, prior, categories = "cat", None, None, "uniform", tuple(values)
    else:
        if not isinstance(values, (list, tuple)) or len(values) != 2:
            raise ConfigError(f"{where}: expected {key}: [LOW, HIGH]; got {values!r}")
        kind, (low, high), prior, categories = key, values, value.get("prior", "uniform"), None
    problem = _dimension_problem(kind, low, high, prior, categories)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return Dimension(name, kind, low, high, prior, categories)


def config_spaces(config: Mapping) -> dict[str, list[Dimension]]:
    """Every Bayesian search a workflow config runs, {model name: its dimensions, in
    skopt's order}: each model of ``models:`` with a ``space`` (a model with ``hparams``
    has no search), read by ``space_from_config``. The one place the rules (their
    ``--dimension`` flags) and the gp_minimize tests read a search's space from."""
    return {name: space_from_config(block["space"], f"models.{name}.space")
            for name, block in config["models"].items() if "space" in block}


def constant_spec(name: str, value: object) -> str:
    """The command-line form of a value every proposal of a search carries as it is (the
    RNN trials' readout): ``readout=true``, read back by ``parse_constant``; quoted for
    the shell when the JSON needs it (a string)."""
    return shlex.quote(f"{name}={json.dumps(value)}")


def parse_constant(text: str) -> tuple[str, object]:
    """``readout=true`` -> ("readout", True): a JSON value under a name."""
    name, sep, value = text.partition("=")
    try:
        if not (sep and name):
            raise ValueError
        return name, json.loads(value)
    except ValueError:
        raise ConfigError(f"--constant: expected NAME=JSON-VALUE (e.g. readout=true); "
                          f"got '{text}'") from None


@dataclass(frozen=True)
class SearchSpace:
    """Named dimensions, in the order skopt sees them."""

    dimensions: tuple[Dimension, ...]

    def __post_init__(self) -> None:
        names = [d.name for d in self.dimensions]
        clash = sorted({n for n in names if names.count(n) > 1} | set(names) & set(
            PROPOSAL_FIELDS))
        if not names or clash:
            raise ConfigError(f"search space: expected at least one dimension, with distinct "
                              f"names other than {list(PROPOSAL_FIELDS)}; got {names}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def skopt_dimensions(self) -> list:
        return [d.skopt() for d in self.dimensions]

    def values(self, point: Sequence) -> tuple[int | float, ...]:
        """A point (in dimension order) as Python ints and floats."""
        return tuple(d.value(v) for d, v in zip(self.dimensions, point, strict=True))

    def named(self, point: Sequence) -> dict[str, int | float]:
        """{name: value} of a point given in dimension order."""
        return dict(zip(self.names, self.values(point), strict=True))

    def point(self, values: Mapping[str, object],
              source: str = "point") -> tuple[int | float, ...]:
        """The point (in dimension order) of named values, checked to lie in the space;
        ``source`` names where they were read from in the ``DataError``."""
        missing = [name for name in self.names if name not in values]
        if missing:
            raise DataError(f"{source}: missing keys {missing}; expected {list(self.names)}")
        for dim in self.dimensions:
            if not dim.contains(values[dim.name]):
                raise DataError(f"{source}: '{dim.name}' = {values[dim.name]!r} is not in the "
                                f"search space ({dim.spec()})")
        return self.values([values[name] for name in self.names])


@dataclass(frozen=True)
class Acquisition:
    """How the guided trials are chosen: gp_minimize's acquisition arguments and the
    number of points proposed per round."""

    kappa: float = KAPPA
    acq_func: str = "LCB"
    batch_size: int = 1
    xi: float = XI


@dataclass(frozen=True)
class Proposal:
    """The point of one trial, whether skopt's acquisition chose it, whether skopt
    replaced the acquisition's point because it had been evaluated before, and what makes
    it differ from gp_minimize's point (its round's size, the replay's differences)."""

    point: tuple[int | float, ...]
    kind: str  # "random" or "guided"
    substitution: str | None = None  # why the acquisition's own point was replaced
    batch_size: int = 1  # points of the trial's round: 1 for a random start
    # earlier trials whose recorded point is not what the replay asked for (another
    # machine's numerics, hand-edited files): their recorded points were told all the same
    replay_differences: tuple[int, ...] = ()

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
    earlier: Sequence[tuple[Sequence, float]],
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


def _replay(trial: int, space: SearchSpace, earlier: Sequence[tuple[Sequence, float]],
            *, seed: int, n_initial: int, acquisition: Acquisition) -> Proposal:
    """gp_minimize's loop up to `trial`: ask a round, tell its recorded results, repeat;
    a recorded point the replay did not ask for is noted in ``replay_differences``."""
    opt = optimizer(space, seed=seed, n_initial=n_initial, acquisition=acquisition)
    if trial < n_initial:
        # random draws do not depend on the results told: ask, ask, ... as gp_minimize does
        for _ in range(trial):
            opt.ask()
        return Proposal(space.values(opt.ask()), "random")
    done, differs = 0, []
    while True:
        size = 1 if done < n_initial else acquisition.batch_size
        asked = _ask(opt, space, size, done < n_initial)
        if done <= trial < done + size:
            return replace(asked[trial - done], batch_size=size,
                           replay_differences=tuple(differs))
        told = [space.values(point) for point, _ in earlier[done:done + size]]
        differs += [done + i for i, (proposal, point) in enumerate(zip(asked, told, strict=True))
                    if proposal.point != point]
        values = [-float(value) for _, value in earlier[done:done + size]]  # skopt minimises
        if size == 1:
            opt.tell(list(told[0]), values[0])
        else:
            opt.tell([list(point) for point in told], values)
        done += size


def _ask(opt, space: SearchSpace, size: int, random_start: bool) -> list[Proposal]:
    """What ``opt.ask()`` (size 1) or ``opt.ask(n_points=size)`` returns, each point with
    its kind and substitution."""
    if random_start:
        return [Proposal(space.values(opt.ask()), "random")]
    if size == 1:
        return [_ask_one(opt, space)]
    # skopt's ask(n_points, strategy="cl_min"), step by step so that each point's
    # substitution can be seen; tests/test_search.py checks it gives skopt's points
    liar = opt.copy(random_state=opt.rng.randint(0, np.iinfo(np.int32).max))
    batch = []
    for _ in range(size):
        proposal = _ask_one(liar, space)
        batch.append(proposal)
        liar._tell(list(proposal.point), np.min(liar.yi))
    return batch


def _ask_one(opt, space: SearchSpace) -> Proposal:
    """``opt.ask()`` of a guided trial, and why it is not the acquisition's minimum when
    skopt replaced a point evaluated before (within skopt's distance of 1e-8)."""
    planned = space.values(opt._next_x)
    candidates = [space.values(opt.space.inverse_transform(x.reshape((1, -1)))[0])
                  for x in getattr(opt, "next_xs_", [])]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The objective has been evaluated")
        point = space.values(opt.ask())
    if point == planned:
        return Proposal(point, "guided")
    earlier = [i for i, x in enumerate(opt.Xi) if opt.space.distance(list(planned), x) <= 1e-8]
    seen = (f"the acquisition's point {list(planned)} was evaluated before"
            + (f" (trial {earlier[0]})" if earlier else ""))
    if point in candidates:
        return Proposal(point, "guided", f"{seen}; skopt took another acquisition "
                                         "function's candidate")
    return Proposal(point, "random", f"{seen}; skopt drew a random point instead")


# the columns of trials.csv that search_note reads
NOTE_COLUMNS = ("trial", "kind", "substituted", "batch_size", "replay_differences")


def search_note(trials: pd.DataFrame, label: str = "Search") -> str:
    """The summary's line on how a search's points were made, from its trials.csv
    (``bayes_collect.py``): ``gp_minimize``'s points, point for point, when every guided
    trial was proposed alone (batch size 1) and no replay asked for another point than was
    recorded; otherwise what made them differ. A search of random starts only says so."""
    missing = [column for column in NOTE_COLUMNS if column not in trials.columns]
    if missing:
        raise DataError(f"trials: missing columns {missing}; expected {list(NOTE_COLUMNS)} "
                        "(a trials.csv of bayes_collect.py)")
    differences = [(int(trial), _trial_list(value)) for trial, value
                   in zip(trials["trial"], trials["replay_differences"], strict=True)]
    guided = (trials["kind"] == "guided") | trials["substituted"].astype(bool)
    if not guided.any():
        return f"{label}: random points only ({len(trials)} random starts, no guided trial)"
    sizes = sorted({int(size) for size in trials.loc[guided, "batch_size"]})
    differing = sorted({i for _, listed in differences for i in listed})
    if sizes == [1] and not differing:
        return f"{label}: gp_minimize point for point (batch size 1, no replay difference)"
    reasons = []
    if sizes != [1]:
        reasons.append(f"guided points proposed in rounds of {', '.join(map(str, sizes))} "
                       "(skopt's constant liar: a round's points do not see each other's "
                       "results)")
    if differing:
        first = min(trial for trial, listed in differences if listed)
        reasons.append(f"the recorded points of trials {differing} are not what the replay "
                       "asked for (another machine's numerics or edited files), and trials "
                       f"{first} on were proposed from the recorded ones")
    return f"{label}: not gp_minimize point for point: " + "; ".join(reasons)


def _trial_list(value: object) -> list[int]:
    """The trial numbers of a ``replay_differences`` cell: a JSON list such as ``[3, 5]``."""
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    try:
        listed = json.loads(str(value))
        if isinstance(listed, list) and all(map(_is_int, listed)):
            return [int(v) for v in listed]
    except ValueError:
        pass
    raise DataError(f"trials: replay_differences = {value!r}; expected a JSON list of "
                    "trial numbers such as [] or [3, 5]")

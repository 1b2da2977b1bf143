"""The Bayesian searches: objective, spaces read from the config (integer, real and
categorical), proposals replayed exactly as gp_minimize makes them (26 calls, trial by
trial, for every search of the default config and the registry's spaces with a dropout
rate, through the library and the script), skopt's substitution of repeated points,
batches, what a proposal records about its faithfulness, collection, the summary's line,
one kappa, the MLP's hyperparameters."""

from __future__ import annotations

import functools
import io
import json
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import workflow_config
from threadpoolctl import threadpool_limits

from msdrnn.errors import ConfigError, DataError
from msdrnn.search import (
    BLAS_THREADS,
    KAPPA,
    Acquisition,
    Dimension,
    SearchSpace,
    config_spaces,
    constant_spec,
    objective,
    optimizer,
    parse_constant,
    parse_dimension,
    propose,
    search_note,
    space_from_config,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow_scripts"
PAPER = {"seed": 0, "n_initial": 1, "acquisition": Acquisition(kappa=KAPPA, acq_func="LCB")}

# The compared models' spaces that the default config does not search yet (the MLP with
# its dropout rate, the temporal convolutional network), in the config's own form
REGISTRY_SPACES = yaml.safe_load("""
mlp_dropout:
  width: {int: [32, 1024], prior: log-uniform}
  depth: {categories: [1, 2, 3]}
  dropout: {real: [0.0, 0.5]}
cnn:
  channels: {int: [8, 128], prior: log-uniform}
  kernel: {categories: [3, 5, 7]}
  layers: {categories: [1, 2, 3]}
  dropout: {real: [0.0, 0.5]}
""")


def search_spaces(config_file: str = "config.yaml") -> dict[str, SearchSpace]:
    """Every search of a workflow config file with its space, read as the rules read it
    (``msdrnn.search.config_spaces``): the spaces the workflow runs are the ones tested."""
    config = yaml.safe_load((ROOT / config_file).read_text())
    return {name: SearchSpace(tuple(dims)) for name, dims in config_spaces(config).items()}


def search_cases() -> dict[str, SearchSpace]:
    """The default config's searches, then each registry space not among them."""
    cases = search_spaces()
    for name, table in REGISTRY_SPACES.items():
        space = SearchSpace(tuple(space_from_config(table, name)))
        if space not in cases.values():
            cases[name] = space
    return cases


SEARCHES = search_cases()
SPACE = SEARCHES["rnn"]  # the RNN's: state size 15..500 and the 14 steps values


def fake_objective(space: SearchSpace):
    """A smooth stand-in for a trial's objective (maximised) over any space: a bowl around
    68% of each range (on the prior's scale; state size 345 of 15..500) and a small cost
    per category away from the third; it makes gp_minimize repeat points, so skopt
    substitutes some."""

    def score(point) -> float:
        total = 0.55
        for dim, value in zip(space.dimensions, point, strict=True):
            if dim.kind == "cat":
                total -= 0.005 * abs(dim.categories.index(value) - 2)
                continue
            scale = np.log if dim.prior == "log-uniform" else float
            low, high, x = scale(dim.low), scale(dim.high), scale(value)
            total -= ((x - low) / (high - low) - 0.68) ** 2
        return float(total)

    return score


def gp_minimize_run(space: SearchSpace, n_calls: int, n_initial: int, kappa: float = KAPPA,
                    seed: int = 0):
    """gp_minimize's points and objective values (negated scores) on the fake objective,
    and the points it warned it substituted; with the proposals' BLAS thread count."""
    from skopt import gp_minimize

    score = fake_objective(space)
    with threadpool_limits(limits=BLAS_THREADS), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = gp_minimize(lambda x: -score(x), space.skopt_dimensions(), n_calls=n_calls,
                             n_initial_points=n_initial, acq_func="LCB", kappa=kappa,
                             random_state=seed)
    points = [space.values(x) for x in result.x_iters]
    scores = [-float(y) for y in result.func_vals]
    # "... before, using random point [np.int64(388), 3]"
    texts = [re.sub(r"np\.\w+\(([^)]*)\)", r"\1", str(w.message)) for w in seen]
    replaced = {space.values(json.loads(text.split("using random point")[1]))
                for text in texts if "using random point" in text}
    return points, scores, replaced


@functools.cache
def paper_run(search: str):
    """The original study's search arguments (26 calls, 1 random start, LCB, kappa 1.9)
    on the fake objective, through gp_minimize."""
    return gp_minimize_run(SEARCHES[search], n_calls=26, n_initial=1)


def test_objective_is_mean_of_top_ten_percent():
    accuracies = [0.1 * i for i in range(25)]  # top two of 25: 2.4 and 2.3
    assert objective(accuracies, 0.1) == pytest.approx(2.35)
    assert objective([0.3, 0.5, 0.4], 0.1) == pytest.approx(0.5)  # at least one
    with pytest.raises(ValueError):
        objective([], 0.1)


def test_the_default_config_searches_the_studys_spaces():
    """The rules' command lines of config.yaml's and the smoke study's spaces: every kind
    of dimension the config form spells, and the same text the rules wrote before the
    config form (so no proposal reruns)."""
    steps = "2,3,4,5,6,8,10,12,15,20,24,30,40,60"
    specs = {name: [d.spec() for d in space.dimensions]
             for name, space in search_spaces().items()}
    assert specs == {"rnn": ["state_size=int:15..500", f"steps=cat:{steps}"],
                     "mlp": ["width=int:32..1024:log-uniform", "depth=cat:1,2,3",
                             "dropout=real:0.0..0.5"],
                     "cnn": ["channels=int:8..64:log-uniform", "kernel=cat:3,5,7",
                             "layers=cat:1,2,3", "dropout=real:0.0..0.5"]}
    smoke = workflow_config("configs/smoke.yaml")
    assert {name: [d.spec() for d in dims] for name, dims in config_spaces(smoke).items()} \
        == {"rnn": ["state_size=int:15..40", "steps=cat:4,6,10"],
            "mlp": ["width=int:16..64:log-uniform", "depth=cat:1,2", "dropout=real:0.0..0.5"],
            "cnn": ["channels=int:4..16:log-uniform", "kernel=cat:3,5", "layers=cat:1,2",
                    "dropout=real:0.0..0.5"]}
    fixed = {"hparams": {"width": 32, "depth": 1, "dropout": 0.0}}
    without = smoke | {"models": {"rnn": smoke["models"]["rnn"], "mlp": fixed}}
    assert list(config_spaces(without)) == ["rnn"]  # a model with hparams has no search


def test_config_spaces_give_every_kind_of_dimension():
    assert space_from_config(REGISTRY_SPACES["cnn"], "models.cnn.space") == [
        Dimension("channels", "int", 8, 128, "log-uniform"),
        Dimension("kernel", "cat", categories=(3, 5, 7)),
        Dimension("layers", "cat", categories=(1, 2, 3)),
        Dimension("dropout", "real", 0.0, 0.5)]
    dropout = space_from_config({"dropout": {"real": [0, 0.5]}})[0]
    assert (dropout.low, dropout.spec()) == (0.0, "dropout=real:0.0..0.5")  # a float bound
    assert type(dropout.skopt()).__name__ == "Real"
    rate = space_from_config({"rate": {"real": [1e-5, 0.1], "prior": "log-uniform"}})[0]
    assert rate.spec() == "rate=real:1e-05..0.1:log-uniform"
    for space in SEARCHES.values():  # the command line reads back what the rules write
        for dim in space.dimensions:
            assert parse_dimension(dim.spec()) == dim


@pytest.mark.parametrize(("space", "message"), [
    ({}, r"models\.x\.space: expected a mapping of dimension names"),
    ([1, 2], r"models\.x\.space: expected a mapping"),
    ({"width": [32, 1024]}, r"models\.x\.space\.width: expected \{int: \[LOW, HIGH\]\}, "
                            r"\{real: \[LOW, HIGH\]\}.* or \{categories: \[V1, V2, \.\.\.\]\}"),
    ({"width": {"int": [32]}}, r"space\.width: expected int: \[LOW, HIGH\]; got \[32\]"),
    ({"width": {"int": [32, 10.5]}}, r"space\.width: expected integers LOW < HIGH"),
    ({"width": {"int": [64, 32]}}, r"space\.width: expected integers LOW < HIGH.*64\.\.32"),
    ({"width": {"int": [0, 32], "prior": "log-uniform"}},
     r"space\.width: a log-uniform integer range must start at 1"),
    ({"width": {"int": [1, 32], "prior": "normal"}}, r"space\.width: prior must be one of"),
    ({"width": {"int": [1, 32], "real": [0, 1]}}, r"space\.width: expected \{int"),
    ({"width": {"int": [1, 32], "step": 2}}, r"space\.width: .*unknown keys \['step'\]"),
    ({"dropout": {"real": [0.5, 0.0]}}, r"space\.dropout: expected finite numbers LOW < HIGH"),
    ({"dropout": {"real": [0.0, True]}}, r"space\.dropout: expected finite numbers"),
    ({"dropout": {"real": [0.0, 0.5], "prior": "log-uniform"}},
     r"space\.dropout: a log-uniform range must start above 0"),
    ({"depth": {"categories": []}}, r"space\.depth: expected distinct integer categories"),
    ({"depth": {"categories": [1, 1]}}, r"space\.depth: expected distinct integer categories"),
    ({"depth": {"categories": [1, 2.5]}}, r"space\.depth: expected distinct integer"),
    ({"depth": {"categories": 3}}, r"space\.depth: expected categories: \[V1, V2, \.\.\.\]"),
    ({"depth": {"categories": [1, 2], "prior": "log-uniform"}},
     r"space\.depth: a prior applies to int and real ranges only"),
    ({"bad-name": {"int": [1, 2]}}, r"space\.bad-name: expected a dimension name"),
])
def test_bad_config_spaces_name_the_dimension_and_the_form(space, message):
    with pytest.raises(ConfigError, match=message):
        space_from_config(space, "models.x.space")


def test_dimensions_parse_from_their_command_line_form():
    for dim in (Dimension("state_size", "int", 15, 500),
                Dimension("width", "int", 32, 1024, "log-uniform"),
                Dimension("dropout", "real", 0.0, 0.5),
                Dimension("rate", "real", 0.001, 0.25, "log-uniform"),
                Dimension("steps", "cat", categories=(2, 3, 4))):
        assert parse_dimension(dim.spec()) == dim
    for text in ("width", "width=int:32", "width=int:a..b", "steps=cat:", "w=float:1..2",
                 "w=int:9..3", "w=int:3..3", "w=int:0..8:log-uniform", "w=int:1..8:normal",
                 "d=cat:1,1", "r=real:0.5..0.1", "r=real:0..1:log-uniform", "r=real:0..nan",
                 "w=int:1.5..8", "=int:1..8", "a=b=int:1..8"):
        with pytest.raises(ConfigError):
            parse_dimension(text)


def test_constants_round_trip_their_command_line_form():
    assert constant_spec("readout", True) == "readout=true"
    assert constant_spec("act", "relu") == "'act=\"relu\"'"  # quoted for the shell
    assert parse_constant("readout=true") == ("readout", True)
    with pytest.raises(ConfigError, match="expected NAME=JSON-VALUE"):
        parse_constant("readout=yes")


def test_points_are_checked_against_the_space():
    space = SEARCHES["cnn"]
    good = {"channels": 16, "kernel": 5, "layers": 2, "dropout": 0.25, "trial": 3}
    assert space.point(good) == (16, 5, 2, 0.25)
    assert space.point(good | {"dropout": 0}) == (16, 5, 2, 0.0)
    assert type(space.point(good | {"dropout": 0})[3]) is float
    assert space.named((16, 5, 2, np.float64(0.5))) == {"channels": 16, "kernel": 5,
                                                         "layers": 2, "dropout": 0.5}
    with pytest.raises(DataError, match="p.json: missing keys \\['layers'\\]"):
        space.point({"channels": 16, "kernel": 5, "dropout": 0.1}, "p.json")
    for bad in ({"channels": 4}, {"kernel": 4}, {"channels": 16.0}, {"channels": True},
                {"dropout": 0.6}, {"dropout": True}, {"dropout": float("nan")},
                {"dropout": "0.1"}):
        with pytest.raises(DataError, match="is not in the search space"):
            space.point(good | bad, "p.json")
    with pytest.raises(ConfigError, match="distinct names other than"):
        SearchSpace((Dimension("trial", "int", 1, 2),))


def on_one_worker(searches) -> list:
    """The searches as parameters of a test, each in the xdist group of its ``paper_run``,
    so that the tests of one search run in one worker and its cache computes the run once."""
    return [pytest.param(search, marks=pytest.mark.xdist_group(f"paper_run_{search}"))
            for search in searches]


@pytest.mark.slow
@pytest.mark.parametrize("search", on_one_worker(SEARCHES))
def test_every_trial_of_26_is_gp_minimizes_point(search, monkeypatch):
    """All 26 trials of the original study's search settings, for every search of the
    default config and the registry's spaces. A workflow job proposes trial k from a fresh
    process: it replays trials 0..k-1 (ask, tell the recorded result) and asks once more.
    So the job of the last trial asks every earlier trial's point on its way, each from the
    state the job of that trial asks it in: those asks, recorded, are checked one by one
    (one replay, O(n) model fits; a job per trial is O(n^2)), and jobs of their own for the
    first guided trial, a middle one and every substituted one give the same proposals."""
    from msdrnn import search as search_module

    space = SEARCHES[search]
    points, scores, replaced = paper_run(search)
    if search == "rnn":
        assert len(replaced) >= 2  # the comparison covers skopt's substitutions
    started = time.monotonic()
    asked = []
    ask = search_module._ask

    def recorded_ask(*args, **kwargs):
        batch = ask(*args, **kwargs)
        asked.extend(batch)
        return batch

    monkeypatch.setattr(search_module, "_ask", recorded_ask)
    history = list(zip(points, scores, strict=True))
    last = propose(25, space, history[:25], **PAPER)
    monkeypatch.undo()
    assert len(asked) == 26 and last == asked[25]
    assert last.replay_differences == ()  # every trial the replay asked was the one told
    for trial, proposal in enumerate(asked):
        assert proposal.point == points[trial], trial
        assert [type(v) for v in proposal.point] == [type(v) for v in points[trial]]
        assert proposal.replay_differences == () and proposal.batch_size == 1
        assert proposal.substituted == (proposal.point in replaced and trial > 0), trial
        expected_kind = "random" if trial == 0 or proposal.substituted else "guided"
        assert proposal.kind == expected_kind, trial
        if proposal.substituted:
            assert "was evaluated before" in proposal.substitution
            assert "random point" in proposal.substitution
    jobs = sorted({1, 13} | {trial for trial, p in enumerate(asked) if p.substituted})
    for trial in jobs:
        assert propose(trial, space, history[:trial], **PAPER) == asked[trial], trial
    print(f"{search}: 26 of 26 proposals are gp_minimize's, replayed in "
          f"{time.monotonic() - started:.0f} s ({len(replaced)} substituted; jobs of their "
          f"own for trials {jobs})")


def write_trial(folder: Path, trial: int, point: dict, score: float, kind: str = "guided",
                **fields) -> tuple[Path, Path]:
    """A finished trial whose objective is `score`: its proposal and a one-epoch history."""
    folder.mkdir(parents=True, exist_ok=True)
    proposal = folder / "proposal.json"
    proposal.write_text(json.dumps({"trial": trial, "kind": kind, **point, "readout": True,
                                    "substituted": False, "substitution": None,
                                    "batch_size": 1, "replay_differences": []} | fields))
    history = folder / "history.csv"
    history.write_text("epoch,train_loss,train_acc,valid_loss,valid_acc,seconds\n"
                       f"1,1.0,0.5,1.0,{score!r},1.0\n")
    return proposal, history


def run_propose(args: list) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / "bayes_propose.py"),
                           *[str(a) for a in args]], capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("search", on_one_worker(["rnn", "cnn"]))
def test_propose_script_gives_gp_minimizes_points(tmp_path, search):
    """bayes_propose.py through its command line, for a random start, a guided trial and
    the first trial skopt substituted (or trial 5): the RNN's space, and a space with a
    real dimension, whose floats go through proposal.json and back exactly."""
    space = SEARCHES[search]
    points, scores, replaced = paper_run(search)
    last = next((i for i, p in enumerate(points) if i > 0 and p in replaced), 5)
    files = [write_trial(tmp_path / f"trial_{i:03d}", i, space.named(p), s)
             for i, (p, s) in enumerate(zip(points[:last], scores, strict=False))]
    for trial in (0, 1, last):
        out = tmp_path / f"proposal_{trial}.json"
        result = run_propose([
            "--trial", f"{trial:03d}", "--seed", 0,
            *[arg for d in space.dimensions for arg in ("--dimension", d.spec())],
            "--constant", "readout=true", "--n-initial", 1, "--acq-func", "LCB",
            "--top-fraction", 0.1,
            "--proposals", *[p for p, _ in files[:trial]],
            "--histories", *[h for _, h in files[:trial]], "--out", out])
        assert result.returncode == 0, result.stderr
        proposal = json.loads(out.read_text())
        assert space.values([proposal[name] for name in space.names]) == points[trial]
        assert space.point(proposal) == points[trial], trial  # the JSON's types too
        assert proposal["trial"] == trial and proposal["readout"] is True
        assert (proposal["batch_size"], proposal["replay_differences"]) == (1, [])
        substituted = points[trial] in replaced and trial > 0
        assert proposal["substituted"] is substituted
        assert proposal["kind"] == ("random" if trial == 0 or substituted else "guided")
        assert ("evaluated before" in proposal["substitution"] if substituted
                else proposal["substitution"] is None)


def test_proposals_record_their_round_and_replay_differences(tmp_path, caplog):
    """A guided trial of a batched search whose earlier points were edited records both,
    and says so in the log; a random start is a round of one, whatever the batch size."""
    import bayes_propose

    space = SEARCHES["mlp"]
    assert propose(1, space, [], seed=0, n_initial=2,
                   acquisition=Acquisition(batch_size=3)).batch_size == 1
    edited = [{"width": 40, "depth": 1, "dropout": 0.125},
              {"width": 500, "depth": 3, "dropout": 0.375}]
    files = [write_trial(tmp_path / f"trial_{i:03d}", i, point, 0.3 + 0.1 * i, "random")
             for i, point in enumerate(edited)]
    out = tmp_path / "proposal.json"
    assert bayes_propose.main([
        "--trial", "2", "--seed", "0", *[arg for d in space.dimensions
                                         for arg in ("--dimension", d.spec())],
        "--n-initial", "2", "--batch-size", "2", "--proposals", *[str(p) for p, _ in files],
        "--histories", *[str(h) for _, h in files], "--out", str(out)]) == 0
    proposal = json.loads(out.read_text())
    assert (proposal["batch_size"], proposal["replay_differences"]) == (2, [0, 1])
    assert "recorded for trials [0, 1]" in caplog.text
    assert isinstance(proposal["dropout"], float) and 0 <= proposal["dropout"] <= 0.5
    assert proposal["kind"] == "guided" and 32 <= proposal["width"] <= 1024


def test_several_random_starts_and_real_dimensions_follow_gp_minimize():
    """n_initial > 1 (random starts drawn one by one), a log-uniform integer and a real
    dimension (the MLP with its dropout rate), whose proposals are floats."""
    space = SEARCHES["mlp"]
    points, scores, _ = gp_minimize_run(space, n_calls=5, n_initial=3)
    for trial in range(5):
        earlier = list(zip(points, scores, strict=True))[:trial] if trial >= 3 else []
        proposal = propose(trial, space, earlier, seed=0, n_initial=3)
        assert proposal.point == points[trial], trial
        assert proposal.kind == ("random" if trial < 3 or proposal.substituted else "guided")
        assert type(proposal.point[2]) is float and 0 <= proposal.point[2] <= 0.5
        assert 32 <= proposal.point[0] <= 1024 and proposal.point[1] in (1, 2, 3)


def test_random_starts_depend_on_the_seed_and_space_only():
    settings = [Acquisition(kappa=0.01), Acquisition(kappa=50, batch_size=3)]
    starts = {propose(1, SPACE, [], seed=0, n_initial=2, acquisition=a).point
              for a in settings}
    assert len(starts) == 1
    assert propose(1, SPACE, [], seed=1, n_initial=2).point not in starts


def test_guided_trials_depend_on_kappa():
    earlier = [((15, 24), 0.3), ((400, 4), 0.5)]
    low = propose(2, SPACE, earlier, seed=0, n_initial=1,
                  acquisition=Acquisition(kappa=0.01, batch_size=1))
    high = propose(2, SPACE, earlier, seed=0, n_initial=1,
                   acquisition=Acquisition(kappa=50, batch_size=1))
    assert low.point != high.point


def test_one_kappa_default_the_studys():
    """The library's, the command line's and the shipped configs' kappa are the study's."""
    import bayes_propose

    assert KAPPA == 1.9
    assert Acquisition().kappa == bayes_propose.build_parser().get_default("kappa") == KAPPA
    for name in ("config.yaml", "configs/smoke.yaml", "configs/paper.yaml"):
        assert yaml.safe_load((ROOT / name).read_text())["bayes"]["kappa"] == KAPPA, name


def test_batch_rounds_are_skopts_constant_liar_batches():
    """A round of batch_size points is what skopt's ask(n_points, "cl_min") gives after
    the earlier rounds were told, and needs the results of every earlier round; points
    told that are not the batch's are the replay's differences."""
    points, scores, _ = gp_minimize_run(SPACE, n_calls=3, n_initial=1)
    batch = Acquisition(batch_size=2)
    # trials 1-2 are the first round, 3-4 the second; tell round one, ask round two
    first = [propose(t, SPACE, [(points[0], scores[0])], seed=0, n_initial=1,
                     acquisition=batch) for t in (1, 2)]
    second = [propose(t, SPACE, list(zip(points, scores, strict=True)), seed=0,
                      n_initial=1, acquisition=batch) for t in (3, 4)]
    with threadpool_limits(limits=BLAS_THREADS):
        opt = optimizer(SPACE, seed=0, n_initial=1, acquisition=batch)
        opt.tell(list(opt.ask()), -scores[0])
        assert opt.ask(n_points=2) == [list(p.point) for p in first]
        opt.tell([list(p) for p in points[1:3]], [-s for s in scores[1:3]])
        expected = [tuple(int(v) for v in x) for x in opt.ask(n_points=2)]
    assert [p.point for p in second] == expected
    assert len(set(expected)) == 2
    assert {p.batch_size for p in first + second} == {2}
    # gp_minimize's sequential points are not the batch's, from the first guided trial on
    assert first[0].point != points[1]
    differing = tuple(t for t, p in zip((1, 2), first, strict=True) if p.point != points[t])
    assert {p.replay_differences for p in second} == {differing}
    with pytest.raises(ValueError, match="needs the results of trials 0..2"):
        propose(4, SPACE, list(zip(points, scores, strict=True))[:2], seed=0, n_initial=1,
                acquisition=batch)


def collect_trials(tmp_path: Path, rows: list[dict], names: list[str]):
    """bayes_collect.py on proposals made of `rows` (each with its `score`)."""
    trials = []
    for trial, row in enumerate(rows):
        folder = tmp_path / f"trial_{trial:03d}"
        folder.mkdir()
        values = {k: v for k, v in row.items() if k != "score"}
        (folder / "proposal.json").write_text(json.dumps({
            "trial": trial, "kind": "guided", "substituted": False, "substitution": None,
            "batch_size": 1, "replay_differences": []} | values))
        (folder / "history.csv").write_text(
            "epoch,train_loss,train_acc,valid_loss,valid_acc,seconds\n"
            f"1,1.0,0.5,1.0,{row['score'] / 2},1.0\n2,1.0,0.5,1.0,{row['score']},1.0\n")
        trials.append(folder)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "bayes_collect.py"), "--top-fraction", "0.1",
         "--names", *names,
         "--proposals", *[str(t / "proposal.json") for t in trials],
         "--histories", *[str(t / "history.csv") for t in trials],
         "--trials-out", str(out / "trials.csv"), "--best-out", str(out / "best.json")],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return pd.read_csv(out / "trials.csv"), json.loads((out / "best.json").read_text())


def test_collect_writes_the_space_columns_the_rounds_and_best(tmp_path):
    rows = [{"width": 40, "depth": 1, "dropout": 0.0, "score": 0.3, "kind": "random"},
            {"width": 200, "depth": 2, "dropout": 0.123456789, "score": 0.6},
            {"width": 90, "depth": 3, "dropout": 0.5, "score": 0.6, "kind": "random",
             "substituted": True, "substitution": "why", "batch_size": 2,
             "replay_differences": [1]}]
    table, best = collect_trials(tmp_path, rows, ["width", "depth", "dropout"])
    assert list(table.columns) == ["trial", "kind", "width", "depth", "dropout",
                                   "substituted", "batch_size", "replay_differences",
                                   "objective", "max_valid_acc", "epoch_of_max",
                                   "running_best"]
    assert list(table["substituted"]) == [False, False, True]
    assert list(table["batch_size"]) == [1, 1, 2]
    assert list(table["replay_differences"]) == ["[]", "[]", "[1]"]
    assert list(table["running_best"]) == pytest.approx([0.3, 0.6, 0.6])
    # the first of two equal objectives; the exact float, without the search's bookkeeping
    assert best == {"width": 200, "depth": 2, "dropout": 0.123456789, "trial": 1,
                    "objective": pytest.approx(0.6), "trials": 3}


def trials_table(**columns) -> pd.DataFrame:
    """A trials.csv's note columns, written and read back as the summary reads them."""
    table = pd.DataFrame({"trial": range(4), "kind": ["random", "guided", "guided", "random"],
                          "substituted": [False, False, False, True], "batch_size": 1,
                          "replay_differences": ["[]"] * 4} | columns)
    return pd.read_csv(io.StringIO(table.to_csv(index=False)))


def test_search_note_says_whether_the_points_are_gp_minimizes():
    assert search_note(trials_table()) == \
        "Search: gp_minimize point for point (batch size 1, no replay difference)"
    assert search_note(trials_table(batch_size=[1, 2, 2, 2]), "RNN search") == (
        "RNN search: not gp_minimize point for point: guided points proposed in rounds of "
        "2 (skopt's constant liar: a round's points do not see each other's results)")
    assert search_note(trials_table(replay_differences=["[]", "[]", "[1]", "[1]"])) == (
        "Search: not gp_minimize point for point: the recorded points of trials [1] are "
        "not what the replay asked for (another machine's numerics or edited files), and "
        "trials 2 on were proposed from the recorded ones")
    both = search_note(trials_table(batch_size=[1, 2, 2, 2],
                                    replay_differences=["[]", "[]", "[]", "[1, 2]"]))
    assert "rounds of 2" in both and "trials [1, 2]" in both and "trials 3 on" in both
    assert search_note(trials_table(kind=["random"] * 4, substituted=[False] * 4)) == \
        "Search: random points only (4 random starts, no guided trial)"
    with pytest.raises(DataError, match=r"missing columns \['batch_size'\]"):
        search_note(trials_table().drop(columns="batch_size"))
    with pytest.raises(DataError, match="replay_differences = 'x'"):
        search_note(trials_table(replay_differences=["[]", "x", "[]", "[]"]))


def test_mlp_takes_width_depth_and_dropout_from_a_json_file(tmp_path):
    import train

    path = tmp_path / "best.json"
    path.write_text(json.dumps({"width": 96, "depth": 3, "dropout": 0.25, "trial": 4,
                                "objective": 0.5}))
    assert train.read_hparams(path, "mlp") == {"width": 96, "depth": 3, "dropout": 0.25}
    args = train.parse_args(["--dataset", "d.h5", "--out", "o", "--model", "mlp",
                             "--hparams", str(path), "--set", "width=7"])
    assert train.make_config(args, classes=10).hparams == {"width": 7, "depth": 3,
                                                           "dropout": 0.25}
    for values, message in (({"depth": 2.0}, "'depth' must be int"),
                            ({"state_size": 20}, "one or more of the keys")):
        path.write_text(json.dumps(values))
        with pytest.raises(ConfigError, match=message):
            args = train.parse_args(["--dataset", "d.h5", "--out", "o", "--model", "mlp",
                                     "--hparams", str(path)])
            train.make_config(args, classes=10)
    for flags, message in ((["--set", "width=wide"], "'width' must be int"),
                           (["--set", "colour=3"], "expected KEY=VALUE with KEY one of"),
                           (["--steps", "4"], "are the RNN's")):
        args = train.parse_args(["--dataset", "d.h5", "--out", "o", "--model", "mlp", *flags])
        with pytest.raises(ConfigError, match=message):
            train.make_config(args, classes=10)

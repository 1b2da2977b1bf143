"""The Bayesian searches: objective, spaces, proposals replayed exactly as gp_minimize makes
them (the original study's 26 calls, trial by trial, through the library and the script),
skopt's substitution of repeated points, batches, collection, the MLP's hyperparameters."""

from __future__ import annotations

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
from threadpoolctl import threadpool_limits

from msdrnn.errors import ConfigError, DataError
from msdrnn.search import (
    BLAS_THREADS,
    Acquisition,
    Dimension,
    SearchSpace,
    mlp_space,
    objective,
    optimizer,
    parse_dimension,
    propose,
    rnn_space,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow_scripts"
PAPER_STEPS = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60)
SPACE = rnn_space(15, 500, PAPER_STEPS)
PAPER = {"seed": 0, "n_initial": 1, "acquisition": Acquisition(kappa=1.9, acq_func="LCB")}


def fake_objective(point) -> float:
    """A smooth stand-in for a trial's objective (maximised): a bowl around state 341 plus
    a steps term; it makes gp_minimize repeat points, so skopt substitutes some."""
    state_size, steps = point
    return 0.55 - ((state_size - 341) / 500) ** 2 - 0.005 * abs(steps - 4)


def gp_minimize_run(space: SearchSpace, score, n_calls: int, n_initial: int, kappa: float,
                    seed: int = 0):
    """gp_minimize's points and objective values (negated scores), and the points it warned
    it substituted; with the proposals' BLAS thread count."""
    from skopt import gp_minimize

    with threadpool_limits(limits=BLAS_THREADS), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = gp_minimize(lambda x: -score(x), space.skopt_dimensions(), n_calls=n_calls,
                             n_initial_points=n_initial, acq_func="LCB", kappa=kappa,
                             random_state=seed)
    points = [tuple(int(v) for v in x) for x in result.x_iters]
    scores = [-float(y) for y in result.func_vals]
    # "... before, using random point [np.int64(388), 3]"
    texts = [re.sub(r"np\.\w+\((\d+)\)", r"\1", str(w.message)) for w in seen]
    replaced = {tuple(int(v) for v in re.findall(r"\d+", text.split("using random point")[1]))
                for text in texts if "using random point" in text}
    return points, scores, replaced


@pytest.fixture(scope="module")
def paper_run():
    """The original study's search arguments on the fake objective, through gp_minimize."""
    return gp_minimize_run(SPACE, fake_objective, n_calls=26, n_initial=1, kappa=1.9)


@pytest.fixture(scope="module")
def paper_run_start():
    """The first 4 trials of ``paper_run`` (gp_minimize's trials depend on the earlier
    ones only), for tests that need no more: 26 calls take O(n^2) model fits."""
    return gp_minimize_run(SPACE, fake_objective, n_calls=4, n_initial=1, kappa=1.9)


def test_objective_is_mean_of_top_ten_percent():
    accuracies = [0.1 * i for i in range(25)]  # top two of 25: 2.4 and 2.3
    assert objective(accuracies, 0.1) == pytest.approx(2.35)
    assert objective([0.3, 0.5, 0.4], 0.1) == pytest.approx(0.5)  # at least one
    with pytest.raises(ValueError):
        objective([], 0.1)


@pytest.mark.slow
def test_every_trial_of_the_paper_search_is_gp_minimizes_point(paper_run):
    """All 26 trials, each proposed the way a workflow job does (a fresh process state,
    the earlier trials' results only): O(n^2) model fits, so marked slow."""
    points, scores, replaced = paper_run
    assert len(replaced) >= 2  # the comparison covers skopt's substitutions
    started = time.monotonic()
    for trial in range(26):
        proposal = propose(trial, SPACE, list(zip(points, scores, strict=True))[:trial], **PAPER)
        assert proposal.point == points[trial], trial
        assert proposal.replay_differs == ()
        assert proposal.substituted == (proposal.point in replaced and trial > 0), trial
        expected_kind = "random" if trial == 0 or proposal.substituted else "guided"
        assert proposal.kind == expected_kind, trial
        if proposal.substituted:
            assert "was evaluated before" in proposal.substitution
            assert "random point" in proposal.substitution
    print(f"26 proposals replayed in {time.monotonic() - started:.0f} s")


def write_trial(folder: Path, trial: int, point: dict, score: float) -> tuple[Path, Path]:
    """A finished trial whose objective is `score`: its proposal and a one-epoch history."""
    folder.mkdir(parents=True, exist_ok=True)
    proposal = folder / "proposal.json"
    proposal.write_text(json.dumps({"trial": trial, "kind": "guided", **point,
                                    "readout": True, "substituted": False,
                                    "substitution": None}))
    history = folder / "history.csv"
    history.write_text("epoch,train_loss,train_acc,valid_loss,valid_acc,seconds\n"
                       f"1,1.0,0.5,1.0,{score!r},1.0\n")
    return proposal, history


def run_propose(args: list) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / "bayes_propose.py"),
                           *[str(a) for a in args]], capture_output=True, text=True)


@pytest.mark.slow
def test_propose_script_gives_gp_minimizes_points(tmp_path, paper_run):
    """bayes_propose.py through its command line, for a random start, a guided trial and
    the first trial skopt substituted (a dozen model fits)."""
    points, scores, replaced = paper_run
    substituted = next(i for i, p in enumerate(points) if i > 0 and p in replaced)
    files = [write_trial(tmp_path / f"trial_{i:03d}", i,
                         {"state_size": p[0], "steps": p[1]}, s)
             for i, (p, s) in enumerate(zip(points[:substituted], scores, strict=False))]
    for trial in (0, 1, substituted):
        out = tmp_path / f"proposal_{trial}.json"
        result = run_propose([
            "--trial", f"{trial:03d}", "--seed", 0, "--dimension", "state_size=int:15..500",
            "--dimension", f"steps=cat:{','.join(map(str, PAPER_STEPS))}",
            "--constant", "readout=true", "--n-initial", 1, "--kappa", 1.9,
            "--acq-func", "LCB", "--top-fraction", 0.1,
            "--proposals", *[p for p, _ in files[:trial]],
            "--histories", *[h for _, h in files[:trial]], "--out", out])
        assert result.returncode == 0, result.stderr
        proposal = json.loads(out.read_text())
        assert (proposal["state_size"], proposal["steps"]) == points[trial], trial
        assert proposal["trial"] == trial and proposal["readout"] is True
        assert proposal["substituted"] is (trial == substituted)
        assert proposal["kind"] == ("random" if trial in (0, substituted) else "guided")
        if trial == substituted:
            assert "evaluated before" in proposal["substitution"]
        else:
            assert proposal["substitution"] is None


def test_several_random_starts_and_the_mlp_space_follow_gp_minimize():
    """n_initial > 1 (random starts drawn one by one) and a log-uniform integer."""
    space = mlp_space(32, 1024, (1, 2, 3))

    def score(point):
        width, depth = point
        return 0.5 - (np.log(width) - np.log(300)) ** 2 / 10 - 0.01 * depth

    points, scores, _ = gp_minimize_run(space, score, n_calls=6, n_initial=3, kappa=1.9)
    for trial in range(6):
        earlier = list(zip(points, scores, strict=True))[:trial] if trial >= 3 else []
        proposal = propose(trial, space, earlier, seed=0, n_initial=3,
                           acquisition=Acquisition(kappa=1.9))
        assert proposal.point == points[trial], trial
        assert proposal.kind == ("random" if trial < 3 or proposal.substituted else "guided")
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


def test_batch_rounds_are_skopts_constant_liar_batches(paper_run_start):
    """A round of batch_size points is what skopt's ask(n_points, "cl_min") gives after
    the earlier rounds were told, and needs the results of every earlier round."""
    points, scores, _ = paper_run_start
    batch = Acquisition(kappa=1.9, batch_size=3)
    # trials 1-3 are the first round, 4-6 the second; tell round one, ask round two
    proposals = [propose(t, SPACE, list(zip(points, scores, strict=True))[:4], seed=0, n_initial=1,
                         acquisition=batch) for t in (4, 5, 6)]
    with threadpool_limits(limits=BLAS_THREADS):
        opt = optimizer(SPACE, seed=0, n_initial=1, acquisition=batch)
        opt.tell(list(opt.ask()), -scores[0])
        first_round = opt.ask(n_points=3)
        assert first_round == [list(p.point) for p in
                               (propose(t, SPACE, [(points[0], scores[0])], seed=0,
                                        n_initial=1, acquisition=batch) for t in (1, 2, 3))]
        opt.tell([list(p) for p in points[1:4]], [-s for s in scores[1:4]])
        expected = [tuple(int(v) for v in x) for x in opt.ask(n_points=3)]
    assert [p.point for p in proposals] == expected
    assert len(set(expected)) == 3
    with pytest.raises(ValueError, match="needs the results of trials 0..3"):
        propose(5, SPACE, list(zip(points, scores, strict=True))[:2], seed=0, n_initial=1,
                acquisition=batch)


def test_dimensions_parse_from_their_command_line_form():
    for dim in (Dimension("state_size", low=15, high=500),
                Dimension("width", low=32, high=1024, prior="log-uniform"),
                Dimension("steps", categories=(2, 3, 4))):
        assert parse_dimension(dim.spec()) == dim
    for text in ("width", "width=int:32", "width=int:a..b", "steps=cat:", "w=float:1..2",
                 "w=int:9..3", "w=int:0..8:log-uniform", "w=int:1..8:normal", "d=cat:1,1"):
        with pytest.raises(ConfigError):
            parse_dimension(text)


def test_points_are_checked_against_the_space():
    space = mlp_space(32, 1024, (1, 2, 3))
    assert space.point({"width": 64, "depth": 2, "trial": 3}) == (64, 2)
    assert space.named((64, 2)) == {"width": 64, "depth": 2}
    with pytest.raises(DataError, match="p.json: missing keys \\['depth'\\]"):
        space.point({"width": 64}, "p.json")
    for bad in ({"width": 16, "depth": 2}, {"width": 64, "depth": 4},
                {"width": 64.0, "depth": 2}, {"width": True, "depth": 2}):
        with pytest.raises(DataError, match="is not in the search space"):
            space.point(bad, "p.json")


def test_collect_writes_the_mlp_columns_and_best(tmp_path):
    trials = []
    for trial, (width, depth, score, kind, substituted) in enumerate(
            [(40, 1, 0.3, "random", False), (200, 2, 0.6, "guided", False),
             (90, 3, 0.6, "random", True)]):
        folder = tmp_path / f"trial_{trial:03d}"
        folder.mkdir()
        (folder / "proposal.json").write_text(json.dumps({
            "trial": trial, "kind": kind, "width": width, "depth": depth,
            "substituted": substituted, "substitution": "why" if substituted else None}))
        (folder / "history.csv").write_text(
            "epoch,train_loss,train_acc,valid_loss,valid_acc,seconds\n"
            f"1,1.0,0.5,1.0,{score / 2},1.0\n2,1.0,0.5,1.0,{score},1.0\n")
        trials.append(folder)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "bayes_collect.py"), "--top-fraction", "0.1",
         "--names", "width", "depth",
         "--proposals", *[str(t / "proposal.json") for t in trials],
         "--histories", *[str(t / "history.csv") for t in trials],
         "--trials-out", str(out / "trials.csv"), "--best-out", str(out / "best.json")],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "trials.csv")
    assert list(table.columns) == ["trial", "kind", "width", "depth", "substituted",
                                   "objective", "max_valid_acc", "epoch_of_max",
                                   "running_best"]
    assert list(table["substituted"]) == [False, False, True]
    assert list(table["running_best"]) == pytest.approx([0.3, 0.6, 0.6])
    best = json.loads((out / "best.json").read_text())
    assert best == {"width": 200, "depth": 2, "trial": 1, "objective": pytest.approx(0.6),
                    "trials": 3}  # the first of two equal objectives


def test_mlp_takes_width_and_depth_from_a_json_file(tmp_path):
    import train

    path = tmp_path / "best.json"
    path.write_text(json.dumps({"width": 96, "depth": 3, "trial": 4, "objective": 0.5}))
    assert train.read_hparams(path, "mlp") == {"hidden": [96, 96, 96]}
    args = train.parse_args(["--dataset", "d.h5", "--out", "o", "--model", "mlp",
                             "--hidden", "7", "--hparams", str(path)])
    assert train.make_config(args, classes=10).hidden == [96, 96, 96]
    for values, message in (({"width": 96}, "both of the keys"),
                            ({"width": 96, "depth": 2.0}, "'depth' must be int"),
                            ({"state_size": 20}, "both of the keys")):
        path.write_text(json.dumps(values))
        with pytest.raises(ConfigError, match=message):
            train.read_hparams(path, "mlp")

"""Figures, grid/search tables and the summary, on fake results (no training needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import GENRES, SCRIPTS, run_script, run_scripts_together


def fake_history(epochs: int, level: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    epoch = np.arange(1, epochs + 1)
    acc = level * (1 - np.exp(-epoch / 3)) + rng.normal(0, 0.005, epochs)
    return pd.DataFrame({"epoch": epoch, "train_loss": 2.3 - acc, "train_acc": acc + 0.02,
                         "valid_loss": 2.3 - acc * 0.9, "valid_acc": acc,
                         "seconds": np.full(epochs, 1.5)})


def write_run(folder: Path, history: pd.DataFrame, **run) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    history.to_csv(folder / "history.csv", index=False)
    (folder / "run.json").write_text(json.dumps(run))


def files(name: str) -> list[str]:
    """The PNG and PDF of figure `name`, as the workflow names them."""
    return [f"results/figures/{name}.{ext}" for ext in ("png", "pdf")]




def fake_test_metrics(accuracy: float, seed: int, songs: int = 60) -> dict:
    """evaluate.py's output for a model that gets about `accuracy` of the songs right."""
    rng = np.random.default_rng(seed)
    targets = np.arange(songs) % 10
    right = rng.random(songs) < accuracy
    predicted = np.where(right, targets, (targets + 1) % 10)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (targets, predicted), 1)
    section = {"accuracy": float(right.mean()), "loss": 1.5, "per_genre_accuracy": {},
               "confusion_matrix": confusion.tolist(), "predicted": predicted.tolist()}
    return {"split": "test", "songs": songs, "genres": GENRES,
            "track_ids": [f"TR{i:04d}" for i in range(songs)], "targets": targets.tolist(),
            "best_epoch": section, "final": {**section, "accuracy": section["accuracy"] - 0.01}}


def write_test(folder: Path, accuracy: float, seed: int) -> None:
    (folder / "test_metrics.json").write_text(json.dumps(fake_test_metrics(accuracy, seed)))


def write_weights(folder: Path, **shapes: tuple[int, ...]) -> None:
    np.savez(folder / "weights.npz", **{name: np.zeros(shape) for name, shape in shapes.items()})


RNN_341 = {"W_x": (25, 341), "W_h": (341, 341), "b": (341,), "W_out": (341, 10),
           "b_out": (10,)}  # 25*341 + 341*341 + 341 + 3410 + 10 = 128,567 parameters


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results/ tree as the workflow leaves it: baseline, 3x2 grid, 4 trials, two seeds of
    the best parameters, of the shuffled control and of the feedforward net, song stats."""
    root = tmp_path_factory.mktemp("fake")
    res = root / "results"
    for seed in (0, 1):
        folder = res / f"baseline/seed_{seed}"
        write_run(folder, fake_history(6, 0.37, seed), steps=6, state_size=10, readout=False,
                  seed=seed, model="rnn", batches_per_epoch=12, updates_per_epoch=240)
        write_test(folder, 0.35, 10 + seed)
        write_weights(folder, W_x=(25, 10), W_h=(10, 10), b=(10,))
    for steps, level in [(4, 0.36), (6, 0.38), (10, 0.30)]:
        for seed in (0, 1):
            write_run(res / f"grid/steps_{steps}/seed_{seed}",
                      fake_history(6, level + 0.01 * seed, seed), steps=steps, state_size=10,
                      readout=False, seed=seed)
    for trial, (state, steps, level) in enumerate([(100, 6, 0.4), (341, 4, 0.56),
                                                   (300, 4, 0.55), (20, 10, 0.3)]):
        folder = res / f"bayes/trial_{trial:03d}"
        write_run(folder, fake_history(5, level, trial), steps=steps, state_size=state,
                  readout=True, seed=0)
        (folder / "proposal.json").write_text(json.dumps({
            "trial": trial, "kind": "guided" if trial else "random",
            "state_size": state, "steps": steps, "readout": True, "substituted": False}))
    for seed in (1, 2):
        for folder, level, hyper in [
            (res / f"best/seed_{seed}", 0.57, {"steps": 4, "state_size": 341, "readout": True}),
            (res / f"controls/shuffled_rnn/seed_{seed}", 0.2,
             {"steps": 4, "state_size": 341, "readout": True}),
            (res / f"mlp/seed_{seed}", 0.45, {"model": "mlp", "hidden": [512, 256]}),
        ]:
            mlp = hyper.get("model") == "mlp"
            write_run(folder, fake_history(8, level, seed), seed=seed,
                      hyperparameters={**hyper, "seed": seed},
                      model="mlp" if mlp else "rnn", batches_per_epoch=12,
                      updates_per_epoch=12 if mlp else 12 * 30)
            write_test(folder, level, seed)
            write_weights(folder, **({"W_0": (3000, 512), "b_0": (512,), "W_1": (512, 256),
                                      "b_1": (256,), "W_2": (256, 10), "b_2": (10,)}
                                     if mlp else RNN_341))
    stats = res / "controls/song_stats"
    stats.mkdir(parents=True)
    (stats / "fit.json").write_text(json.dumps({
        "model": "song_stats", "features": 50, "C": 0.1, "valid_acc": 0.25,
        "tried": [{"C": 0.1, "valid_acc": 0.25}, {"C": 1.0, "valid_acc": 0.2}]}))
    write_test(stats, 0.25, 7)
    write_weights(stats, feature_mean=(50,), feature_std=(50,), coef=(10, 50), intercept=(10,))
    write_dataset_attributes(res / "data/dataset.h5")
    return root


def write_dataset_attributes(path: Path, source: str = "synthetic") -> None:
    """A dataset.h5 with the attributes the summary reads (source, songs per genre)."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    counts = {name: {genre: n for genre in GENRES} for name, n in
              (("train", 8), ("valid", 2), ("test", 6))}
    with h5py.File(path, "w") as f:
        f.attrs["source"] = source
        f.attrs["counts"] = json.dumps(counts)


@pytest.fixture(scope="module")
def collected(results: Path) -> Path:
    """The fake results with the grid's summary and the search's trials and best point,
    made once by their scripts (summarize_grid.py, bayes_collect.py)."""
    grids = sorted(str(p) for p in (results / "results/grid").glob("*/*/history.csv"))
    run_script("summarize_grid.py", "--out", "results/grid/summary.csv", *grids, cwd=results,
               check=True)
    proposals = sorted(str(p) for p in (results / "results/bayes").glob("*/proposal.json"))
    histories = [p.replace("proposal.json", "history.csv") for p in proposals]
    run_script("bayes_collect.py", "--top-fraction", "0.1", "--trials-out",
               "results/bayes/trials.csv", "--best-out", "results/bayes/best.json",
               "--proposals", *proposals, "--histories", *histories, cwd=results, check=True)
    return results


@pytest.fixture(scope="module")
def summarized(collected: Path) -> Path:
    """The collected fake results with results/summary.{md,json} from write_summary.py
    (other tests write their summaries under other names, so this one stays)."""
    run_script("write_summary.py", *summary_args(), cwd=collected, check=True)
    return collected


def test_grid_summary_and_search_collection(collected: Path):
    results = collected
    grid = pd.read_csv(results / "results/grid/summary.csv")
    assert list(grid["steps"]) == [4, 4, 6, 6, 10, 10]
    assert grid["epoch_of_max"].between(1, 6).all()
    best = json.loads((results / "results/bayes/best.json").read_text())
    assert (best["state_size"], best["steps"], best["trial"]) == (341, 4, 1)
    trials = pd.read_csv(results / "results/bayes/trials.csv")
    assert list(trials["running_best"]) == list(trials["objective"].cummax())


SEEDED = ("baseline/seed_0", "baseline/seed_1", "best/seed_1", "best/seed_2", "mlp/seed_1",
          "mlp/seed_2",
          "controls/shuffled_rnn/seed_1", "controls/shuffled_rnn/seed_2")


def summary_args(with_tests: bool = True, out: str = "results/summary") -> list[str]:
    """write_summary.py's command line for the fake results, writing ``out``.md and .json."""
    def runs(kind: str, name: str) -> list[str]:
        return [f"results/{run}/{name}" for run in SEEDED if run.startswith(kind)]

    args = ["--n-classes", "10", "--dataset", "results/data/dataset.h5",
            "--grid", "results/grid/summary.csv",
            "--trials", "results/bayes/trials.csv", "--best-params", "results/bayes/best.json",
            "--baseline-histories", *runs("baseline", "history.csv"),
            "--best-histories", *runs("best", "history.csv"),
            "--mlp-histories", *runs("mlp", "history.csv"),
            "--shuffled-histories", *runs("controls", "history.csv"),
            "--baseline-run", "results/baseline/seed_0/run.json",
            "--best-run", "results/best/seed_1/run.json",
            "--mlp-run", "results/mlp/seed_1/run.json",
            "--shuffled-run", "results/controls/shuffled_rnn/seed_1/run.json",
            "--weights", *[f"{key}=results/{folder}/weights.npz" for key, folder in (
                ("baseline", "baseline/seed_0"), ("best", "best/seed_1"),
                ("mlp", "mlp/seed_1"), ("shuffled_rnn", "controls/shuffled_rnn/seed_1"),
                ("song_stats", "controls/song_stats"))],
            "--song-stats-fit", "results/controls/song_stats/fit.json",
            "--bootstrap", "300", "--bootstrap-seed", "0",
            "--out", f"{out}.md", "--out-json", f"{out}.json"]
    if with_tests:
        args += ["--baseline-tests", *runs("baseline", "test_metrics.json"),
                 "--best-tests", *runs("best", "test_metrics.json"),
                 "--mlp-tests", *runs("mlp", "test_metrics.json"),
                 "--shuffled-tests", *runs("controls", "test_metrics.json"),
                 "--song-stats-test", "results/controls/song_stats/test_metrics.json"]
    return args


def test_summary_intervals_and_verdicts(summarized: Path):
    results = summarized
    text = (results / "results/summary.md").read_text()
    assert "| Chance level | 10 genres | 10.00% | 10.00% | 10.00% |" in text
    assert "state 341, steps 4, readout, 8 epochs" in text
    assert "(2 seeds)" in text and "2 pooled sd" not in text
    # provenance: the source and songs per split, read from dataset.h5
    assert "Data: source `synthetic` (results/data/dataset.h5): 80 train, 20 valid, 60 test " \
           "songs." in text
    assert "segments carries its genre; it is not real music" in text
    numbers = json.loads((results / "results/summary.json").read_text())
    assert numbers["data"] == {"source": "synthetic",
                               "songs": {"train": 80, "valid": 20, "test": 60}}
    names = [c["name"] for c in numbers["comparisons"]]
    assert names == ["RNN, best parameters vs Feedforward network (non-recurrent)",
                     "RNN, best parameters vs RNN on shuffled segments (control)",
                     "RNN, best parameters vs Song statistics (control)",
                     "RNN, best parameters vs Baseline RNN"]
    shuffled = numbers["comparisons"][1]
    assert shuffled["valid"]["method"] == "Welch t, 2 vs 2 seeds"
    assert "seeds of each model resampled (2 and 2)" in shuffled["test"]["method"]
    assert shuffled["test"]["low"] > 0  # 57% against 20% on 60 songs: a clear difference
    assert shuffled["test"]["verdict"].startswith("first higher")
    song_stats = numbers["comparisons"][2]
    assert "single run" in song_stats["valid"]["method"]
    assert "(2 and 1)" in song_stats["test"]["method"]
    for comparison in numbers["comparisons"]:
        assert comparison["valid"]["verdict"] is None  # selected on validation: no verdict
        interval = comparison["test"]
        assert interval["low"] <= interval["difference"] <= interval["high"]
        excludes_zero = interval["low"] > 0 or interval["high"] < 0
        assert excludes_zero != interval["verdict"].startswith("no clear difference")
    assert "Validation (selected on these songs)" in text
    assert "tuned on ordered songs" in text
    assert numbers["grid_best_steps"] == 6
    assert [c["name"] for c in numbers["grid_comparisons"]] == [
        "steps 6 (selected) vs steps 4", "steps 6 (selected) vs steps 10"]
    raw = [c["valid"]["p"] for c in numbers["grid_comparisons"]]
    holm = [c["holm_p"] for c in numbers["grid_comparisons"]]
    assert min(holm) == pytest.approx(min(1.0, 2 * min(raw)))
    assert all(a >= r for a, r in zip(holm, raw, strict=True))
    assert "steps 6 (selected) vs steps 10" in text and "Holm-adjusted p" in text
    # budget: parameters from the weights files, updates from run.json, trials per search
    budget = {m["key"]: m["budget"] for m in numbers["models"]}
    assert budget["best"]["parameters"] == 25 * 341 + 341 * 341 + 341 + 3410 + 10
    assert budget["best"]["updates"] == "360 (12 batches x 30 parts)"
    assert budget["mlp"]["updates"] == "12 (one per batch)"
    assert budget["mlp"]["parameters"] == 3000 * 512 + 512 + 512 * 256 + 256 + 2570
    assert budget["song_stats"]["parameters"] == 510  # coef and intercept, not the scaling
    assert budget["best"]["search"] == "4 (Bayesian search, results/bayes/trials.csv)"
    assert budget["mlp"]["search"] == "none (fixed hidden layers, no search)"
    assert budget["shuffled_rnn"]["search"] == "none of its own: the RNN's 4 trials, on " \
                                              "ordered songs"
    assert budget["baseline"]["epochs"] == "6" and budget["baseline"]["parameters"] == 360
    assert "| RNN, best parameters | 128,567 | 360 (12 batches x 30 parts) | 8 |" in text
    assert "leave out the seeds' spread" not in text  # two seeds of the RNN here


def test_summary_counts_the_mlp_search_trials(collected: Path):
    results = collected
    trials = results / "results/mlp_search/trials.csv"
    trials.parent.mkdir(parents=True, exist_ok=True)
    pd.read_csv(results / "results/bayes/trials.csv").head(3).to_csv(trials, index=False)
    run_script("write_summary.py", *summary_args(out="results/summary_mlp_search"),
               "--mlp-trials", "results/mlp_search/trials.csv", cwd=results, check=True)
    numbers = json.loads((results / "results/summary_mlp_search.json").read_text())
    budget = {m["key"]: m["budget"] for m in numbers["models"]}
    assert budget["mlp"]["search"] == "3 (search, results/mlp_search/trials.csv)"


def test_summary_pairs_test_songs_by_track_id(collected: Path):
    """Two models tested on different songs (same labels, other IDs) stop the summary with
    one error naming both files."""
    results = collected
    path = results / "results/mlp/seed_1/test_metrics.json"
    original = path.read_text()
    metrics = json.loads(original)
    metrics["track_ids"][5] = "TROTHER"
    path.write_text(json.dumps(metrics))
    try:
        result = subprocess.run([sys.executable, SCRIPTS / "write_summary.py",
                                 *summary_args(out="results/summary_other_songs")],
                                cwd=results, capture_output=True, text=True)
    finally:
        path.write_text(original)
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: results/best/seed_1/test_metrics.json and "
                           "results/mlp/seed_1/test_metrics.json are for different test "
                           "songs"), line
    assert "first difference at song 5" in line


def test_summary_without_a_test_split(collected: Path):
    results = collected
    run_script("write_summary.py", *summary_args(with_tests=False, out="results/summary_no_test"),
               cwd=results, check=True)
    numbers = json.loads((results / "results/summary_no_test.json").read_text())
    assert all(c["test"] is None for c in numbers["comparisons"])
    assert "no test split" in (results / "results/summary_no_test.md").read_text()


def test_summary_with_some_test_files_only_is_one_error_line(collected: Path):
    results = collected
    args = [*summary_args(with_tests=False, out="results/summary_some_tests"),
            "--best-tests", "results/best/seed_1/test_metrics.json"]
    result = subprocess.run([sys.executable, SCRIPTS / "write_summary.py", *args], cwd=results,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: test metrics given for")


def test_every_figure_script_writes_png_and_pdf(summarized: Path):
    results = summarized
    figures = results / "results/figures"
    grids = sorted(str(p) for p in (results / "results/grid").glob("*/*/history.csv"))
    histories = [f"results/bayes/trial_{t:03d}/history.csv" for t in range(4)]
    # the five scripts write different files: run side by side (each spends most of its
    # time importing matplotlib)
    run_scripts_together(results, {
        "plot_run.py": [
            "--history", "results/best/seed_1/history.csv", "--run",
            "results/best/seed_1/run.json", "--title", "Best parameters", "--dpi", "50",
            "--error", *files("best_error"), "--accuracy", *files("best_accuracy")],
        "plot_grid.py": [
            "--summary", "results/grid/summary.csv", "--histories", *grids,
            "--top-steps", "2", "--state-size", "10", "--epochs", "6", "--dpi", "50",
            "--max-valid-accuracy", *files("grid_max_valid_accuracy"),
            *[arg for name in ("train_error", "valid_error", "train_accuracy",
                               "valid_accuracy")
              for arg in (f"--{name.replace('_', '-')}", *files(f"grid_{name}"))]],
        "plot_bayes.py": [
            "--trials", "results/bayes/trials.csv", "--histories", *histories,
            "--epochs", "5", "--top-fraction", "0.1", "--dpi", "50",
            *[arg for name in ("objective", "space", "train_error", "valid_error",
                               "train_accuracy", "valid_accuracy")
              for arg in (f"--{name.replace('_', '-')}", *files(f"bayes_{name}"))]],
        "plot_confusion.py": [
            "--metrics", "results/best/seed_1/test_metrics.json",
            "results/best/seed_2/test_metrics.json", "--run", "results/best/seed_1/run.json",
            "--dpi", "50", "--out", *files("best_test_confusion")],
        "plot_controls.py": [
            "--summary", "results/summary.json", "--dpi", "50",
            "--out", *files("controls_accuracy")],
    })
    names = ["best_error", "best_accuracy", "grid_max_valid_accuracy", "grid_valid_accuracy",
             "grid_train_error", "bayes_objective", "bayes_space", "bayes_valid_error",
             "best_test_confusion", "controls_accuracy"]
    for name in names:
        for ext in ("png", "pdf"):
            path = figures / f"{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path


def test_plot_bayes_needs_one_history_per_trial(collected: Path):
    results = collected
    args = ["--trials", "results/bayes/trials.csv", "--histories",
            "results/bayes/trial_000/history.csv", "--epochs", "5", "--top-fraction", "0.1",
            *[arg for name in ("objective", "space", "train-error", "valid-error",
                               "train-accuracy", "valid-accuracy")
              for arg in (f"--{name}", "x.png")]]
    result = subprocess.run([sys.executable, SCRIPTS / "plot_bayes.py", *args], cwd=results,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "has 4 trials but 1 histories" in result.stderr


def test_runs_table_has_one_row_per_run_and_epoch(results: Path):
    names = ["baseline/seed_0", "grid/steps_4/seed_1", "best/seed_2", "mlp/seed_1"]
    kinds = ["baseline", "grid", "best", "mlp"]
    run_script("collect_runs.py", "--names", *names, "--kinds", *kinds,
               "--histories", *[f"results/{n}/history.csv" for n in names],
               "--runs", *[f"results/{n}/run.json" for n in names],
               "--out", "results/runs.csv", cwd=results, check=True)
    runs = pd.read_csv(results / "results/runs.csv")
    assert list(runs.columns) == ["run", "kind", "state_size", "steps", "readout", "seed",
                                  "epoch", "train_loss", "train_acc", "valid_loss",
                                  "valid_acc", "seconds"]
    assert list(runs.groupby("run", sort=False).size()) == [6, 6, 8, 8]
    best = runs[runs["run"] == "best/seed_2"].iloc[0]
    assert (best["kind"], best["state_size"], best["steps"], best["seed"]) == ("best", 341, 4, 2)
    mlp = runs[runs["run"] == "mlp/seed_1"].iloc[0]
    assert pd.isna(mlp["state_size"]) and pd.isna(mlp["steps"]) and mlp["seed"] == 1
    grid = runs[runs["run"] == "grid/steps_4/seed_1"]
    expected = pd.read_csv(results / "results/grid/steps_4/seed_1/history.csv")
    assert np.allclose(grid["valid_acc"], expected["valid_acc"])


def test_data_plot_and_search_code_never_imports_tensorflow():
    modules = ["msdrnn.msd", "msdrnn.synthetic", "msdrnn.dataset", "msdrnn.dataset_io",
               "msdrnn.reference", "msdrnn.search", "msdrnn.plots", "msdrnn.summary",
               "plot_run", "plot_grid", "plot_bayes", "plot_confusion", "write_summary",
               "summarize_grid", "bayes_propose", "bayes_collect", "evaluate",
               "msdrnn.stats", "msdrnn.controls", "shuffle_segments", "song_stats",
               "collect_runs", "plot_controls",
               "prepare_dataset", "make_steps", "generate_synthetic"]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "import skopt, msdrnn.search as s; s.rnn_space(1, 2, (1,)).skopt_dimensions()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True,
                            capture_output=True, text=True)
    assert result.stdout.strip() == "[]"

"""Figures, grid/search tables and the summary, on fake results (no training needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import GENRES, run_main


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


def ran(name: str, *args: object, cwd: Path) -> None:
    """Workflow script ``name`` run in this process (``helpers.run_main``): it must succeed."""
    code, err = run_main(name, *args, cwd=cwd)
    assert code == 0, err[-3000:]




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
        folder = res / f"rnn_search/trial_{trial:03d}"
        write_run(folder, fake_history(5, level, trial), steps=steps, state_size=state,
                  readout=True, seed=0)
        (folder / "proposal.json").write_text(json.dumps({
            "trial": trial, "kind": "guided" if trial else "random",
            "state_size": state, "steps": steps, "readout": True, "substituted": False,
            "substitution": None, "batch_size": 1, "replay_differences": []}))
    for seed in (1, 2):
        for folder, level, hyper in [
            (res / f"rnn/seed_{seed}", 0.57, {"steps": 4, "state_size": 341, "readout": True}),
            (res / f"controls/shuffled_rnn/seed_{seed}", 0.2,
             {"steps": 4, "state_size": 341, "readout": True}),
            (res / f"mlp/seed_{seed}", 0.45, {"model": "mlp", "width": 512, "depth": 2,
                                              "dropout": 0.25}),
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
    """The fake results with the grid's summary and the RNN search's trials and best point,
    made once by their scripts (summarize_grid.py, bayes_collect.py)."""
    grids = sorted(str(p) for p in (results / "results/grid").glob("*/*/history.csv"))
    ran("summarize_grid.py", "--out", "results/grid/summary.csv", *grids, cwd=results)
    proposals = sorted(str(p) for p in (results / "results/rnn_search").glob("*/proposal.json"))
    histories = [p.replace("proposal.json", "history.csv") for p in proposals]
    ran("bayes_collect.py", "--top-fraction", "0.1", "--names", "state_size", "steps",
        "--trials-out",
        "results/rnn_search/trials.csv", "--best-out", "results/rnn_search/best.json",
        "--proposals", *proposals, "--histories", *histories,
        "--names", "state_size", "steps", cwd=results)
    return results


@pytest.fixture(scope="module")
def summarized(collected: Path) -> Path:
    """The collected fake results with results/summary.{md,json} from write_summary.py
    (other tests write their summaries under other names, so this one stays)."""
    ran("write_summary.py", *summary_args(), cwd=collected)
    return collected


def test_grid_summary_and_search_collection(collected: Path):
    results = collected
    grid = pd.read_csv(results / "results/grid/summary.csv")
    assert list(grid["steps"]) == [4, 4, 6, 6, 10, 10]
    assert grid["epoch_of_max"].between(1, 6).all()
    best = json.loads((results / "results/rnn_search/best.json").read_text())
    assert (best["state_size"], best["steps"], best["trial"]) == (341, 4, 1)
    trials = pd.read_csv(results / "results/rnn_search/trials.csv")
    assert list(trials["running_best"]) == list(trials["objective"].cummax())


SEEDED = ("baseline/seed_0", "baseline/seed_1", "rnn/seed_1", "rnn/seed_2", "mlp/seed_1",
          "mlp/seed_2",
          "controls/shuffled_rnn/seed_1", "controls/shuffled_rnn/seed_2")
GROUPS = {"baseline": "baseline/", "rnn": "rnn/", "mlp": "mlp/",
          "shuffled_rnn": "controls/shuffled_rnn/"}


def summary_args(with_tests: bool = True, out: str = "results/summary") -> list[str]:
    """write_summary.py as the rule runs it, writing ``out``.md and .json: the RNN searched
    and shuffled, the MLP with fixed hyperparameters (no search)."""
    def runs(group: str, name: str) -> list[str]:
        return [f"results/{run}/{name}" for run in SEEDED if run.startswith(GROUPS[group])]

    args = ["--n-classes", "10", "--primary", "rnn",
            "--model", "rnn", "RNN, best parameters", "--space", "rnn", "state_size", "steps",
            "--shuffled", "rnn", "--model", "mlp", "Feedforward network",
            "--dataset", "results/data/dataset.h5", "--grid", "results/grid/summary.csv",
            "--search", "rnn", "results/rnn_search/trials.csv",
            "results/rnn_search/best.json",
            "--song-stats-fit", "results/controls/song_stats/fit.json",
            "--weights", "song_stats", "results/controls/song_stats/weights.npz",
            "--out", f"{out}.md", "--out-json", f"{out}.json"]
    for group in GROUPS:
        args += ["--runs", group, runs(group, "run.json")[0],
                 "--histories", group, *runs(group, "history.csv"),
                 "--weights", group, runs(group, "weights.npz")[0]]
        if with_tests:
            args += ["--tests", group, *runs(group, "test_metrics.json")]
    if with_tests:
        args += ["--tests", "song_stats", "results/controls/song_stats/test_metrics.json"]
    return args


def test_summary_intervals_and_verdicts(summarized: Path):
    results = summarized
    text = (results / "results/summary.md").read_text()
    assert "| Chance level | 10 genres | 10.00% | 10.00% | 10.00% |" in text
    assert "steps 4, state_size 341, readout yes, 8 epochs" in text
    assert "width 512, depth 2, dropout 0.25, 8 epochs" in text
    assert "(2 seeds)" in text and "2 pooled sd" not in text
    # provenance: the source and songs per split, read from dataset.h5
    assert "Data: source `synthetic` (results/data/dataset.h5): 80 train, 20 valid, 60 test " \
           "songs." in text
    assert "segments carries its genre; it is not real music" in text
    numbers = json.loads((results / "results/summary.json").read_text())
    assert numbers["data"] == {"source": "synthetic",
                               "songs": {"train": 80, "valid": 20, "test": 60}}
    names = [c["name"] for c in numbers["comparisons"]]
    assert names == ["RNN, best parameters vs Feedforward network",
                     "RNN, best parameters vs RNN, best parameters on shuffled segments "
                     "(control)",
                     "RNN, best parameters vs Song statistics (control)",
                     "RNN, best parameters vs Baseline RNN"]
    shuffled = numbers["comparisons"][1]
    assert shuffled["valid"]["method"] == "Welch t, 2 vs 2 seeds"
    assert "over 2 and 2 seeds" in shuffled["test"]["method"]
    assert shuffled["test"]["low"] > 0  # 57% against 20% on 60 songs: a clear difference
    assert shuffled["test"]["verdict"].startswith("first higher")
    song_stats = numbers["comparisons"][2]
    assert "single run" in song_stats["valid"]["method"]
    assert "over 2 and 1 seeds" in song_stats["test"]["method"]
    # the primary comparison: the non-recurrent model highest on validation, at 95%
    families = {c["name"].split(" vs ")[1]: (c["family"], c["test"]["level"])
                for c in numbers["comparisons"]}
    primary = [name for name, (family, _) in families.items() if family == "primary"]
    assert primary == ["Feedforward network"]  # the strongest listed model on validation
    assert families[primary[0]][1] == 0.95
    secondary = [c for c in numbers["comparisons"] if c["family"] == "secondary"]
    assert len(secondary) == 3
    for c in secondary:  # Holm: the interval excludes 0 exactly when the adjusted p < 0.05
        excludes = c["test"]["low"] > 0 or c["test"]["high"] < 0
        assert excludes == (c["holm_p"] < 0.05) and c["test"]["level"] >= 0.95
    assert max(c["test"]["level"] for c in secondary) == pytest.approx(1 - 0.05 / 3)
    assert "the primary comparison is RNN, best parameters vs" in text
    for comparison in numbers["comparisons"]:
        assert comparison["valid"]["verdict"] is None  # selected on validation: no verdict
        interval = comparison["test"]
        assert interval["low"] <= interval["difference"] <= interval["high"]
        excludes_zero = interval["low"] > 0 or interval["high"] < 0
        assert excludes_zero != interval["verdict"].startswith("no clear difference")
    assert "Validation (selected on these songs)" in text
    assert "tuned on ordered songs" in text
    assert numbers["grid_best_steps"] == 6
    assert [c["key"] for c in numbers["grid_comparisons"]] == [4, 6, 10]
    assert "Hsu's MCB" in numbers["grid_method"] and "(3 df)" in numbers["grid_method"]
    for row in numbers["grid_comparisons"]:  # the interval excludes 0 exactly when p < 0.05
        assert row["low"] <= row["difference"] <= row["high"]
        assert (row["low"] > 0 or row["high"] < 0 or
                (row["low"] == 0 and row["difference"] > 0) or
                (row["high"] == 0 and row["difference"] < 0)) == (row["p"] < 0.05)
    assert "| 6 (selected) |" in text and "MCB p" in text
    assert "Seeds (runs on test) per model: Baseline RNN 2, RNN, best parameters 2" in text
    # budget: parameters from the weights files, updates from run.json, trials per search
    budget = {m["key"]: m["budget"] for m in numbers["models"]}
    assert budget["rnn"]["parameters"] == 25 * 341 + 341 * 341 + 341 + 3410 + 10
    assert budget["rnn"]["updates"] == "360 (12 batches x 30 parts)"
    assert budget["mlp"]["updates"] == "12 (one per batch)"
    assert budget["mlp"]["parameters"] == 3000 * 512 + 512 + 512 * 256 + 256 + 2570
    assert budget["song_stats"]["parameters"] == 510  # coef and intercept, not the scaling
    assert budget["rnn"]["search"] == "4 (Bayesian search, results/rnn_search/trials.csv)"
    assert budget["mlp"]["search"] == "none (fixed hyperparameters, no search)"
    assert budget["shuffled_rnn"]["search"] == (
        "none of its own: the 4 trials of the RNN, best parameters search, on ordered songs")
    # the answer's structure: the strongest opponent on validation is the primary
    # comparison; "recurrence or only order?" is asked (no CNN listed here)
    assert (numbers["primary"], numbers["primary_comparison"]) == ("rnn", "mlp")
    assert "The strongest opponent, chosen on validation" in text
    assert "is the Feedforward network; the RNN, best parameters against it" in text
    assert "## Recurrence or only order?" in text and "models.cnn" in text
    assert [c["name"] for c in numbers["order_comparisons"]] == [
        "RNN, best parameters vs RNN, best parameters on shuffled segments (control)"]
    assert "search lacks" not in text  # the MLP has no search here
    assert budget["baseline"]["epochs"] == "6" and budget["baseline"]["parameters"] == 360
    assert "| RNN, best parameters | 128,567 | 360 (12 batches x 30 parts) | 8 |" in text
    assert ("A model with one run (Song statistics (control)) adds no seed spread"
            in text)  # the deterministic fit; every trained model ran two seeds here


def test_summary_counts_the_mlp_search_trials_and_names_its_extra_knobs(collected: Path):
    """A searched MLP: its trials in the budget, its best in the table, and the knobs its
    search has that the RNN's lacks (dropout) named as making an 'RNN higher' verdict
    harder to earn."""
    results = collected
    folder = results / "results/mlp_search"
    folder.mkdir(parents=True, exist_ok=True)
    trials = pd.DataFrame({"trial": [0, 1, 2], "kind": ["random", "guided", "guided"],
                           "width": [64, 512, 300], "depth": [1, 2, 3],
                           "dropout": [0.0, 0.25, 0.5], "substituted": False,
                           "objective": [0.3, 0.45, 0.4], "max_valid_acc": [0.3, 0.46, 0.41],
                           "epoch_of_max": [3, 4, 5]})
    trials["running_best"] = trials["objective"].cummax()
    trials.to_csv(folder / "trials.csv", index=False)
    (folder / "best.json").write_text(json.dumps(
        {"width": 512, "depth": 2, "dropout": 0.25, "trial": 1, "objective": 0.45,
         "trials": 3}))
    aa_check = results / "results/calibration/aa_check.json"  # the A/A check, when it ran
    aa_check.parent.mkdir(parents=True)
    aa_check.write_text(json.dumps({
        "path": "results/calibration/aa_check.md", "runs": 10, "group": 2, "splits": 630,
        "all_splits": True, "verdict_share": 0.0254, "seed_sd": 0.0123}))
    ran("write_summary.py", *summary_args(out="results/summary_mlp_search"),
        "--space", "mlp", "width", "depth",
        "dropout", "--search", "mlp", "results/mlp_search/trials.csv",
        "results/mlp_search/best.json",
        "--aa-check", "results/calibration/aa_check.json", cwd=results)
    numbers = json.loads((results / "results/summary_mlp_search.json").read_text())
    budget = {m["key"]: m["budget"] for m in numbers["models"]}
    assert budget["mlp"]["search"] == "3 (Bayesian search, results/mlp_search/trials.csv)"
    assert numbers["aa_check"]["splits"] == 630
    text = (results / "results/summary_mlp_search.md").read_text()
    assert ("A/A check (results/calibration/aa_check.md): 10 runs of the RNN, best "
            "parameters under calibration.seeds, split 630 ways (all of them) into two groups "
            "of 2 runs, as many as models.rnn.seeds: 2.5% of the splits gave a verdict") in text
    assert ("| Feedforward network: search best (selected on these validation numbers, not "
            "a confirmation) | width 512, depth 2, dropout 0.25 (trial 1 of 3) |") in text
    assert ("The opponents' searches tune knobs that the search of the RNN, best "
            "parameters lacks (Feedforward network: width, depth, dropout)") in text
    assert "'RNN higher' verdict harder to earn" in text
    code, err = run_main("write_summary.py", *summary_args(out="results/summary_no_mlp_search"),
                         "--space", "mlp", "width", cwd=results)
    assert code == 2 and "--search: expected one for each searched model" in err


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
        code, err = run_main("write_summary.py", *summary_args(out="results/summary_other_songs"),
                             cwd=results)
    finally:
        path.write_text(original)
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: results/rnn/seed_1/test_metrics.json and "
                           "results/mlp/seed_1/test_metrics.json are for different test "
                           "songs"), line
    assert "first difference at song 5" in line


def test_summary_without_a_test_split(collected: Path):
    results = collected
    ran("write_summary.py", *summary_args(with_tests=False, out="results/summary_no_test"),
        cwd=results)
    numbers = json.loads((results / "results/summary_no_test.json").read_text())
    assert all(c["test"] is None for c in numbers["comparisons"])
    assert "no test split" in (results / "results/summary_no_test.md").read_text()


def test_summary_with_some_test_files_only_is_one_error_line(collected: Path):
    results = collected
    args = [*summary_args(with_tests=False, out="results/summary_some_tests"),
            "--tests", "rnn", "results/rnn/seed_1/test_metrics.json"]
    code, err = run_main("write_summary.py", *args, cwd=results)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: test metrics given for")


def test_confusion_figure_of_several_seeds(summarized: Path):
    """plot_confusion.py sums the confusion matrices of a model's seeds (the smoke study,
    whose figures tests/test_workflow.py checks as PNG and PDF, runs one seed a model)."""
    results = summarized
    ran("plot_confusion.py", "--metrics", "results/rnn/seed_1/test_metrics.json",
        "results/rnn/seed_2/test_metrics.json", "--run", "results/rnn/seed_1/run.json",
        "--title", "RNN", "--dpi", "50", "--out", *files("rnn_test_confusion"), cwd=results)
    for path in files("rnn_test_confusion"):
        assert (results / path).stat().st_size > 1000, path


def test_plot_bayes_needs_one_history_per_trial(collected: Path):
    results = collected
    args = ["--trials", "results/rnn_search/trials.csv", "--histories",
            "results/rnn_search/trial_000/history.csv", "--epochs", "5", "--top-fraction", "0.1",
            "--names", "state_size", "steps",
            *[arg for name in ("objective", "space", "train-error", "valid-error",
                               "train-accuracy", "valid-accuracy")
              for arg in (f"--{name}", "x.png")]]
    code, err = run_main("plot_bayes.py", *args, cwd=results)
    assert code == 2 and "has 4 trials but 1 histories" in err


def test_runs_table_has_one_row_per_run_and_epoch(results: Path):
    names = ["baseline/seed_0", "grid/steps_4/seed_1", "rnn/seed_2", "mlp/seed_1"]
    kinds = ["baseline", "grid", "rnn", "mlp"]
    ran("collect_runs.py", "--names", *names, "--kinds", *kinds,
        "--histories", *[f"results/{n}/history.csv" for n in names],
        "--runs", *[f"results/{n}/run.json" for n in names],
        "--out", "results/runs.csv", cwd=results)
    runs = pd.read_csv(results / "results/runs.csv")
    assert list(runs.columns) == ["run", "kind", "model", "state_size", "steps", "readout",
                                  "seed", "hparams", "epoch", "train_loss", "train_acc",
                                  "valid_loss", "valid_acc", "seconds"]
    assert list(runs.groupby("run", sort=False).size()) == [6, 6, 8, 8]
    best = runs[runs["run"] == "rnn/seed_2"].iloc[0]
    assert (best["kind"], best["model"], best["state_size"], best["steps"], best["seed"]) \
        == ("rnn", "rnn", 341, 4, 2)
    assert json.loads(best["hparams"]) == {"steps": 4, "state_size": 341, "readout": True}
    mlp = runs[runs["run"] == "mlp/seed_1"].iloc[0]
    assert pd.isna(mlp["state_size"]) and pd.isna(mlp["steps"]) and mlp["seed"] == 1
    assert (mlp["model"], json.loads(mlp["hparams"])) == (
        "mlp", {"width": 512, "depth": 2, "dropout": 0.25})
    grid = runs[runs["run"] == "grid/steps_4/seed_1"]
    expected = pd.read_csv(results / "results/grid/steps_4/seed_1/history.csv")
    assert np.allclose(grid["valid_acc"], expected["valid_acc"])


def test_run_json_training_settings_are_the_trainers():
    """msdrnn.results tells a run's model hyperparameters from the trainer's settings in
    run.json by TRAINING_SETTINGS, which must be TrainConfig's fields (but hparams)."""
    import dataclasses

    from msdrnn.results import TRAINING_SETTINGS
    from msdrnn.training import TrainConfig

    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"hparams"}
    assert set(TRAINING_SETTINGS) == fields | {"model"}

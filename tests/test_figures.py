"""Figures, grid/search tables and the summary, on fake results (no training needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msdrnn.summary import build_summary, seed_noise

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow_scripts"
GENRES = ["Rap", "Rock", "RnB", "Electronic", "Metal", "Blues", "Pop", "Jazz", "Country",
          "Reggae"]


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


def run_script(name: str, *args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, SCRIPTS / name, *args], cwd=cwd, check=True,
                   capture_output=True, text=True)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results/ tree as the workflow leaves it: baseline, 3x2 grid, 4 trials, best, mlp."""
    root = tmp_path_factory.mktemp("fake")
    res = root / "results"
    write_run(res / "baseline", fake_history(6, 0.37), steps=6, state_size=10, readout=False)
    for steps, level in [(4, 0.36), (6, 0.38), (10, 0.30)]:
        for seed in (0, 1):
            write_run(res / f"grid/steps_{steps}/seed_{seed}",
                      fake_history(6, level + 0.01 * seed, seed), steps=steps, state_size=10,
                      readout=False)
    for trial, (state, steps, level) in enumerate([(100, 6, 0.4), (341, 4, 0.56),
                                                   (300, 4, 0.55), (20, 10, 0.3)]):
        folder = res / f"bayes/trial_{trial:03d}"
        write_run(folder, fake_history(5, level, trial), steps=steps, state_size=state,
                  readout=True)
        (folder / "proposal.json").write_text(json.dumps({
            "trial": trial, "kind": "guided" if trial else "random start",
            "state_size": state, "steps": steps, "readout": True}))
    write_run(res / "best", fake_history(8, 0.57), steps=4, state_size=341, readout=True)
    write_run(res / "mlp", fake_history(8, 0.45), model="mlp", hidden=[512, 256])
    confusion = np.diag(np.full(10, 5)) + 1
    (res / "best/test_metrics.json").write_text(json.dumps({
        "accuracy": 0.5, "genres": GENRES, "confusion_matrix": confusion.tolist()}))
    return root


def test_grid_summary_and_search_collection(results: Path):
    grids = sorted(str(p) for p in (results / "results/grid").glob("*/*/history.csv"))
    run_script("summarize_grid.py", "--out", "results/grid/summary.csv", *grids, cwd=results)
    grid = pd.read_csv(results / "results/grid/summary.csv")
    assert list(grid["steps"]) == [4, 4, 6, 6, 10, 10]
    assert grid["epoch_of_max"].between(1, 6).all()
    proposals = sorted(str(p) for p in (results / "results/bayes").glob("*/proposal.json"))
    histories = [p.replace("proposal.json", "history.csv") for p in proposals]
    run_script("bayes_collect.py", "--top-fraction", "0.1", "--trials-out",
               "results/bayes/trials.csv", "--best-out", "results/bayes/best.json",
               "--proposals", *proposals, "--histories", *histories, cwd=results)
    best = json.loads((results / "results/bayes/best.json").read_text())
    assert (best["state_size"], best["steps"], best["trial"]) == (341, 4, 1)
    trials = pd.read_csv(results / "results/bayes/trials.csv")
    assert list(trials["running_best"]) == list(trials["objective"].cummax())


def test_every_figure_script_writes_png_and_pdf(results: Path):
    test_grid_summary_and_search_collection(results)
    figures = results / "results/figures"
    run_script("plot_run.py", "--history", "results/best/history.csv", "--run",
               "results/best/run.json", "--title", "Best parameters", "--dpi", "50",
               "--error", *files("best_error"), "--accuracy", *files("best_accuracy"),
               cwd=results)
    grids = sorted(str(p) for p in (results / "results/grid").glob("*/*/history.csv"))
    run_script("plot_grid.py", "--summary", "results/grid/summary.csv", "--histories", *grids,
               "--top-steps", "2", "--state-size", "10", "--epochs", "6", "--dpi", "50",
               "--max-valid-accuracy", *files("grid_max_valid_accuracy"),
               *[arg for name in ("train_error", "valid_error", "train_accuracy",
                                  "valid_accuracy")
                 for arg in (f"--{name.replace('_', '-')}", *files(f"grid_{name}"))],
               cwd=results)
    run_script("plot_bayes.py", "--trials", "results/bayes/trials.csv", "--epochs", "5",
               "--top-fraction", "0.1", "--dpi", "50", "--out-dir", "results/figures",
               cwd=results)
    run_script("plot_confusion.py", "--metrics", "results/best/test_metrics.json", "--run",
               "results/best/run.json", "--dpi", "50", "--out-prefix",
               "results/figures/best_test", cwd=results)
    names = ["best_error", "best_accuracy", "grid_max_valid_accuracy", "grid_valid_accuracy",
             "grid_train_error", "bayes_objective", "bayes_valid_error",
             "best_test_confusion"]
    for name in names:
        for ext in ("png", "pdf"):
            path = figures / f"{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path


def test_summary_table_and_noise_verdicts(results: Path):
    test_grid_summary_and_search_collection(results)
    res = results / "results"
    read = pd.read_csv
    text = build_summary(
        n_classes=10, baseline=read(res / "baseline/history.csv"),
        baseline_run={"steps": 6, "state_size": 10, "readout": False},
        grid=read(res / "grid/summary.csv"), trials=read(res / "bayes/trials.csv"),
        best_params=json.loads((res / "bayes/best.json").read_text()),
        best=read(res / "best/history.csv"), mlp=read(res / "mlp/history.csv"),
        mlp_run={"model": "mlp", "hidden": [512, 256]},
        best_test={"accuracy": 0.5}, mlp_test={"accuracy": 0.4},
    )
    assert "| Chance level | 10 genres | 10.00% | 10.00% |" in text
    assert "state 341, steps 4, readout, 8 epochs" in text
    assert "| 50.00% |" in text and "| 40.00% |" in text
    assert "best run vs feedforward" in text and "beyond noise" in text
    assert "grid steps values within noise of the best (6)" in text


def test_seed_noise_needs_several_seeds():
    one_seed = pd.DataFrame({"steps": [4, 6], "max_valid_acc": [0.3, 0.4]})
    assert seed_noise(one_seed) is None
    two_seeds = pd.DataFrame({"steps": [4, 4, 6, 6], "max_valid_acc": [0.3, 0.32, 0.4, 0.4]})
    assert seed_noise(two_seeds) == pytest.approx((0.02**2 / 2 / 2) ** 0.5)


def test_data_plot_and_search_code_never_imports_tensorflow():
    modules = ["msdrnn.msd", "msdrnn.synthetic", "msdrnn.dataset", "msdrnn.dataset_io",
               "msdrnn.reference", "msdrnn.search", "msdrnn.plots", "msdrnn.summary",
               "plot_run", "plot_grid", "plot_bayes", "plot_confusion", "write_summary",
               "summarize_grid", "bayes_propose", "bayes_collect", "evaluate",
               "prepare_dataset", "make_steps", "generate_synthetic"]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "import skopt, msdrnn.search as s; s.SearchSpace(1, 2, (1,)).dimensions()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True,
                            capture_output=True, text=True)
    assert result.stdout.strip() == "[]"

"""The search, grid and plot scripts take every file from their command line, and refuse
malformed input with one `error:` line and exit code 2, writing nothing."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import SCRIPTS, run_main

HISTORY = "epoch,train_loss,train_acc,valid_loss,valid_acc,seconds\n1,2.0,0.2,2.1,0.3,1.0\n"


def write_trial(folder: Path, trial: int, history: str = HISTORY) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    proposal = folder / "proposal.json"
    proposal.write_text(json.dumps({"trial": trial, "kind": "guided", "state_size": 20,
                                    "steps": 4, "readout": True, "substituted": False,
                                    "substitution": None, "batch_size": 1,
                                    "replay_differences": []}))
    (folder / "history.csv").write_text(history)
    return proposal, folder / "history.csv"


def assert_refused(code: int, err: str, *names: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    for name in names:
        assert name in lines[0], (name, lines[0])


def test_histories_arrive_from_the_command_line_not_from_beside_the_proposal(tmp_path):
    """The history of a trial is the one named on the command line, wherever it is."""
    proposal, _ = write_trial(tmp_path / "a", 0, HISTORY.replace("0.3,1.0", "0.9,1.0"))
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text(HISTORY)
    out = tmp_path / "out"
    code, err = run_main("bayes_collect", *[
        "--proposals", proposal, "--histories", elsewhere,
        "--trials-out", out / "trials.csv", "--best-out", out / "best.json",
        "--names", "state_size", "steps"])
    assert code == 0, err
    assert pd.read_csv(out / "trials.csv")["max_valid_acc"].tolist() == [0.3]


def test_collect_refuses_unpaired_and_malformed_trials(tmp_path):
    p0, h0 = write_trial(tmp_path / "t0", 0)
    p1, _ = write_trial(tmp_path / "t1", 1, history="epoch,valid_acc\n1,0.5\n")
    out = tmp_path / "out"
    outputs = ["--trials-out", out / "trials.csv", "--best-out", out / "best.json",
               "--names", "state_size", "steps"]
    code, err = run_main("bayes_collect",
                           *["--proposals", p0, p1, "--histories", h0, *outputs])
    assert_refused(code, err, "2 proposals but 1 histories")
    code, err = run_main("bayes_collect", *["--proposals", p0, p1, "--histories", h0,
                                             tmp_path / "t1/history.csv", *outputs])
    assert_refused(code, err, "t1/history.csv", "missing columns")
    (tmp_path / "t1/proposal.json").write_text("[1, 2]")
    code, err = run_main("bayes_collect", *["--proposals", p0, p1, "--histories", h0, h0,
                                             *outputs])
    assert_refused(code, err, "t1/proposal.json", "JSON object")
    assert not out.exists()


def test_propose_refuses_a_broken_earlier_trial(tmp_path):
    proposal, history = write_trial(tmp_path / "t0", 0, history="not,a\nhistory")
    out = tmp_path / "t1/proposal.json"
    code, err = run_main("bayes_propose", *[
        "--trial", 1, "--seed", 0, "--dimension", "state_size=int:15..40",
        "--dimension", "steps=cat:4,6",
        "--proposals", proposal, "--histories", history, "--out", out])
    assert_refused(code, err, "t0/history.csv")
    assert not out.exists()


def test_grid_summary_needs_grid_folders(tmp_path):
    history = tmp_path / "somewhere/history.csv"
    history.parent.mkdir()
    history.write_text(HISTORY)
    out = tmp_path / "summary.csv"
    code, err = run_main("summarize_grid", *["--out", out, history])
    assert_refused(code, err, "somewhere/history.csv", "steps_K/seed_S")
    assert not out.exists()


def test_plot_scripts_write_exactly_the_files_they_are_given(tmp_path):
    grid = tmp_path / "grid"
    histories = []
    for steps in (4, 6):
        path = grid / f"steps_{steps}/seed_0/history.csv"
        path.parent.mkdir(parents=True)
        path.write_text(HISTORY)
        histories.append(path)
    summary = tmp_path / "summary.csv"
    code, err = run_main("summarize_grid", *["--out", summary, *histories])
    assert code == 0, err
    figures = tmp_path / "figures"
    names = ["max-valid-accuracy", "train-error", "valid-error", "train-accuracy",
             "valid-accuracy"]
    files = {name: [figures / f"{name}.png", figures / f"other/{name}.pdf"] for name in names}
    argv = ["--summary", summary, "--histories", *histories, "--top-steps", 2,
            "--state-size", 10, "--epochs", 1, "--dpi", 30]
    for name in names:
        argv += [f"--{name}", *files[name]]
    code, err = run_main("plot_grid", *argv)
    assert code == 0, err
    assert sorted(figures.rglob("*.*")) == sorted(f for pair in files.values() for f in pair)

    run = tmp_path / "run.json"
    run.write_text(json.dumps({"hyperparameters": {"steps": 4, "state_size": 20,
                                                   "readout": True}}))
    out = [tmp_path / "run/error.png", tmp_path / "run/accuracy.pdf"]
    code, err = run_main("plot_run", *["--history", histories[0], "--run", run,
                                        "--title", "T", "--dpi", 30, "--error", out[0],
                                        "--accuracy", out[1]])
    assert code == 0, err
    assert sorted((tmp_path / "run").iterdir()) == sorted(out)


def test_plot_scripts_refuse_malformed_input(tmp_path):
    history = tmp_path / "steps_4/seed_0/history.csv"
    history.parent.mkdir(parents=True)
    history.write_text(HISTORY)
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"hyperparameters": {"readout": True}}))
    out = tmp_path / "figures"
    code, err = run_main("plot_run", *["--history", history, "--run", run, "--title", "T",
                                        "--error", out / "e.png", "--accuracy",
                                        out / "a.png"])
    assert_refused(code, err, "run.json", "steps")
    summary = tmp_path / "summary.csv"
    summary.write_text("steps,seed\n4,0\n")
    argv = ["--summary", summary, "--histories", history, "--state-size", 10, "--epochs", 1]
    for name in ("max-valid-accuracy", "train-error", "valid-error", "train-accuracy",
                 "valid-accuracy"):
        argv += [f"--{name}", out / f"{name}.png"]
    code, err = run_main("plot_grid", *argv)
    assert_refused(code, err, "summary.csv", "max_valid_acc")
    assert not out.exists()


@pytest.mark.parametrize("name", sorted(
    path.stem for path in (SCRIPTS).glob("*.py")))
def test_every_owned_script_follows_the_cli_contract(name):
    """`main(argv) -> int`, run through `cli.run` when executed; its code passed to
    sys.exit, or (train.py, to skip TensorFlow's teardown) to an exit that runs the exit
    handlers first."""
    module = importlib.import_module(name)
    source = Path(module.__file__).read_text()
    ending = re.search(r"^    (sys\.exit|exit_now)\(run\(main\)\)$", source, flags=re.M)
    assert ending, "no sys.exit(run(main)) when executed"
    if ending[1] == "exit_now":
        assert "atexit._run_exitfuncs()" in source and "os._exit(code)" in source
    assert not re.search(r"(?<![\w.])print\(", source)  # logging, not print

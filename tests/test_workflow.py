"""End to end: the smoke study through Snakemake, then its rerun semantics and faults.

The session's smoke study (conftest.py's ``smoke_study``, run once) is read by every test
here: each rerun test edits one thing (a config written beside the test, or a code file in
a copy of the study made with hard links), asks Snakemake for a dry run and checks exactly
which jobs it plans. Rule names and result folders come from helpers.py; the rule sets and
job counts that only these tests use are below.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import (
    DATA_RULES,
    MLP_RUNS,
    MLP_SEARCH,
    MLP_TRAIN,
    MODEL_MODULE,
    PLOT_RULES,
    RNN_RUNS,
    RNN_SEARCH,
    ROOT,
    SHUFFLED_RNN_RUNS,
    SMOKE,
    TRAIN_RULES,
    copy_study,
    dry_run,
    planned_jobs,
    snakemake,
    snakemake_command,
)

from msdrnn.resources import job_usage
from msdrnn.results import read_history, read_json
from msdrnn.search import Acquisition, objective, propose, rnn_space

MLP_SEARCH_RULES = {"mlp_propose", "mlp_trial", "mlp_collect", "plot_mlp_search"}
SUMMARY_RULES = {"write_summary", "collect_runs", "plot_controls"}
RNN_SEARCH_RULES = {"bayes_propose", "bayes_trial", "bayes_collect", "plot_bayes"}
RNN_TRAIN, SHUFFLED_RNN_TRAIN = "best_train", "shuffled_rnn_train"
GRID_JOBS = 6  # grid.steps x grid.seeds of the smoke config
TRIALS = 4  # bayes.n_calls of the smoke config, each search

pytestmark = pytest.mark.slow


@pytest.fixture
def study(smoke_study) -> Path:
    """The shared smoke study's folder (read only)."""
    return smoke_study.workdir


def edited_config(folder: Path, **changes: dict) -> Path:
    """The smoke config with some sections updated, written in ``folder`` (not in the
    shared study); its path, for ``--configfile``."""
    config = yaml.safe_load((ROOT / SMOKE).read_text())
    for section, values in changes.items():
        config[section].update(values)
    path = folder / "edited.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_the_rule_and_folder_names_of_the_tests_are_the_workflows(study: Path):
    """helpers.py names rules and folders once; a renamed rule or folder fails here first."""
    jobs = dry_run(study, "--forceall")
    rules = {job.rule for job in jobs}
    assert {job.rule for job in jobs if job.script == "train.py"} == TRAIN_RULES, rules
    assert {job.rule for job in jobs if (job.script or "").startswith("plot_")} == PLOT_RULES
    assert DATA_RULES | MLP_SEARCH_RULES | SUMMARY_RULES | RNN_SEARCH_RULES <= rules, rules
    assert {MLP_TRAIN, RNN_TRAIN, SHUFFLED_RNN_TRAIN} <= TRAIN_RULES
    for folder in (RNN_SEARCH, RNN_RUNS, MLP_SEARCH, MLP_RUNS, SHUFFLED_RNN_RUNS):
        assert (study / folder).is_dir(), folder


def test_smoke_study_outputs(study: Path):
    results = study / "results"
    for path in ["summary.md", "summary.json", "runs.csv", "grid/summary.csv",
                 "figures/grid_max_valid_accuracy.png",
                 "figures/bayes_objective.pdf", "figures/bayes_space.png",
                 "figures/best_test_confusion.png", "figures/controls_accuracy.pdf",
                 "controls/song_stats/fit.json"]:
        assert (results / path).is_file(), path
    for path in [f"{RNN_SEARCH}/trials.csv", f"{RNN_SEARCH}/best.json"]:
        assert (study / path).is_file(), path
    grid = pd.read_csv(results / "grid/summary.csv")
    assert sorted(set(grid["steps"])) == [4, 6, 10]
    assert sorted(set(grid["seed"])) == [0, 1]
    trials = pd.read_csv(study / RNN_SEARCH / "trials.csv")
    assert list(trials["trial"]) == list(range(TRIALS))
    assert trials["state_size"].between(15, 40).all()
    assert set(trials["steps"]) <= {4, 6, 10}
    best = read_json(study / RNN_SEARCH / "best.json")
    top = trials.loc[trials["objective"].idxmax()]
    assert (best["state_size"], best["steps"]) == (top["state_size"], top["steps"])
    for folder in (f"{RNN_RUNS}/seed_1", f"{SHUFFLED_RNN_RUNS}/seed_1"):
        run = read_json(study / folder / "run.json")
        hyper = run["hyperparameters"]
        assert (hyper["state_size"], hyper["steps"]) == (best["state_size"], best["steps"])
        assert run["seed"] == 1  # a seed no trial used
        assert (study / folder / "weights_best.npz").is_file()
    shuffled = read_json(study / SHUFFLED_RNN_RUNS / "seed_1/run.json")
    assert shuffled["dataset"] == "results/controls/shuffled_dataset.h5"
    summary = (results / "summary.md").read_text()
    assert "| Chance level | 10 genres | 10.00% | 10.00% | 10.00% |" in summary
    assert "RNN, best parameters vs RNN on shuffled segments (control)" in summary
    # every model evaluated on test, with best-epoch and final weights
    for folder in ("results/baseline/seed_0", f"{RNN_RUNS}/seed_1", f"{MLP_RUNS}/seed_1",
                   f"{SHUFFLED_RNN_RUNS}/seed_1", "results/controls/song_stats"):
        metrics = read_json(study / folder / "test_metrics.json")
        assert metrics["songs"] == 60 and len(metrics["targets"]) == 60, folder
        for section in ("best_epoch", "final"):
            part = metrics[section]
            assert np.sum(part["confusion_matrix"]) == 60
            assert set(part["per_genre_accuracy"]) == set(metrics["genres"])
            hits = np.mean(np.equal(part["predicted"], metrics["targets"]))
            assert part["accuracy"] == pytest.approx(hits)
    runs = pd.read_csv(results / "runs.csv")  # kinds: a run's folder, 3 epochs each
    assert list(runs.columns) == ["run", "kind", "state_size", "steps", "readout", "seed",
                                  "epoch", "train_loss", "train_acc", "valid_loss",
                                  "valid_acc", "seconds"]
    assert runs["kind"].value_counts().to_dict() == {
        "grid": GRID_JOBS * 3, "bayes": TRIALS * 3, "mlp_search": TRIALS * 3, "baseline": 3,
        "best": 3, "mlp": 3, "shuffled_rnn": 3}
    # per-step arrays are virtual datasets over dataset.h5: no copy of the data
    dataset_size = (results / "data/dataset.h5").stat().st_size
    for path in (results / "data").glob("steps_*.h5"):
        assert path.stat().st_size < dataset_size / 20, path
    # every submitted job's log says where it ran
    assert (results / "logs/baseline/train_seed_0.log").read_text().startswith("job local on ")


def test_no_job_uses_more_memory_than_it_declares(study: Path):
    """Each job's peak RSS (its benchmark file's max_rss) fits the mem_mb Snakemake passed
    it (its log's resources line): a cluster that enforces memory would kill it otherwise."""
    jobs = job_usage(study / "results")
    assert TRAIN_RULES | {"song_stats", "prepare_dataset", "evaluate_test"} <= {
        job.rule for job in jobs}
    undeclared = [job.name for job in jobs if job.mem_mb is None]
    assert not undeclared, f"jobs without mem_mb: {undeclared}"
    over = [f"{job.name} ({job.rule}): peak {job.max_rss:.0f} MB > mem_mb {job.mem_mb}"
            for job in jobs if (job.mem_ratio or 0) > 1]
    assert not over, "jobs above their declared memory:\n" + "\n".join(over)


def test_interrupted_search_continues_with_the_same_proposals(study: Path):
    """Trials 2 and 3 were proposed in a second invocation; recomputing every proposal
    from the earlier results (what an uninterrupted search does) gives the same points."""
    config = yaml.safe_load((study / SMOKE).read_text())["bayes"]
    space = rnn_space(config["state_min"], config["state_max"], tuple(config["steps"]))
    earlier = []
    for trial in range(config["n_calls"]):
        folder = study / RNN_SEARCH / f"trial_{trial:03d}"
        proposal = read_json(folder / "proposal.json")
        expected = propose(trial, space, earlier, seed=0, n_initial=config["n_initial"],
                           acquisition=Acquisition(kappa=config["kappa"])).point
        assert (proposal["state_size"], proposal["steps"]) == expected
        history = read_history(folder / "history.csv")
        earlier.append((expected, objective(history["valid_acc"], 0.1)))


def test_second_run_has_nothing_to_do(study: Path):
    assert planned_jobs(study) == Counter()


def test_plot_option_reruns_only_plots(study: Path, tmp_path: Path):
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, plots={"dpi": 61}))
    assert set(jobs) - {"all"} == PLOT_RULES


def test_kappa_reruns_guided_trials_and_what_depends_on_them(study: Path, tmp_path: Path):
    """Both searches share the acquisition settings: each reruns its guided trials."""
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, bayes={"kappa": 0.5}))
    assert jobs["bayes_propose"] == 3  # trials 1..3, never the random start
    assert jobs["bayes_trial"] == 3
    assert jobs["mlp_propose"] == 3 and jobs["mlp_trial"] == 3
    assert {"bayes_collect", "best_train", "shuffled_rnn_train", "write_summary",
            "plot_bayes", "mlp_collect", "mlp_train"} <= set(jobs)
    assert not {"baseline_train", "grid_train", "prepare_dataset", "song_stats"} & set(jobs)


def test_more_trials_run_only_the_new_trials(study: Path, tmp_path: Path):
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, bayes={"n_calls": 6}))
    assert jobs["bayes_propose"] == 2 and jobs["mlp_propose"] == 2
    assert jobs["bayes_trial"] == 2 and jobs["mlp_trial"] == 2
    assert {"bayes_collect", "best_train", "mlp_collect", "mlp_train",
            "write_summary"} <= set(jobs)
    assert not {"baseline_train", "grid_train"} & set(jobs)


def test_mlp_search_space_reruns_only_the_mlp_side(study: Path, tmp_path: Path):
    """New width bounds: every MLP proposal (the space decides the random start too), its
    trials, confirmation runs, their evaluation and what reads them; no RNN job."""
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, mlp={"width_max": 48}))
    assert jobs["mlp_propose"] == 4 and jobs["mlp_trial"] == 4
    assert set(jobs) - {"all"} == MLP_SEARCH_RULES | {"mlp_train", "evaluate_test",
                                                       "plot_run"} | SUMMARY_RULES
    assert jobs["evaluate_test"] == 1  # results/mlp/seed_1


def test_grid_epochs_rerun_grid_jobs_and_their_plots_only(study: Path, tmp_path: Path):
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, grid={"epochs": 4}))
    assert jobs["grid_train"] == 6
    assert set(jobs) - {"all"} == {"grid_train", "summarize_grid", "plot_grid"} | SUMMARY_RULES


def test_more_confirmation_seeds_rerun_only_the_new_runs_and_what_follows(study: Path,
                                                                           tmp_path: Path):
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, best={"seeds": [1, 2]}))
    assert jobs["best_train"] == 1 and jobs["shuffled_rnn_train"] == 1  # seed 2 only
    assert jobs["evaluate_test"] == 2
    assert set(jobs) - {"all"} == {"best_train", "shuffled_rnn_train", "evaluate_test",
                                   "plot_confusion"} | SUMMARY_RULES


def _edit_and_plan(study: Path, relative: str, copy: Path) -> Counter:
    """Plan after appending a comment to a code file, in a copy of the study."""
    copy_study(study, copy)
    path = copy / relative
    path.write_text(path.read_text() + "\n# edited\n")
    return planned_jobs(copy)


def test_model_code_edit_reruns_training_jobs(study: Path, tmp_path: Path):
    jobs = _edit_and_plan(study, MODEL_MODULE, tmp_path / "study")
    assert TRAIN_RULES <= set(jobs)
    assert jobs["grid_train"] == GRID_JOBS and jobs["bayes_trial"] == TRIALS
    assert jobs["mlp_trial"] == TRIALS
    assert not {"generate_synthetic", "prepare_dataset"} & set(jobs)


def test_plotting_script_edit_reruns_only_its_plots(study: Path, tmp_path: Path):
    jobs = _edit_and_plan(study, "workflow_scripts/plot_grid.py", tmp_path / "study")
    assert set(jobs) - {"all"} == {"plot_grid"}


def test_figures_target_rebuilds_figures_and_summary_only(study: Path):
    ran = {job.rule for job in dry_run(study, "figures", "--forcerun", *PLOT_RULES,
                                       "write_summary")}
    assert ran - {"figures"} == PLOT_RULES | {"write_summary"}


def test_report_has_every_figure_with_a_caption(study: Path, tmp_path: Path):
    snakemake(study, "--report", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text(errors="replace")
    for name in ("grid_max_valid_accuracy.png", "bayes_objective.png", "bayes_space.png",
                 "best_error.png", "controls_accuracy.png"):
        assert name in html


def test_sigkill_of_the_workflow_loses_only_unfinished_epochs(study: Path, tmp_path: Path):
    """Kill the whole Snakemake process group mid-training, release the lock the killed
    Snakemake left (`--unlock`), start the same command again: the training job resumes
    from its last checkpoint instead of starting over. The copy of the study shares its
    data (hard links, never rewritten: only the baseline runs)."""
    workdir = copy_study(study, tmp_path / "study", linked=["results/data"])
    config = edited_config(tmp_path, baseline={"epochs": 40})
    target = ["results/baseline/seed_0/history.csv", "--rerun-incomplete"]
    checkpoint = workdir / "results/baseline/seed_0/checkpoint"
    process = subprocess.Popen(snakemake_command(*target, configfile=config), cwd=workdir,
                               start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and _checkpoint_epoch(checkpoint) < 3:
            assert process.poll() is None, "the workflow ended before it was killed"
            time.sleep(0.2)
        assert _checkpoint_epoch(checkpoint) >= 3, "no checkpoint appeared in time"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    done = _checkpoint_epoch(checkpoint)
    snakemake(workdir, *target, "--unlock", configfile=config)
    result = snakemake(workdir, *target, configfile=config)
    ran = re.findall(r"^(?:local)?rule (\w+):", result.stdout + result.stderr, flags=re.M)
    assert ran == ["baseline_train"], ran  # so no hard-linked file was rewritten
    log = (workdir / "results/logs/baseline/train_seed_0.log").read_text()
    assert f"resuming after epoch {done} " in log, log[-2000:]
    assert len(read_history(workdir / "results/baseline/seed_0/history.csv")) == 40


def _checkpoint_epoch(folder: Path) -> int:
    """The last finished epoch recorded in a trainer checkpoint folder (0: none)."""
    path = folder / "checkpoint.npz"
    try:
        with np.load(path) as saved:
            return int(json.loads(str(saved["progress_json"]))["epoch"])
    except (OSError, ValueError, KeyError):
        return 0

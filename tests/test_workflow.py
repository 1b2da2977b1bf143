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
    JOB_SIZING,
    MLP_FAMILY,
    MLP_RUNS,
    MLP_SEARCH,
    MODEL_TRAIN,
    PLOT_RULES,
    RNN_FAMILY,
    RNN_RUNS,
    RNN_SEARCH,
    ROOT,
    SEARCH_RULES,
    SHARED_LAYERS,
    SHUFFLED_MODELS,
    SHUFFLED_RNN_RUNS,
    SHUFFLED_TRAIN,
    SMOKE,
    SMOKE_MODELS,
    SUMMARY_RULES,
    TRAIN_RULES,
    copy_study,
    dry_run,
    planned_jobs,
    runs_folder,
    search_folder,
    shuffled_folder,
    snakemake,
    snakemake_command,
)

from msdrnn.resources import job_usage
from msdrnn.results import read_history, read_json
from msdrnn.search import Acquisition, SearchSpace, objective, propose, space_from_config

GRID_JOBS = 3  # grid.steps of the smoke config: one job per steps value trains every seed
GRID_RUNS = 6  # grid.steps x grid.seeds
TRIALS = 2  # bayes.n_calls of the smoke config, each search
SEARCHES = len(SMOKE_MODELS)  # every listed model of the smoke study is searched

pytestmark = pytest.mark.slow


@pytest.fixture
def study(smoke_study) -> Path:
    """The shared smoke study's folder (read only)."""
    return smoke_study.workdir


def edited_config(folder: Path, **changes: dict) -> Path:
    """The smoke config with some sections updated (``models`` one model's block at a
    time), written in ``folder`` (not in the shared study); its path, for
    ``--configfile``."""
    config = yaml.safe_load((ROOT / SMOKE).read_text())
    for section, values in changes.items():
        if section == "models":
            for name, block in values.items():
                config["models"].setdefault(name, {}).update(block)
        else:
            config.setdefault(section, {}).update(values)
    path = folder / "edited.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_the_rule_and_folder_names_of_the_tests_are_the_workflows(study: Path):
    """helpers.py names rules and folders once; a renamed rule or folder fails here first."""
    jobs = dry_run(study, "--forceall")
    rules = {job.rule for job in jobs}
    assert {job.rule for job in jobs if job.script == "train.py"} == TRAIN_RULES, rules
    assert {job.rule for job in jobs if (job.script or "").startswith("plot_")} == PLOT_RULES
    assert DATA_RULES | SEARCH_RULES | SUMMARY_RULES <= rules, rules
    assert {MODEL_TRAIN, SHUFFLED_TRAIN} <= TRAIN_RULES
    assert {job.model for job in jobs if job.rule == MODEL_TRAIN} == set(SMOKE_MODELS)
    assert {job.model for job in jobs if job.rule == SHUFFLED_TRAIN} == set(SHUFFLED_MODELS)
    folders = [RNN_SEARCH, RNN_RUNS, MLP_SEARCH, MLP_RUNS, SHUFFLED_RNN_RUNS]
    folders += [f(model) for model in SMOKE_MODELS for f in (search_folder, runs_folder)]
    folders += [shuffled_folder(model) for model in SHUFFLED_MODELS]
    for folder in folders:
        assert (study / folder).is_dir(), folder
    for module in (RNN_FAMILY, MLP_FAMILY, SHARED_LAYERS, JOB_SIZING):
        assert (ROOT / module).is_file(), module


def test_smoke_study_outputs(study: Path):
    results = study / "results"
    for path in ["summary.md", "summary.json", "runs.csv", "grid/summary.csv",
                 "figures/grid_max_valid_accuracy.png", "figures/rnn_search_objective.pdf",
                 "figures/rnn_search_space.png", "figures/mlp_search_space.png",
                 "figures/rnn_test_confusion.png", "figures/mlp_test_confusion.png",
                 "figures/controls_accuracy.pdf", "controls/song_stats/fit.json"]:
        assert (results / path).is_file(), path
    for model in SMOKE_MODELS:
        for path in [f"{search_folder(model)}/trials.csv", f"{search_folder(model)}/best.json",
                     f"results/figures/{model}_search_space.png",
                     f"results/figures/{model}_test_confusion.png"]:
            assert (study / path).is_file(), path
    # every figure of every plotting rule, as PNG and PDF, each with content
    figures = {path.stem: set() for path in (results / "figures").iterdir()}
    for path in (results / "figures").iterdir():
        assert path.stat().st_size > 1000, path
        figures[path.stem].add(path.suffix)
    assert all(suffixes == {".png", ".pdf"} for suffixes in figures.values()), figures
    assert {"baseline_error", "grid_train_error", "grid_valid_accuracy", "controls_accuracy",
            *(f"{model}_{name}" for model in SMOKE_MODELS
              for name in ("error", "accuracy", "search_objective", "search_space",
                           "search_valid_error", "test_confusion"))} <= set(figures), figures
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
    assert ("RNN, best parameters vs RNN, best parameters on shuffled segments (control)"
            in summary)
    # the primary opponent is the non-recurrent model highest on validation (which one is
    # a matter of the smoke study's numbers)
    assert re.search(r"is the (Feedforward network|Temporal convolutional network); "
                     r"the RNN, best parameters against it", summary)
    mlp_best = read_json(study / MLP_SEARCH / "best.json")
    assert 0 <= mlp_best["dropout"] <= 0.5  # dropout is searched
    # every model evaluated on test, with best-epoch and final weights
    evaluated = ["results/baseline/seed_0", "results/controls/song_stats",
                 *(f"{runs_folder(model)}/seed_1" for model in SMOKE_MODELS),
                 *(f"{shuffled_folder(model)}/seed_1" for model in SHUFFLED_MODELS)]
    for folder in evaluated:
        metrics = read_json(study / folder / "test_metrics.json")
        assert metrics["songs"] == 60 and len(metrics["targets"]) == 60, folder
        for section in ("best_epoch", "final"):
            part = metrics[section]
            assert np.sum(part["confusion_matrix"]) == 60
            assert set(part["per_genre_accuracy"]) == set(metrics["genres"])
            hits = np.mean(np.equal(part["predicted"], metrics["targets"]))
            assert part["accuracy"] == pytest.approx(hits)
    runs = pd.read_csv(results / "runs.csv")  # kinds: a run's folder, 3 epochs each
    assert list(runs.columns) == ["run", "kind", "model", "state_size", "steps", "readout",
                                  "seed", "hparams", "epoch", "train_loss", "train_acc",
                                  "valid_loss", "valid_acc", "seconds"]
    assert runs["kind"].value_counts().to_dict() == {
        "grid": GRID_RUNS * 3, "search": SEARCHES * TRIALS * 3, "baseline": 3,
        **{model: 3 for model in SMOKE_MODELS}, "shuffled": len(SHUFFLED_MODELS) * 3}
    assert runs.groupby("kind")["model"].agg(set).to_dict() == {
        "grid": {"rnn"}, "search": set(SMOKE_MODELS), "baseline": {"rnn"},
        **{model: {model} for model in SMOKE_MODELS}, "shuffled": set(SHUFFLED_MODELS)}
    mlp_row = runs[runs["kind"] == "mlp"].iloc[0]
    assert json.loads(mlp_row["hparams"]) == {
        key: mlp_best[key] for key in ("width", "depth", "dropout")}
    # per-step arrays are virtual datasets over dataset.h5: no copy of the data
    dataset_size = (results / "data/dataset.h5").stat().st_size
    for path in (results / "data").glob("steps_*.h5"):
        assert path.stat().st_size < dataset_size / 20, path
    # every submitted job's log says where it ran
    assert (results / "logs/baseline/train.log").read_text().startswith("job local on ")


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
    """The trials after trial 0 were proposed in a second invocation; recomputing every proposal
    from the earlier results (what an uninterrupted search does) gives the same points."""
    smoke = yaml.safe_load((study / SMOKE).read_text())
    config = smoke["bayes"]
    space = SearchSpace(tuple(space_from_config(smoke["models"]["rnn"]["space"])))
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
    """Every search shares the acquisition settings: each reruns its guided trials."""
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, bayes={"kappa": 0.5}))
    guided = SEARCHES * (TRIALS - 1)  # every search's trials but its random start
    assert jobs["search_propose"] == guided
    assert jobs["search_trial"] == guided
    assert {"search_collect", MODEL_TRAIN, SHUFFLED_TRAIN, "write_summary",
            "plot_search"} <= set(jobs)
    assert not {"baseline_train", "grid_train", "prepare_dataset", "song_stats"} & set(jobs)


def test_more_trials_run_only_the_new_trials(study: Path, tmp_path: Path):
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, bayes={"n_calls": 6}))
    new = (6 - TRIALS) * SEARCHES
    assert jobs["search_propose"] == new and jobs["search_trial"] == new
    assert {"search_collect", MODEL_TRAIN, "write_summary"} <= set(jobs)
    assert not {"baseline_train", "grid_train"} & set(jobs)


def model_of(output: str) -> str | None:
    """The listed model a job's output belongs to (None: the study's shared outputs)."""
    match = re.match(r"results/(?:controls/shuffled_|figures/)?([a-z]+)(?:_search)?[/_]",
                     output)
    return match[1] if match and match[1] in SMOKE_MODELS else None


def test_one_models_section_reruns_only_that_models_jobs(study: Path, tmp_path: Path):
    """Editing models.mlp (its epochs, its space) plans the MLP's jobs and what reads them
    (the summary, runs.csv, the controls figure), never another model's job; the same for
    the RNN's block."""
    mlp_space = {"width": {"int": [16, 48], "prior": "log-uniform"},
                 "depth": {"categories": [1, 2]}}
    for model, block, rules in [
        ("mlp", {"epochs": 4}, {MODEL_TRAIN, "evaluate_test", "plot_run", "plot_confusion"}),
        ("mlp", {"space": mlp_space},
         SEARCH_RULES | {MODEL_TRAIN, "evaluate_test", "plot_run", "plot_confusion"}),
        ("rnn", {"epochs": 4}, {MODEL_TRAIN, SHUFFLED_TRAIN, "evaluate_test", "plot_run",
                                "plot_confusion"}),
    ]:
        jobs = dry_run(study, configfile=edited_config(tmp_path, models={model: block}))
        assert {job.rule for job in jobs} - {"all"} == rules | SUMMARY_RULES, (model, block)
        owners = {model_of(output) for job in jobs if job.rule not in SUMMARY_RULES | {"all"}
                  for output in job.outputs}
        assert owners == {model}, (model, block, jobs)
    jobs = planned_jobs(study, configfile=edited_config(tmp_path,
                                                        models={"mlp": {"space": mlp_space}}))
    assert jobs["search_propose"] == TRIALS and jobs["search_trial"] == TRIALS
    assert jobs["evaluate_test"] == 1  # results/mlp/seed_1


def test_grid_epochs_rerun_grid_jobs_and_their_plots_only(study: Path, tmp_path: Path):
    jobs = planned_jobs(study, configfile=edited_config(tmp_path, grid={"epochs": 4}))
    assert jobs["grid_train"] == GRID_JOBS
    assert set(jobs) - {"all"} == {"grid_train", "summarize_grid", "plot_grid"} | SUMMARY_RULES


def test_more_confirmation_seeds_rerun_that_models_runs_and_what_follows(study: Path,
                                                                         tmp_path: Path):
    """One job trains all seeds of a model: a new seed retrains the model's job (its seed 1
    to the same bits) and its control's, and what reads them; no other model's job."""
    jobs = planned_jobs(study, configfile=edited_config(tmp_path,
                                                        models={"rnn": {"seeds": [1, 2]}}))
    assert jobs[MODEL_TRAIN] == 1 and jobs[SHUFFLED_TRAIN] == 1  # the RNN's, seeds 1 and 2
    assert jobs["evaluate_test"] == 4  # seeds 1 and 2 of the runs and of the control
    assert set(jobs) - {"all"} == {MODEL_TRAIN, SHUFFLED_TRAIN, "evaluate_test",
                                   "plot_run", "plot_confusion"} | SUMMARY_RULES


def _edit_and_plan(study: Path, relative: str, copy: Path) -> Counter:
    """Plan after appending a comment to a code file, in a copy of the study."""
    copy_study(study, copy)
    path = copy / relative
    path.write_text(path.read_text() + "\n# edited\n")
    return planned_jobs(copy)


def test_a_model_family_edit_reruns_that_models_training_jobs_only(study: Path,
                                                                     tmp_path: Path):
    jobs = _edit_and_plan(study, RNN_FAMILY, tmp_path / "rnn")
    assert TRAIN_RULES <= set(jobs)
    assert jobs["grid_train"] == GRID_JOBS and jobs["search_trial"] == TRIALS  # the RNN's
    assert jobs[MODEL_TRAIN] == 1 and jobs[SHUFFLED_TRAIN] == 1  # rnn/seed_1, its control
    assert not {"generate_synthetic", "prepare_dataset"} & set(jobs)
    jobs = _edit_and_plan(study, MLP_FAMILY, tmp_path / "mlp")
    assert jobs["search_trial"] == TRIALS and jobs[MODEL_TRAIN] == 1  # the MLP's
    assert not {"baseline_train", "grid_train", SHUFFLED_TRAIN} & set(jobs)
    jobs = _edit_and_plan(study, SHARED_LAYERS, tmp_path / "layers")
    assert TRAIN_RULES <= set(jobs) and jobs["search_trial"] == SEARCHES * TRIALS
    assert jobs[MODEL_TRAIN] == len(SMOKE_MODELS)


def test_editing_the_job_sizing_reruns_no_job(study: Path, tmp_path: Path):
    """msdrnn/resources.py sizes the jobs (memory, runtime); no script a job runs imports
    it, so an edit plans nothing (it once reran every training job)."""
    assert _edit_and_plan(study, JOB_SIZING, tmp_path / "study") == Counter()


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
    for name in ("grid_max_valid_accuracy.png", "rnn_search_objective.png",
                 "rnn_search_space.png", "rnn_error.png", "mlp_search_objective.png",
                 "controls_accuracy.png"):
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
    log = (workdir / "results/logs/baseline/train.log").read_text()
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

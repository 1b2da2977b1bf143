"""End to end: the smoke study through Snakemake, then its rerun semantics and faults.

One completed smoke run (in a copy of the repository) is shared by the module; each rerun
test edits one thing, asks Snakemake for a dry run and checks exactly which jobs it plans.
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
from helpers import copy_repo

from msdrnn.resources import job_usage
from msdrnn.results import read_history, read_json
from msdrnn.search import Acquisition, SearchSpace, objective, propose, space_from_config

SMOKE = "configs/smoke.yaml"
# the rule names and paths of the generic rules (a {model} wildcard for every listed model)
PLOT_RULES = {"plot_run", "plot_grid", "plot_search", "plot_confusion", "plot_controls"}
TRAIN_RULES = {"baseline_train", "grid_train", "search_trial", "model_train",
               "shuffled_train"}
SEARCH_RULES = {"search_propose", "search_trial", "search_collect", "plot_search"}
SUMMARY_RULES = {"write_summary", "collect_runs", "plot_controls"}

pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["snakemake", "--cores", "2", *args], cwd=workdir, capture_output=True, text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result


def planned_jobs(workdir: Path, configfile: str = SMOKE) -> Counter:
    """Rule -> number of jobs a dry run plans (from Snakemake's job stats table)."""
    result = snakemake(workdir, "-n", "--configfile", configfile)
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return Counter()
    table = text.split("Job stats:", 1)[1]
    jobs = Counter()
    for line in table.splitlines()[3:]:
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if not match:
            break
        if match[1] != "total":
            jobs[match[1]] = int(match[2])
    return jobs


def planned_outputs(workdir: Path, configfile: str = SMOKE) -> list[tuple[str, str]]:
    """(rule, first output) of every job a dry run plans."""
    result = snakemake(workdir, "-n", "--configfile", configfile)
    jobs = []
    text = result.stdout + result.stderr
    for block in re.split(r"\n(?=(?:local)?rule \w+:$)", text, flags=re.M):
        rule = re.search(r"^(?:local)?rule (\w+):$", block, flags=re.M)
        output = re.search(r"^\s+output: ([^,\n]+)", block, flags=re.M)
        if rule and rule[1] != "all":
            jobs.append((rule[1], output[1] if output else ""))
    return jobs


def edited_config(workdir: Path, **changes: dict) -> str:
    """The smoke config with some sections updated (``models`` one model's block at a
    time), written beside it; returns its name."""
    config = yaml.safe_load((workdir / SMOKE).read_text())
    for section, values in changes.items():
        if section == "models":
            for name, block in values.items():
                config["models"].setdefault(name, {}).update(block)
        else:
            config.setdefault(section, {}).update(values)
    path = workdir / "configs" / "edited.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return "configs/edited.yaml"


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """A completed smoke study. The search runs in two invocations (stopped after trial
    1, then resumed) so that the proposals of an interrupted search can be checked."""
    workdir = copy_repo(tmp_path_factory.mktemp("study"))
    snakemake(workdir, "results/rnn_search/trial_001/history.csv", "--configfile", SMOKE)
    assert not (workdir / "results/rnn_search/trial_002").exists()
    snakemake(workdir, "--configfile", SMOKE)
    return workdir


def test_smoke_study_outputs(study: Path):
    results = study / "results"
    for path in ["summary.md", "summary.json", "runs.csv", "grid/summary.csv",
                 "rnn_search/trials.csv", "rnn_search/best.json", "mlp_search/best.json",
                 "figures/grid_max_valid_accuracy.png", "figures/rnn_search_objective.pdf",
                 "figures/rnn_search_space.png", "figures/mlp_search_space.png",
                 "figures/rnn_test_confusion.png", "figures/mlp_test_confusion.png",
                 "figures/controls_accuracy.pdf", "controls/song_stats/fit.json"]:
        assert (results / path).is_file(), path
    grid = pd.read_csv(results / "grid/summary.csv")
    assert sorted(set(grid["steps"])) == [4, 6, 10]
    assert sorted(set(grid["seed"])) == [0, 1]
    trials = pd.read_csv(results / "rnn_search/trials.csv")
    assert list(trials["trial"]) == [0, 1, 2, 3]
    assert trials["state_size"].between(15, 40).all()
    assert set(trials["steps"]) <= {4, 6, 10}
    best = read_json(results / "rnn_search/best.json")
    top = trials.loc[trials["objective"].idxmax()]
    assert (best["state_size"], best["steps"]) == (top["state_size"], top["steps"])
    for folder in ("rnn/seed_1", "controls/shuffled_rnn/seed_1"):
        run = read_json(results / folder / "run.json")
        hyper = run["hyperparameters"]
        assert (hyper["state_size"], hyper["steps"]) == (best["state_size"], best["steps"])
        assert run["seed"] == 1  # a seed no trial used
        assert (results / folder / "weights_best.npz").is_file()
    shuffled = read_json(results / "controls/shuffled_rnn/seed_1/run.json")
    assert shuffled["dataset"] == "results/controls/shuffled_dataset.h5"
    summary = (results / "summary.md").read_text()
    assert "| Chance level | 10 genres | 10.00% | 10.00% | 10.00% |" in summary
    assert ("RNN, best parameters vs RNN, best parameters on shuffled segments (control)"
            in summary)
    assert "is the Feedforward network; the RNN, best parameters against it" in summary
    mlp_best = read_json(results / "mlp_search/best.json")
    assert 0 <= mlp_best["dropout"] <= 0.5  # dropout is searched
    # every model evaluated on test, with best-epoch and final weights
    for folder in ("baseline/seed_0", "rnn/seed_1", "mlp/seed_1", "controls/shuffled_rnn/seed_1",
                   "controls/song_stats"):
        metrics = read_json(results / folder / "test_metrics.json")
        assert metrics["songs"] == 60 and len(metrics["targets"]) == 60, folder
        for section in ("best_epoch", "final"):
            part = metrics[section]
            assert np.sum(part["confusion_matrix"]) == 60
            assert set(part["per_genre_accuracy"]) == set(metrics["genres"])
            hits = np.mean(np.equal(part["predicted"], metrics["targets"]))
            assert part["accuracy"] == pytest.approx(hits)
    runs = pd.read_csv(results / "runs.csv")
    assert list(runs.columns) == ["run", "kind", "model", "state_size", "steps", "readout",
                                  "seed", "hparams", "epoch", "train_loss", "train_acc",
                                  "valid_loss", "valid_acc", "seconds"]
    assert runs["kind"].value_counts().to_dict() == {
        "grid": 18, "search": 24, "baseline": 3, "rnn": 3, "mlp": 3, "shuffled": 3}
    assert runs.groupby("kind")["model"].agg(set).to_dict() == {
        "grid": {"rnn"}, "search": {"rnn", "mlp"}, "baseline": {"rnn"}, "rnn": {"rnn"},
        "mlp": {"mlp"}, "shuffled": {"rnn"}}
    mlp_row = runs[runs["kind"] == "mlp"].iloc[0]
    assert json.loads(mlp_row["hparams"]) == {
        key: mlp_best[key] for key in ("width", "depth", "dropout")}
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
    smoke = yaml.safe_load((study / SMOKE).read_text())
    config = smoke["bayes"]
    space = SearchSpace(tuple(space_from_config(smoke["models"]["rnn"]["space"])))
    earlier = []
    for trial in range(config["n_calls"]):
        folder = study / f"results/rnn_search/trial_{trial:03d}"
        proposal = read_json(folder / "proposal.json")
        expected = propose(trial, space, earlier, seed=0, n_initial=config["n_initial"],
                           acquisition=Acquisition(kappa=config["kappa"])).point
        assert (proposal["state_size"], proposal["steps"]) == expected
        history = read_history(folder / "history.csv")
        earlier.append((expected, objective(history["valid_acc"], 0.1)))


def test_second_run_has_nothing_to_do(study: Path):
    assert planned_jobs(study) == Counter()


def test_plot_option_reruns_only_plots(study: Path):
    jobs = planned_jobs(study, edited_config(study, plots={"dpi": 61}))
    assert set(jobs) - {"all"} == PLOT_RULES


def test_kappa_reruns_guided_trials_and_what_depends_on_them(study: Path):
    """Every search shares the acquisition settings: each reruns its guided trials."""
    jobs = planned_jobs(study, edited_config(study, bayes={"kappa": 0.5}))
    assert jobs["search_propose"] == 6  # trials 1..3 of both searches, no random start
    assert jobs["search_trial"] == 6
    assert {"search_collect", "model_train", "shuffled_train", "write_summary",
            "plot_search"} <= set(jobs)
    assert not {"baseline_train", "grid_train", "prepare_dataset", "song_stats"} & set(jobs)


def test_more_trials_run_only_the_new_trials(study: Path):
    jobs = planned_jobs(study, edited_config(study, bayes={"n_calls": 6}))
    assert jobs["search_propose"] == 4 and jobs["search_trial"] == 4  # 2 per search
    assert {"search_collect", "model_train", "write_summary"} <= set(jobs)
    assert not {"baseline_train", "grid_train"} & set(jobs)


def model_of(output: str) -> str | None:
    """The listed model a job's output belongs to (None: the study's shared outputs)."""
    match = re.match(r"results/(?:controls/shuffled_|figures/)?([a-z]+)(?:_search)?[/_]",
                     output)
    return match[1] if match and match[1] in ("rnn", "mlp") else None


def test_one_models_section_reruns_only_that_models_jobs(study: Path):
    """Editing models.mlp (its epochs, its space) plans the MLP's jobs and what reads them
    (the summary, runs.csv, the controls figure), never an RNN job; the same for the RNN's
    block."""
    shared = {"write_summary", "collect_runs", "plot_controls"}
    for model, block, rules in [
        ("mlp", {"epochs": 4}, {"model_train", "evaluate_test", "plot_run",
                                "plot_confusion"}),
        ("mlp", {"space": {"width": {"int": [16, 48], "prior": "log-uniform"},
                           "depth": {"categories": [1, 2]}}},
         SEARCH_RULES | {"model_train", "evaluate_test", "plot_run", "plot_confusion"}),
        ("rnn", {"epochs": 4}, {"model_train", "shuffled_train", "evaluate_test",
                                "plot_run", "plot_confusion"}),
    ]:
        jobs = planned_outputs(study, edited_config(study, models={model: block}))
        assert {rule for rule, _ in jobs} == rules | shared, (model, block)
        owners = {model_of(output) for rule, output in jobs if rule not in shared}
        assert owners == {model}, (model, block, jobs)
    jobs = planned_jobs(study, edited_config(study, models={"mlp": {"space": {
        "width": {"int": [16, 48], "prior": "log-uniform"}, "depth": {"categories": [1, 2]}}}}))
    assert jobs["search_propose"] == 4 and jobs["search_trial"] == 4
    assert jobs["evaluate_test"] == 1  # results/mlp/seed_1


def test_grid_epochs_rerun_grid_jobs_and_their_plots_only(study: Path):
    jobs = planned_jobs(study, edited_config(study, grid={"epochs": 4}))
    assert jobs["grid_train"] == 6
    assert set(jobs) - {"all"} == {"grid_train", "summarize_grid", "plot_grid"} | SUMMARY_RULES


def test_more_confirmation_seeds_rerun_only_the_new_runs_and_what_follows(study: Path):
    jobs = planned_jobs(study, edited_config(study, models={"rnn": {"seeds": [1, 2]}}))
    assert jobs["model_train"] == 1 and jobs["shuffled_train"] == 1  # seed 2 only
    assert jobs["evaluate_test"] == 2
    assert set(jobs) - {"all"} == {"model_train", "shuffled_train", "evaluate_test",
                                   "plot_confusion"} | SUMMARY_RULES


def _edit_and_plan(study: Path, relative: str) -> Counter:
    """Plan after appending a comment to a code file; the file is restored afterwards."""
    path = study / relative
    original, stat = path.read_text(), path.stat()
    try:
        path.write_text(original + "\n# edited\n")
        return planned_jobs(study)
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_model_family_edit_reruns_that_models_training_jobs_only(study: Path):
    jobs = _edit_and_plan(study, "workflow_scripts/msdrnn/models/rnn.py")
    assert TRAIN_RULES <= set(jobs)
    assert jobs["grid_train"] == 6 and jobs["search_trial"] == 4  # the RNN's trials only
    assert jobs["model_train"] == 1  # rnn/seed_1
    assert not {"generate_synthetic", "prepare_dataset"} & set(jobs)
    jobs = _edit_and_plan(study, "workflow_scripts/msdrnn/models/mlp.py")
    assert jobs["search_trial"] == 4 and jobs["model_train"] == 1  # the MLP's
    assert not {"baseline_train", "grid_train", "shuffled_train"} & set(jobs)
    jobs = _edit_and_plan(study, "workflow_scripts/msdrnn/models/layers.py")
    assert TRAIN_RULES <= set(jobs) and jobs["search_trial"] == 8


def test_editing_the_job_sizing_reruns_no_job(study: Path):
    """msdrnn/resources.py sizes the jobs (memory, runtime); no script a job runs imports
    it, so an edit plans nothing (it once reran every training job)."""
    assert _edit_and_plan(study, "workflow_scripts/msdrnn/resources.py") == Counter()


def test_plotting_script_edit_reruns_only_its_plots(study: Path):
    assert set(_edit_and_plan(study, "workflow_scripts/plot_grid.py")) - {"all"} == {
        "plot_grid"}


def test_figures_target_rebuilds_figures_and_summary_only(study: Path):
    result = snakemake(study, "figures", "-n", "--configfile", SMOKE, "--forcerun",
                       *PLOT_RULES, "write_summary")
    ran = set(re.findall(r"^rule (\w+):", result.stdout, flags=re.M))
    assert ran - {"figures"} == PLOT_RULES | {"write_summary"}


def test_report_has_every_figure_with_a_caption(study: Path):
    snakemake(study, "--configfile", SMOKE, "--report", "results/report.html")
    html = (study / "results/report.html").read_text(errors="replace")
    for name in ("grid_max_valid_accuracy.png", "rnn_search_objective.png",
                 "rnn_search_space.png", "rnn_error.png", "mlp_search_objective.png",
                 "controls_accuracy.png"):
        assert name in html


def test_sigkill_of_the_workflow_loses_only_unfinished_epochs(tmp_path: Path):
    """Kill the whole Snakemake process group mid-training, release the lock the killed
    Snakemake left (`--unlock`), start the same command again: the training job resumes
    from its last checkpoint instead of starting over."""
    workdir = copy_repo(tmp_path)
    config = edited_config(workdir, baseline={"epochs": 40})
    command = ["snakemake", "results/baseline/seed_0/history.csv", "--cores", "2",
               "--configfile", config, "--rerun-incomplete"]
    checkpoint = workdir / "results/baseline/seed_0/checkpoint"
    process = subprocess.Popen(command, cwd=workdir, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    subprocess.run([*command, "--unlock"], cwd=workdir, check=True, capture_output=True)
    subprocess.run(command, cwd=workdir, check=True, capture_output=True)
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

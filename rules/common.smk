"""Helpers shared by every stage: config checks, paths, code inputs, parameters, resources."""

import math
import os
import sys
from pathlib import Path

# The workflow's own files, found from the Snakefile's folder (not the current directory),
# as paths relative to the working directory: the same paths, and so the same recorded
# inputs, whichever folder Snakemake was started from.
WORKFLOW_DIR = Path(workflow.basedir)
SCRIPTS_DIR = WORKFLOW_DIR / "workflow_scripts"
sys.path.insert(0, str(SCRIPTS_DIR))

from msdrnn.code_inputs import literal, project_modules  # noqa: E402

# Defined once, in the library; read without importing it (see msdrnn/code_inputs.py).
PLOT_FORMATS = literal(SCRIPTS_DIR / "msdrnn/plots.py", "FORMATS")
TRAIN_OUTPUTS = literal(SCRIPTS_DIR / "msdrnn/training.py", "OUTPUTS")

DATASET = "results/data/dataset.h5"


def workflow_path(path) -> str:
    """A file of the workflow as Snakemake should name it: relative to the working dir."""
    return os.path.relpath(path)


def script(name: str) -> str:
    """Path of a workflow script, e.g. script("train.py"), for a rule's shell command."""
    return workflow_path(SCRIPTS_DIR / name)


def code_inputs(name: str) -> list[str]:
    """The rule's code inputs: script `name` and every project module it imports,
    transitively (read from its import statements, see msdrnn/code_inputs.py). Editing
    one of them reruns the rule's jobs; editing a module no script loads reruns nothing.
    """
    return [workflow_path(path) for path in project_modules(SCRIPTS_DIR / name)]


# Every rule's wildcards, constrained once.
wildcard_constraints:
    steps=r"\d+",
    seed=r"\d+",
    trial=r"\d{3}",
    run="baseline|best|mlp",
    evaluated=r"baseline|(best|mlp|controls/shuffled_rnn)/seed_\d+|controls/song_stats",


# Resources of the light jobs (proposals, summaries, plots): one thread, run where
# Snakemake runs (`localrule: True`, never submitted to a cluster).
LIGHT_THREADS = 1
LIGHT_RESOURCES = {"mem_mb": 1000, "runtime": 10}


# ---------------------------------------------------------------- config checks

sys.path.insert(0, str(WORKFLOW_DIR / "rules"))
import config_checks  # noqa: E402

config_checks.complete_and_check(config)


# ---------------------------------------------------------------- data


def has_test_split() -> bool:
    """Whether the dataset gets a test split: known from the config, or the npz files."""
    data = config["data"]
    if data["source"] == "npz":
        return Path(data["npz_dir"], "msd-10-genre-test-targets.npz").exists()
    return data["per_genre_test"] > 0


def steps_file(steps) -> str:
    return f"results/data/steps_{steps}.h5"


SYNTHETIC_DIR = "results/data/synthetic"


def dataset_inputs(wildcards) -> dict:
    """What dataset.h5 is built from: the generated tree, the label file, or the npz files."""
    data = config["data"]
    inputs = {"code": code_inputs("prepare_dataset.py")}
    if data["source"] == "synthetic":
        inputs["tree"] = f"{SYNTHETIC_DIR}/COMPLETE"
    elif data["source"] == "msd_h5":
        inputs["labels"] = data["labels"]
    return inputs


def dataset_args(wildcards, input) -> str:
    """The data source as flags of prepare_dataset.py."""
    data = config["data"]
    if data["source"] == "synthetic":
        return (
            f"--source synthetic --msd-root {SYNTHETIC_DIR} "
            f"--labels {SYNTHETIC_DIR}/msd_tagtraum_cd2c.cls"
        )
    if data["source"] == "msd_h5":
        return f"--source msd_h5 --msd-root '{data['msd_root']}' --labels '{data['labels']}'"
    return f"--source npz --npz-dir '{data['npz_dir']}'"


# ---------------------------------------------------------------- training


def train_outputs(folder: str) -> dict:
    """The declared outputs of a training job, by the names train_command passes them
    under. Its checkpoint/ folder (in the history's folder, `--out`) stays undeclared by
    design, so that Snakemake never deletes it when a job is interrupted."""
    return {name.split(".")[0]: f"{folder}/{name}" for name in TRAIN_OUTPUTS}


def train_params(threads: int | None = None) -> dict:
    """Optimiser values and the TensorFlow thread count a training job depends on.

    The thread count (`train.threads`, or `threads` for the search trials' `bayes.threads`)
    is passed to the trainer from the config, not from the cores the scheduler grants
    (`{threads}`), so that the numbers are a function of the config alone: a 4-thread
    config run with `--cores 2` still computes with 4 threads.
    """
    train = config["train"]
    return {
        "batch_size": train["batch_size"],
        "learning_rate": train["learning_rate"],
        "optimizer": train["optimizer"],
        "threads": threads or train["threads"],
    }


# Every submitted job's log starts with where it ran: the SLURM job id, or "local".
JOB_HEADER = 'echo "job ${{SLURM_JOB_ID:-local}} on $(hostname)" > {log}; '


def logged(command: str) -> str:
    """A job's shell command with its output, after the where-it-ran line, in its log."""
    return " ".join([JOB_HEADER, command, ">> {log} 2>&1"])


def train_command(model_args: str) -> str:
    """Shell command of a training job: the shared flags, every declared output by its
    own flag (the checkpoint goes in `--out`, the history's folder), then the model's own."""
    return logged(
        " ".join(
            [
                f"python {script('train.py')} --dataset {{input.dataset}}",
                "--epochs {params.epochs} --seed {params.seed}",
                "--batch-size {params.train[batch_size]} --learning-rate {params.train[learning_rate]}",
                "--optimizer {params.train[optimizer]} --threads {params.train[threads]}",
                "--out $(dirname {output.history}) --history {output.history}",
                "--run {output.run} --weights {output.weights}",
                "--weights-best {output.weights_best}",
                model_args,
            ]
        )
    )


def readout_flag(readout: bool) -> str:
    return "--readout" if readout else "--no-readout"


def train_mem_mb(wildcards, input) -> int:
    """Training memory: a fixed floor plus a multiple of the dataset's size on disk."""
    res = config["resources"]
    return int(res["train_mem_mb_min"] + res["train_mem_per_data_mb"] * input.size_mb)


def train_runtime(epochs: int) -> int:
    """Minutes asked for a training job of so many epochs."""
    return int(10 + math.ceil(epochs * config["resources"]["train_minutes_per_epoch"]))


def grid_histories() -> list[str]:
    grid = config["grid"]
    return expand(
        "results/grid/steps_{steps}/seed_{seed}/history.csv",
        steps=grid["steps"],
        seed=grid["seeds"],
    )


# ---------------------------------------------------------------- Bayesian search


def trial_ids() -> list[str]:
    return [f"{i:03d}" for i in range(config["bayes"]["n_calls"])]


def trial_dir(trial) -> str:
    return f"results/bayes/trial_{int(trial):03d}"


def earlier_trials(trial: int) -> list[int]:
    """Trials whose results the proposal of `trial` is made from: every trial of the
    earlier rounds (random starts first, then rounds of bayes.batch_size)."""
    bayes = config["bayes"]
    if trial < bayes["n_initial"]:
        return []
    round_start = trial - (trial - bayes["n_initial"]) % bayes["batch_size"]
    return list(range(round_start))


def proposal_inputs(wildcards) -> dict:
    """The proposals and histories of the earlier trials, in trial order, as two inputs."""
    trials = earlier_trials(int(wildcards.trial))
    return {
        "proposals": [f"{trial_dir(t)}/proposal.json" for t in trials],
        "histories": [f"{trial_dir(t)}/history.csv" for t in trials],
    }


def proposal_args(wildcards) -> str:
    """Command-line flags of a proposal: a random start depends on the space and the seed
    only; a guided proposal also on the acquisition settings (so editing kappa reruns the
    guided trials and never the random starts)."""
    bayes = config["bayes"]
    args = [
        f"--seed {bayes['seed']}",
        f"--state-min {bayes['state_min']} --state-max {bayes['state_max']}",
        f"--steps {','.join(str(k) for k in bayes['steps'])}",
        f"--n-initial {bayes['n_initial']}",
    ]
    if int(wildcards.trial) >= bayes["n_initial"]:
        args += [
            f"--batch-size {bayes['batch_size']}",
            f"--kappa {bayes['kappa']} --acq-func {bayes['acq_func']}",
            f"--top-fraction {bayes['top_fraction']}",
        ]
    return " ".join(args)


# ---------------------------------------------------------------- confirmation runs, controls


SHUFFLED_DATASET = "results/controls/shuffled_dataset.h5"
CONFIRMATION_DIRS = {
    "best": "results/best",
    "mlp": "results/mlp",
    "shuffled_rnn": "results/controls/shuffled_rnn",
}


def run_seeds(kind: str) -> list[int]:
    """Seeds of the confirmation runs of one kind; the shuffled control runs under the
    best parameters' seeds, so that both have intervals across the same seeds."""
    return config["mlp"]["seeds"] if kind == "mlp" else config["best"]["seeds"]


def seed_dirs(kind: str) -> list[str]:
    """results/best/seed_1, ...: one folder per seed of a confirmation run."""
    return [f"{CONFIRMATION_DIRS[kind]}/seed_{seed}" for seed in run_seeds(kind)]


def evaluated_runs() -> list[str]:
    """Every run evaluated on the test split, as its folder under results/."""
    folders = [
        "results/baseline",
        *[d for kind in CONFIRMATION_DIRS for d in seed_dirs(kind)],
        "results/controls/song_stats",
    ]
    return [folder.removeprefix("results/") for folder in folders]


def evaluation_inputs(wildcards) -> dict:
    """What a test evaluation reads: the data the run was trained on (shuffled for the
    shuffled control), its best-epoch and final weights (the song-statistics control is
    fitted once: the same file twice)."""
    folder = f"results/{wildcards.evaluated}"
    fitted_once = wildcards.evaluated == "controls/song_stats"
    return {
        "dataset": (
            SHUFFLED_DATASET
            if wildcards.evaluated.startswith("controls/shuffled_rnn/")
            else DATASET
        ),
        "best_weights": (
            f"{folder}/weights.npz" if fitted_once else f"{folder}/weights_best.npz"
        ),
        "final_weights": f"{folder}/weights.npz",
        "code": code_inputs("evaluate.py"),
    }


def training_runs() -> dict[str, tuple[str, str]]:
    """Every training run of the study: name (its folder under results/) -> (kind, folder)."""
    runs = {"baseline": ("baseline", "results/baseline")}
    grid = config["grid"]
    for steps in grid["steps"]:
        for seed in grid["seeds"]:
            runs[f"grid/steps_{steps}/seed_{seed}"] = (
                "grid",
                f"results/grid/steps_{steps}/seed_{seed}",
            )
    for trial in trial_ids():
        runs[f"bayes/trial_{trial}"] = ("bayes", trial_dir(trial))
    for kind in CONFIRMATION_DIRS:
        for folder in seed_dirs(kind):
            runs[folder.removeprefix("results/")] = (kind, folder)
    return runs


# ---------------------------------------------------------------- targets


def plot_files(name: str) -> list[str]:
    return [f"results/figures/{name}.{ext}" for ext in PLOT_FORMATS]


def figure_outputs() -> list[str]:
    names = [
        "baseline_error",
        "baseline_accuracy",
        "grid_max_valid_accuracy",
        "grid_train_error",
        "grid_valid_error",
        "grid_train_accuracy",
        "grid_valid_accuracy",
        "bayes_objective",
        "bayes_space",
        "bayes_train_error",
        "bayes_valid_error",
        "bayes_train_accuracy",
        "bayes_valid_accuracy",
        "best_error",
        "best_accuracy",
        "mlp_error",
        "mlp_accuracy",
        "controls_accuracy",
    ]
    if has_test_split():
        names.append("best_test_confusion")
    return [f for name in names for f in plot_files(name)]


def final_outputs() -> list[str]:
    outputs = figure_outputs() + [
        "results/summary.md",
        "results/summary.json",
        "results/runs.csv",
        "results/grid/summary.csv",
        "results/bayes/trials.csv",
        "results/bayes/best.json",
    ]
    if has_test_split():
        outputs += [f"results/{run}/test_metrics.json" for run in evaluated_runs()]
    return outputs


# ---------------------------------------------------------------- figures and summary


RUN_TITLES = {"baseline": "Baseline", "best": "Best parameters", "mlp": "Feedforward"}


def first_run_dir(run: str) -> str:
    """The folder whose curves a run's figures show: the first seed of a confirmation run."""
    return seed_dirs(run)[0] if run in CONFIRMATION_DIRS else f"results/{run}"


def figure(
    name: str, caption: str, category: str, subcategory: str | None = None
) -> list:
    png, pdf = plot_files(name)
    labels = {"figure": name.replace("_", " ")}
    in_report = report(
        png,
        caption=f"../report/{caption}.rst",
        category=category,
        subcategory=subcategory,
        labels=labels,
    )
    return [in_report, pdf]


def histories(kind: str) -> list[str]:
    return [f"{folder}/history.csv" for folder in seed_dirs(kind)]


def test_metrics(kind: str) -> list[str]:
    return [f"{folder}/test_metrics.json" for folder in seed_dirs(kind)]


def summary_inputs(wildcards) -> dict:
    """Every result the summary compares; the test metrics when there is a test split."""
    inputs = {
        "grid": "results/grid/summary.csv",
        "trials": "results/bayes/trials.csv",
        "best_params": "results/bayes/best.json",
        "baseline_history": "results/baseline/history.csv",
        "baseline_run": "results/baseline/run.json",
        "best_histories": histories("best"),
        "mlp_histories": histories("mlp"),
        "mlp_run": f"{first_run_dir('mlp')}/run.json",
        "shuffled_histories": histories("shuffled_rnn"),
        "song_stats_fit": "results/controls/song_stats/fit.json",
        "code": code_inputs("write_summary.py"),
    }
    if has_test_split():
        inputs.update(
            {
                "baseline_test": "results/baseline/test_metrics.json",
                "best_tests": test_metrics("best"),
                "mlp_tests": test_metrics("mlp"),
                "shuffled_tests": test_metrics("shuffled_rnn"),
                "song_stats_test": "results/controls/song_stats/test_metrics.json",
            }
        )
    return inputs


def summary_command() -> str:
    """write_summary.py with every input by name; the test files only with a test split."""
    args = [
        f"python {script('write_summary.py')} --n-classes {{params.n_classes}}",
        "--grid {input.grid} --trials {input.trials} --best-params {input.best_params}",
        "--baseline-history {input.baseline_history} --baseline-run {input.baseline_run}",
        "--best-histories {input.best_histories} --mlp-histories {input.mlp_histories}",
        "--mlp-run {input.mlp_run} --shuffled-histories {input.shuffled_histories}",
        "--song-stats-fit {input.song_stats_fit}",
        "--bootstrap {params.bootstrap} --bootstrap-seed {params.bootstrap_seed}",
        "--out {output.markdown} --out-json {output.numbers}",
    ]
    if has_test_split():
        args.append(
            "--baseline-test {input.baseline_test} --best-tests {input.best_tests}"
            " --mlp-tests {input.mlp_tests} --shuffled-tests {input.shuffled_tests}"
            " --song-stats-test {input.song_stats_test}"
        )
    return logged(" ".join(args))

"""Helpers shared by every stage: config checks, paths, code inputs, parameters, resources."""

import json
import math
import os
import re
import sys
from pathlib import Path

# The workflow's own files, found from the Snakefile's folder (not the current directory),
# as paths relative to the working directory: the same paths, and so the same recorded
# inputs, whichever folder Snakemake was started from.
WORKFLOW_DIR = Path(workflow.basedir)
SCRIPTS_DIR = WORKFLOW_DIR / "workflow_scripts"
sys.path.insert(0, str(SCRIPTS_DIR))

from msdrnn import resources as sizing  # noqa: E402
from msdrnn.code_inputs import literal, project_modules  # noqa: E402
from msdrnn.resources import mlp_flops_per_song, rnn_flops_per_song  # noqa: E402
from msdrnn.study import mlp_hidden  # noqa: E402

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


# Every job's log starts with where it ran (the SLURM job id, or "local") and the
# resources Snakemake passed it, as msdrnn.resources.read_declared reads them back.
JOB_HEADER = (
    'echo "job ${{SLURM_JOB_ID:-local}} on $(hostname)" > {log}; '
    'echo "resources: mem_mb={resources.mem_mb} runtime={resources.runtime}" >> {log}; '
)


def logged(command: str) -> str:
    """A job's shell command with its output, after the header lines, in its log."""
    return " ".join([JOB_HEADER, command, ">> {log} 2>&1"])


def train_command(model_args: str) -> str:
    """Shell command of a training job: the shared flags, every declared output by its
    own flag (the checkpoint goes in `--out`, the history's folder), then the model's own.
    """
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


def model_cost(wildcards, input) -> tuple[int, int, dict[str, float]]:
    """State size, steps and FLOPs per song of a training job's model (the MLP: 0 and 0),
    from what defines it: the JSON of a search trial or of a search's best parameters
    (read at job time; the feedforward network's give its width and depth; in a dry run before it exists, Snakemake shows the resource as <TBD>), the steps
    file of the grid and the baseline (the larger of their two state sizes), or else the
    MLP of mlp.hidden. `threads` in train_runtime is what Snakemake grants (at most
    --cores), so a job given fewer cores than its config's threads asks for more time.
    """
    for name in ("proposal", "best"):
        if name in input.keys():
            hparams = json.loads(Path(getattr(input, name)).read_text())
            if "width" in hparams:  # a point of the feedforward network's search
                hidden = mlp_hidden(hparams["width"], hparams["depth"])
                return 0, 0, mlp_flops_per_song(hidden)
            state, steps = hparams["state_size"], hparams["steps"]
            return (
                state,
                steps,
                rnn_flops_per_song(state, steps, hparams.get("readout", True)),
            )
    if "steps" in input.keys():
        steps = int(re.search(r"steps_(\d+)\.h5$", input.steps)[1])
        sections = [config["grid"], config["baseline"]]
        state = max(section["state_size"] for section in sections)
        readout = any(section["readout"] for section in sections)
        return state, steps, rnn_flops_per_song(state, steps, readout)
    return 0, 0, mlp_flops_per_song(config["mlp"]["hidden"])


def dataset_mb(input) -> float:
    """Size of the job's dataset file in MB (raises FileNotFoundError before it exists)."""
    return os.path.getsize(input.dataset) / 2**20


def train_mem_mb(wildcards, input) -> int:
    """Training memory (MB): the measured peak for the dataset's size and the model's state
    size and steps, plus resources.mem_margin (msdrnn.resources.train_mem_mb)."""
    state, steps, _ = model_cost(wildcards, input)
    return sizing.train_mem_mb(dataset_mb(input), state, steps, config["resources"])


def train_songs(input) -> int:
    """Songs a training job reads (train + valid): the dataset's songs less the test share."""
    data = config["data"]
    kept = data["per_genre"] / (data["per_genre"] + data["per_genre_test"])
    return math.ceil(sizing.songs_in(dataset_mb(input)) * kept)


def train_runtime(epochs: int):
    """Minutes asked for a training job of so many epochs: its epoch's FLOPs at the
    measured rate for its thread count, plus start-up, plus resources.runtime_margin
    (msdrnn.resources.train_runtime_minutes)."""

    def runtime(wildcards, input, threads) -> int:
        _, _, flops = model_cost(wildcards, input)
        coefficients = config["resources"]
        epoch = sizing.epoch_seconds(
            flops,
            train_songs(input),
            config["data"]["valid_fraction"],
            threads,
            coefficients,
        )
        return sizing.train_runtime_minutes(epoch, epochs, coefficients)

    return runtime


def built_songs_mb() -> float:
    """MB of float32 features of every song the config asks for (train, valid and test)."""
    data = config["data"]
    songs = len(data["genres"]) * (data["per_genre"] + data["per_genre_test"])
    return songs * sizing.BYTES_PER_SONG / 2**20


def data_mem_mb(job: str):
    """Memory (MB) of a data, control or evaluation job: its measured peak from the size of
    its data (msdrnn.resources.DATA_JOB_MEMORY), plus resources.mem_margin."""

    def mem_mb(wildcards, input) -> int:
        size = built_songs_mb() if job in sizing.BUILDS_DATA else input.size_mb
        return sizing.data_job_mem_mb(job, size, config["resources"]["mem_margin"])

    return mem_mb


def grid_dir(steps="{steps}", seed="{seed}") -> str:
    """Folder of one grid run; with no arguments, the rules' pattern."""
    return f"results/grid/steps_{steps}/seed_{seed}"


def grid_histories() -> list[str]:
    grid = config["grid"]
    return [
        f"{grid_dir(steps, seed)}/history.csv"
        for steps in grid["steps"]
        for seed in grid["seeds"]
    ]


# ---------------------------------------------------------------- Bayesian searches

# Two searches share bayes.* (trials, epochs, objective, acquisition, seed, threads): the
# RNN's over state size and steps, and the feedforward network's over width and depth.
SEARCH_DIRS = {"bayes": "results/bayes", "mlp": "results/mlp_search"}


def trial_ids() -> list[str]:
    return [f"{i:03d}" for i in range(config["bayes"]["n_calls"])]


def search_file(search: str, name: str) -> str:
    """A search's collected result, e.g. search_file("bayes", "best.json")."""
    return f"{SEARCH_DIRS[search]}/{name}"


def trial_file(name: str, search: str = "bayes") -> str:
    """A file of a search trial as the rules' pattern, e.g. results/bayes/trial_{trial}/x."""
    return f"{trial_dir(search=search)}/{name}"


def trial_dir(trial="{trial}", search: str = "bayes") -> str:
    """Folder of one trial of a search, e.g. results/bayes/trial_004; with no trial, the
    rules' pattern results/bayes/trial_{trial}."""
    number = trial if trial == "{trial}" else f"{int(trial):03d}"
    return f"{SEARCH_DIRS[search]}/trial_{number}"


def search_trials(search: str, name: str) -> list[str]:
    """One file of every trial of a search, e.g. search_trials("mlp", "history.csv")."""
    return [f"{trial_dir(trial, search)}/{name}" for trial in trial_ids()]


def earlier_trials(trial: int) -> list[int]:
    """Trials whose results the proposal of `trial` is made from: every trial of the
    earlier rounds (random starts first, then rounds of bayes.batch_size)."""
    bayes = config["bayes"]
    if trial < bayes["n_initial"]:
        return []
    round_start = trial - (trial - bayes["n_initial"]) % bayes["batch_size"]
    return list(range(round_start))


def search_dimensions(search: str) -> list[str]:
    """The search space as bayes_propose.py's --dimension values (msdrnn.search.Dimension
    .spec): the RNN's state size and steps, the feedforward network's width and depth.
    """
    if search == "bayes":
        bayes = config["bayes"]
        steps = ",".join(str(k) for k in bayes["steps"])
        return [
            f"state_size=int:{bayes['state_min']}..{bayes['state_max']}",
            f"steps=cat:{steps}",
        ]
    mlp = config["mlp"]
    depths = ",".join(str(d) for d in mlp["depths"])
    return [
        f"width=int:{mlp['width_min']}..{mlp['width_max']}:log-uniform",
        f"depth=cat:{depths}",
    ]


# what each search's proposals carry besides the point (the RNN trials have a readout)
SEARCH_CONSTANTS = {"bayes": ["readout=true"], "mlp": []}
# train.py's model flags of a search's trials
SEARCH_MODEL_ARGS = {"bayes": "--model rnn --readout", "mlp": "--model mlp"}


def search_proposal_inputs(search: str):
    """Input function: the proposals and histories of the earlier trials of `search`, in
    trial order, as two inputs."""

    def inputs(wildcards) -> dict:
        trials = earlier_trials(int(wildcards.trial))
        return {
            "proposals": [f"{trial_dir(t, search)}/proposal.json" for t in trials],
            "histories": [f"{trial_dir(t, search)}/history.csv" for t in trials],
        }

    return inputs


def search_proposal_args(search: str):
    """Params function: command-line flags of a proposal of `search`. A random start
    depends on the space and the seed only; a guided proposal also on the acquisition
    settings (so editing kappa reruns the guided trials and never the random starts)."""

    def args(wildcards) -> str:
        bayes = config["bayes"]
        flags = [f"--seed {bayes['seed']}", f"--n-initial {bayes['n_initial']}"]
        flags += [f"--dimension {spec}" for spec in search_dimensions(search)]
        flags += [f"--constant {constant}" for constant in SEARCH_CONSTANTS[search]]
        if int(wildcards.trial) >= bayes["n_initial"]:
            flags += [
                f"--batch-size {bayes['batch_size']}",
                f"--kappa {bayes['kappa']} --acq-func {bayes['acq_func']}",
                f"--top-fraction {bayes['top_fraction']}",
            ]
        return " ".join(flags)

    return args


def search_names(search: str) -> str:
    """The names of a search's dimensions (columns of its trials.csv)."""
    return " ".join(spec.split("=")[0] for spec in search_dimensions(search))


def mlp_search() -> bool:
    """Whether the feedforward network's width and depth come from its own search."""
    return config["mlp"]["search"]


def mlp_train_inputs(wildcards) -> dict:
    """A feedforward confirmation run reads the MLP search's best.json, unless the
    config fixes the architecture (mlp.search: false)."""
    inputs = {"dataset": DATASET, "code": code_inputs("train.py")}
    if mlp_search():
        inputs["best"] = search_file("mlp", "best.json")
    return inputs


def mlp_architecture(wildcards, input) -> str:
    """train.py's flags for the feedforward network's layers: the search's best width and
    depth, or the fixed mlp.hidden (a param, so that editing it reruns only without the
    search)."""
    if mlp_search():
        return f"--hparams {input.best}"
    return "--hidden " + ",".join(str(h) for h in config["mlp"]["hidden"])


# ---------------------------------------------------------------- confirmation runs, controls


SHUFFLED_DATASET = "results/controls/shuffled_dataset.h5"
CONFIRMATION_DIRS = {
    "baseline": "results/baseline",
    "best": "results/best",
    "mlp": "results/mlp",
    "shuffled_rnn": "results/controls/shuffled_rnn",
}


SONG_STATS_DIR = "results/controls/song_stats"
# The A/A check's extra runs of the RNN's best parameters (rules/calibration.smk): the one
# spelling of their folder, results/calibration/seed_{S}.
CALIBRATION_DIR = "results/calibration"


# The runs evaluate_test scores: a seed folder of every kind above, or the song-statistics fit.
wildcard_constraints:
    evaluated="|".join(
        [
            f"{folder.removeprefix('results/')}/seed_\\d+"
            for folder in CONFIRMATION_DIRS.values()
        ]
        + [SONG_STATS_DIR.removeprefix("results/")]
        + [f"{CALIBRATION_DIR.removeprefix('results/')}/seed_\\d+"]
    ),


def run_seeds(kind: str) -> list[int]:
    """Seeds of the runs of one kind (baseline, best, mlp, shuffled_rnn); the shuffled
    control runs under the best parameters' seeds, so that both have intervals across the
    same seeds."""
    return config["best" if kind == "shuffled_rnn" else kind]["seeds"]


def seed_dir(kind: str, seed="{seed}") -> str:
    """Folder of one seed's run of a kind, e.g. results/best/seed_1; with no seed, the
    rules' pattern."""
    return f"{CONFIRMATION_DIRS[kind]}/seed_{seed}"


def seed_dirs(kind: str) -> list[str]:
    """results/best/seed_1, ...: one folder per seed of a run with several seeds."""
    return [seed_dir(kind, seed) for seed in run_seeds(kind)]


def evaluated_runs() -> list[str]:
    """Every run evaluated on the test split, as its folder under results/."""
    folders = [
        *[d for kind in CONFIRMATION_DIRS for d in seed_dirs(kind)],
        SONG_STATS_DIR,
    ]
    return [folder.removeprefix("results/") for folder in folders]


def evaluation_inputs(wildcards) -> dict:
    """What a test evaluation reads: the data the run was trained on (shuffled for the
    shuffled control), its best-epoch and final weights (the song-statistics control is
    fitted once: the same file twice)."""
    folder = f"results/{wildcards.evaluated}"
    fitted_once = folder == SONG_STATS_DIR
    return {
        "dataset": (
            SHUFFLED_DATASET
            if folder.startswith(CONFIRMATION_DIRS["shuffled_rnn"] + "/")
            else DATASET
        ),
        "best_weights": (
            f"{folder}/weights.npz" if fitted_once else f"{folder}/weights_best.npz"
        ),
        "final_weights": f"{folder}/weights.npz",
        "code": code_inputs("evaluate.py"),
    }


def training_runs() -> dict[str, tuple[str, str]]:
    """Every training run of the study: name (its folder under results/) -> (kind, folder),
    the baseline's seeds first."""
    runs = {d.removeprefix("results/"): ("baseline", d) for d in seed_dirs("baseline")}
    grid = config["grid"]
    for steps in grid["steps"]:
        for seed in grid["seeds"]:
            folder = grid_dir(steps, seed)
            runs[folder.removeprefix("results/")] = ("grid", folder)
    searches = ["bayes", "mlp"] if mlp_search() else ["bayes"]
    for search in searches:
        kind = Path(SEARCH_DIRS[search]).name  # bayes, mlp_search: the runs.csv kind
        for trial in trial_ids():
            folder = trial_dir(trial, search)
            runs[folder.removeprefix("results/")] = (kind, folder)
    for kind in CONFIRMATION_DIRS:
        for folder in seed_dirs(kind):
            runs.setdefault(folder.removeprefix("results/"), (kind, folder))
    return runs


# ---------------------------------------------------------------- A/A check
# (rules/calibration.smk): the RNN's best parameters under calibration.seeds, extra seeds
# that no other run uses, split into two groups of the study's size many ways.


def calibration_dir(seed="{seed}") -> str:
    """Folder of one calibration run, e.g. results/calibration/seed_11; with no seed, the
    rules' pattern."""
    return f"{CALIBRATION_DIR}/seed_{seed}"


def calibration_tests() -> list[str]:
    """The test metrics of every calibration run (evaluate_test scores them)."""
    return [
        f"{calibration_dir(seed)}/test_metrics.json"
        for seed in config["calibration"]["seeds"]
    ]


AA_CHECK = {
    "numbers": f"{CALIBRATION_DIR}/aa_check.json",
    "markdown": f"{CALIBRATION_DIR}/aa_check.md",
}


def aa_check_in_summary() -> bool:
    """Whether the summary reads the A/A check (calibration.in_summary; false by default, so
    that `all` never trains the calibration runs)."""
    return config["calibration"]["in_summary"]


# ---------------------------------------------------------------- targets


def final_outputs() -> list[str]:
    outputs = figure_outputs() + [
        "results/summary.md",
        "results/summary.json",
        "results/runs.csv",
        "results/grid/summary.csv",
        search_file("bayes", "trials.csv"),
        search_file("bayes", "best.json"),
    ]
    if mlp_search():
        outputs += [search_file("mlp", "trials.csv"), search_file("mlp", "best.json")]
    if has_test_split():
        outputs += [f"results/{run}/test_metrics.json" for run in evaluated_runs()]
    return outputs


# ---------------------------------------------------------------- figures and summary
# (used by rules/figures.smk; Snakemake's linter wants functions here, not beside rules)


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
        *(["mlp_search_objective"] if mlp_search() else []),
        "controls_accuracy",
    ]
    if has_test_split():
        names.append("best_test_confusion")
    return [f for name in names for f in plot_files(name)]


RUN_TITLES = {"baseline": "Baseline", "best": "Best parameters", "mlp": "Feedforward"}


def first_run_dir(run: str) -> str:
    """The folder whose curves a run's figures show: the first seed of a run with seeds."""
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
    """Every result the summary compares, the dataset (for its source and split sizes),
    each model's first-seed run.json and weights (its budget), the MLP's search trials
    when it had a search (mlp.search), and the test metrics when there is a test split.
    """
    inputs = {
        "dataset": DATASET,
        "grid": "results/grid/summary.csv",
        "trials": search_file("bayes", "trials.csv"),
        "best_params": search_file("bayes", "best.json"),
        **{f"{kind}_histories": histories(kind) for kind in CONFIRMATION_DIRS},
        **{
            f"{kind}_run": f"{first_run_dir(kind)}/run.json"
            for kind in CONFIRMATION_DIRS
        },
        **{
            f"{kind}_weights": f"{first_run_dir(kind)}/weights.npz"
            for kind in CONFIRMATION_DIRS
        },
        "song_stats_weights": "results/controls/song_stats/weights.npz",
        "song_stats_fit": "results/controls/song_stats/fit.json",
        "code": code_inputs("write_summary.py"),
    }
    if config["mlp"].get("search", True):
        inputs["mlp_trials"] = search_file("mlp", "trials.csv")
    if aa_check_in_summary():
        inputs["aa_check"] = AA_CHECK["numbers"]
    if has_test_split():
        inputs.update(
            {
                **{f"{kind}_tests": test_metrics(kind) for kind in CONFIRMATION_DIRS},
                "song_stats_test": "results/controls/song_stats/test_metrics.json",
            }
        )
    return inputs


def summary_command() -> str:
    """write_summary.py with every input by name; the MLP's trials only when it had a
    search, the test files only with a test split."""
    args = [
        f"python {script('write_summary.py')} --n-classes {{params.n_classes}}",
        "--dataset {input.dataset}",
        "--grid {input.grid} --trials {input.trials} --best-params {input.best_params}",
        "--baseline-histories {input.baseline_histories}",
        "--best-histories {input.best_histories} --mlp-histories {input.mlp_histories}",
        "--shuffled-histories {input.shuffled_rnn_histories}",
        "--baseline-run {input.baseline_run} --best-run {input.best_run}",
        "--mlp-run {input.mlp_run} --shuffled-run {input.shuffled_rnn_run}",
        "--weights baseline={input.baseline_weights} best={input.best_weights}",
        "mlp={input.mlp_weights} shuffled_rnn={input.shuffled_rnn_weights}",
        "song_stats={input.song_stats_weights}",
        "--song-stats-fit {input.song_stats_fit}",
        "--out {output.markdown} --out-json {output.numbers}",
    ]
    if config["mlp"].get("search", True):
        args.append("--mlp-trials {input.mlp_trials}")
    if aa_check_in_summary():
        args.append("--aa-check {input.aa_check}")
    if has_test_split():
        args.append(
            "--baseline-tests {input.baseline_tests} --best-tests {input.best_tests}"
            " --mlp-tests {input.mlp_tests} --shuffled-tests {input.shuffled_rnn_tests}"
            " --song-stats-test {input.song_stats_test}"
        )
    return logged(" ".join(args))

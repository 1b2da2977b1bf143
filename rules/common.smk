"""Helpers shared by every stage: config checks, paths, code inputs, parameters, resources."""

import atexit
import json
import math
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from snakemake.io import strip_wildcard_constraints

# The workflow's own files, found from the Snakefile's folder (not the current directory),
# as paths relative to the working directory: the same paths, and so the same recorded
# inputs, whichever folder Snakemake was started from.
WORKFLOW_DIR = Path(workflow.basedir)
SCRIPTS_DIR = WORKFLOW_DIR / "workflow_scripts"
sys.path.insert(0, str(SCRIPTS_DIR))

from msdrnn import resources as sizing  # noqa: E402
from msdrnn.code_inputs import ImportsCache, literal, project_modules  # noqa: E402
from msdrnn.models import family, family_path  # noqa: E402
from msdrnn.search import config_spaces, constant_spec  # noqa: E402

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


# The project files' parsed imports, kept between Snakemake starts by their content (see
# msdrnn/code_inputs.py): written when this Snakemake process ends, if it parsed a file.
IMPORTS_CACHE = ImportsCache(".snakemake/msdrnn-code-imports.json")
atexit.register(IMPORTS_CACHE.save)


def code_inputs(name: str, model: str | None = None) -> list[str]:
    """The rule's code inputs: script `name` and every project module it imports,
    transitively (read from its import statements, see msdrnn/code_inputs.py), and for a
    job that trains or evaluates a model, its family's module (msdrnn/models/NAME.py, which
    the scripts import by name) with its imports. Editing one of them reruns the rule's
    jobs; editing a module no script loads, or another model's family, reruns nothing.
    """
    files = set(project_modules(SCRIPTS_DIR / name, cache=IMPORTS_CACHE))
    if model is not None:
        files |= set(
            project_modules(family_path(model), root=SCRIPTS_DIR, cache=IMPORTS_CACHE)
        )
    return [workflow_path(path) for path in sorted(files)]


# Every rule's wildcards, constrained once.
wildcard_constraints:
    steps=r"\d+",
    seed=r"\d+",
    trial=r"\d{3}",


# Resources of the light jobs (proposals, summaries, plots): one thread, run where
# Snakemake runs (`localrule: True`, never submitted to a cluster).
LIGHT_THREADS = 1
LIGHT_RESOURCES = {"mem_mb": 1000, "runtime": 10}
# The searches are chains of jobs, one trial after another, and the confirmation runs wait
# for them: the study's longest path. Their jobs go first when several jobs are ready, and
# the grid, the baseline and the controls fill the cores in between.
SEARCH_PRIORITY = 10


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


def train_outputs(folders: list[str]) -> dict:
    """The declared outputs of a training job that trains one run per folder (a
    configuration's seeds, in the order of its `params.seeds`), by the names
    train_command passes them under: each name lists its file in every folder, in order.
    The checkpoint/ folders (each history's folder, `--out`) stay undeclared by design, so
    that Snakemake never deletes them when a job is interrupted."""
    return {
        name.split(".")[0]: [f"{folder}/{name}" for folder in folders]
        for name in TRAIN_OUTPUTS
    }


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
    """Shell command of a training job: the shared flags, its seeds (`params.seeds`, a
    list: train.py trains them one after the other in one process), every declared output
    by its own flag, one path per seed in the seeds' order (each seed's checkpoint goes in
    its `--out`, the folder of its history), then the model's own flags.
    """
    return logged(
        " ".join(
            [
                f"python {script('train.py')} --dataset {{input.dataset}}",
                "--epochs {params.epochs} --seed {params.seeds}",
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


def model_hparams(wildcards, input) -> tuple[str, dict]:
    """Family and hyperparameters of a training job's model, from what defines it: the JSON
    of a search trial or of a search's best parameters (read at job time; in a dry run
    before it exists, Snakemake shows the resource as <TBD>), a model's fixed
    models.NAME.hparams, or the steps file of the grid and the baseline (the larger of
    their two state sizes).
    """
    if "steps" in input.keys():  # a grid or baseline run: the RNN on a steps file
        steps = int(re.search(r"steps_(\d+)\.h5$", input.steps)[1])
        sections = [config["grid"], config["baseline"]]
        state = max(section["state_size"] for section in sections)
        readout = any(section["readout"] for section in sections)
        return "rnn", {"state_size": state, "steps": steps, "readout": readout}
    model = run_model(wildcards)
    for name in ("proposal", "best"):
        if name in input.keys():
            hparams = json.loads(Path(getattr(input, name)).read_text())
            keys = family(model).HPARAMS
            return model, {k: v for k, v in hparams.items() if k in keys}
    return model, dict(config["models"][model]["hparams"])


def dataset_mb(input) -> float:
    """Size of the job's dataset file in MB (raises FileNotFoundError before it exists)."""
    return os.path.getsize(input.dataset) / 2**20


def train_mem_mb(wildcards, input) -> int:
    """Training memory (MB): the measured peak for the dataset's size and the model's state
    size and steps, plus resources.mem_margin (msdrnn.resources.train_mem_mb)."""
    model, hparams = model_hparams(wildcards, input)
    return sizing.train_mem_mb(dataset_mb(input), model, hparams, config["resources"])


def train_songs(input) -> int:
    """Songs a training job reads (train + valid): the dataset's songs less the test share."""
    data = config["data"]
    kept = data["per_genre"] / (data["per_genre"] + data["per_genre_test"])
    return math.ceil(sizing.songs_in(dataset_mb(input)) * kept)


def train_runtime(epochs, runs: int = 1):
    """Minutes asked for a training job of so many epochs (a number, or a function of the
    job's wildcards) for each of its `runs` seeds, trained one after the other: its epoch's
    FLOPs at the measured rate for its thread count, times epochs and runs, plus start-up
    once, plus resources.runtime_margin (msdrnn.resources.train_runtime_minutes)."""

    def runtime(wildcards, input, threads) -> int:
        flops = sizing.flops_per_song(*model_hparams(wildcards, input))
        coefficients = config["resources"]
        epoch = sizing.epoch_seconds(
            flops,
            train_songs(input),
            config["data"]["valid_fraction"],
            threads,
            coefficients,
        )
        count = epochs(wildcards) if callable(epochs) else epochs
        return sizing.train_runtime_minutes(epoch, count, coefficients, runs)

    return runtime


def data_mem_mb(job: str):
    """Memory (MB) of a data, control or evaluation job: its measured peak from the size of
    its data (msdrnn.resources.DATA_JOB_MEMORY), plus resources.mem_margin."""

    def mem_mb(wildcards, input) -> int:
        if job in sizing.BUILDS_DATA:
            size = sizing.built_data_mb(job, config["data"])
        else:
            size = input.size_mb
        return sizing.data_job_mem_mb(job, size, config["resources"]["mem_margin"])

    return mem_mb


def grid_dir(steps="{steps}", seed="{seed}") -> str:
    """Folder of one grid run; with no steps, the rules' pattern."""
    return f"results/grid/steps_{steps}/seed_{seed}"


def grid_dirs() -> list[str]:
    """The folders one grid_train job writes: every seed of grid.seeds at its {steps}."""
    return [grid_dir(seed=seed) for seed in config["grid"]["seeds"]]


def grid_histories() -> list[str]:
    grid = config["grid"]
    return [
        f"{grid_dir(steps, seed)}/history.csv"
        for steps in grid["steps"]
        for seed in grid["seeds"]
    ]


# ---------------------------------------------------------------- the compared models

# config["models"]: NAME -> block, checked by rules/config_checks.py. A model with a space
# is searched (search_propose, search_trial, search_collect in results/NAME_search/), then
# its best hyperparameters are trained under its seeds (model_train, results/NAME/seed_S/);
# a model with hparams is trained with those; `shuffled: true` adds the same runs on the
# shuffled-segment songs (shuffled_train). Every rule, target, figure, runs.csv row and
# summary line below is built from this list: no rule names a model.
MODELS = list(config["models"])
PRIMARY = config["summary"]["primary"]


def searched_models() -> list[str]:
    """The models with a search space, in the config's order."""
    return [model for model in MODELS if "space" in config["models"][model]]


def shuffled_models() -> list[str]:
    """The models also trained on the shuffled-segment songs."""
    return [m for m in MODELS if config["models"][m].get("shuffled", False)]


def name_pattern(names: list[str]) -> str:
    """A wildcard constraint that matches exactly these names (no name: nothing)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


def seed_groups(
    base: str, models: list[str]
) -> list[tuple[str, tuple[int, ...], list[str]]]:
    """The training rules of `models` by their seeds (models.NAME.seeds): (rule name,
    seeds, models with those seeds). One job trains every seed of a model, so its outputs
    list those seeds, and a rule's outputs are fixed patterns: each list of seeds needs a
    rule of its own. Models with the same seeds, as in every shipped config, share one
    rule. The group of summary.primary (else the first) is named `base`, another `base`
    and its models, e.g. model_train_cnn."""
    groups: dict[tuple[int, ...], list[str]] = {}
    for model in models:
        groups.setdefault(tuple(config["models"][model]["seeds"]), []).append(model)
    named = next((seeds for seeds, group in groups.items() if PRIMARY in group), None)
    named = named or next(iter(groups), None)
    return [
        (base if seeds == named else "_".join([base, *group]), seeds, group)
        for seeds, group in groups.items()
    ]


# Every rule's {model} is a listed model, {run} one whose figures plot_run draws.
wildcard_constraints:
    model=name_pattern(MODELS),
    run=name_pattern(["baseline", *MODELS]),


# ---------------------------------------------------------------- Bayesian searches

# Every searched model's search shares bayes.* (trials, epochs, objective, acquisition,
# seed, threads); its space is models.NAME.space, read by msdrnn.search.space_from_config
# (the one reader, which the gp_minimize tests use too).
SEARCH_DIR = "results/{model}_search"


def trial_ids() -> list[str]:
    return [f"{i:03d}" for i in range(config["bayes"]["n_calls"])]


def search_file(name: str, model: str = "{model}") -> str:
    """A search's collected result, e.g. search_file("best.json", "rnn"); with no model,
    the rules' pattern."""
    return f"{SEARCH_DIR.format(model=model)}/{name}"


def trial_dir(trial="{trial}", model: str = "{model}") -> str:
    """Folder of one trial of a search, e.g. results/rnn_search/trial_004; with no
    arguments, the rules' pattern results/{model}_search/trial_{trial}."""
    number = trial if trial == "{trial}" else f"{int(trial):03d}"
    return f"{SEARCH_DIR.format(model=model)}/trial_{number}"


def search_trials(name: str, model: str = "{model}") -> list[str]:
    """One file of every trial of a search, e.g. search_trials("history.csv", "mlp")."""
    return [f"{trial_dir(trial, model)}/{name}" for trial in trial_ids()]


def earlier_trials(trial: int) -> list[int]:
    """Trials whose results the proposal of `trial` is made from: every trial of the
    earlier rounds (random starts first, then rounds of bayes.batch_size)."""
    bayes = config["bayes"]
    if trial < bayes["n_initial"]:
        return []
    round_start = trial - (trial - bayes["n_initial"]) % bayes["batch_size"]
    return list(range(round_start))


def search_space(model: str) -> list:
    """A model's search dimensions (msdrnn.search.Dimension), read from models.NAME.space
    by msdrnn.search.config_spaces, where the gp_minimize tests read them too."""
    return config_spaces(config)[model]


def search_proposal_inputs(wildcards) -> dict:
    """The proposals and histories of the earlier trials of a search, in trial order."""
    trials = earlier_trials(int(wildcards.trial))
    return {
        "proposals": [f"{trial_dir(t, wildcards.model)}/proposal.json" for t in trials],
        "histories": [f"{trial_dir(t, wildcards.model)}/history.csv" for t in trials],
    }


def search_proposal_args(wildcards) -> str:
    """Command-line flags of a proposal: the model's space (Dimension.spec) and fixed
    values, the shared seed and random starts; a guided proposal also the acquisition
    settings (so editing kappa reruns the guided trials and never the random starts)."""
    bayes = config["bayes"]
    fixed = config["models"][wildcards.model].get("fixed", {})
    flags = [f"--seed {bayes['seed']}", f"--n-initial {bayes['n_initial']}"]
    flags += [f"--dimension {dim.spec()}" for dim in search_space(wildcards.model)]
    flags += [
        f"--constant {constant_spec(name, value)}" for name, value in fixed.items()
    ]
    if int(wildcards.trial) >= bayes["n_initial"]:
        flags += [
            f"--batch-size {bayes['batch_size']}",
            f"--kappa {bayes['kappa']} --acq-func {bayes['acq_func']}",
            f"--top-fraction {bayes['top_fraction']}",
        ]
    return " ".join(flags)


def search_names(model: str) -> str:
    """The names of a search's dimensions (columns of its trials.csv)."""
    return " ".join(dim.name for dim in search_space(model))


def trial_threads(wildcards) -> int:
    """TensorFlow threads of a search trial of {model}: models.NAME.threads, else
    bayes.threads (the rule's threads and the trainer's, so they are one number)."""
    return config["models"][wildcards.model].get("threads", config["bayes"]["threads"])


def search_trial_inputs(wildcards) -> dict:
    return {
        "dataset": DATASET,
        "proposal": f"{trial_dir(wildcards.trial, wildcards.model)}/proposal.json",
        "code": code_inputs("train.py", wildcards.model),
    }


# ---------------------------------------------------------------- model runs, controls

SHUFFLED_DATASET = "results/controls/shuffled_dataset.h5"
MODEL_DIR = "results/{model}"
SHUFFLED_DIR = "results/controls/shuffled_{model}"
SONG_STATS_DIR = "results/controls/song_stats"
# The A/A check's extra runs of the primary model's best parameters (rules/calibration.smk):
# the one spelling of their folder, results/calibration/seed_{S}.
CALIBRATION_DIR = "results/calibration"


@dataclass(frozen=True)
class RunGroup:
    """Runs of one kind under several seeds, as the summary compares them: the baseline,
    a model's runs, or a model's runs on the shuffled-segment songs."""

    folder: str  # results/rnn
    family: str  # the model family its runs train
    seeds: tuple[int, ...]
    dataset: str = DATASET
    kind: str = ""  # runs.csv's kind: baseline, the model's name, shuffled


def run_groups() -> dict[str, RunGroup]:
    """Every group of seeded runs: the baseline, then each model followed by its
    shuffled-segment control (group shuffled_NAME, under the model's seeds)."""
    groups = {
        "baseline": RunGroup(
            "results/baseline",
            "rnn",
            tuple(config["baseline"]["seeds"]),
            kind="baseline",
        )
    }
    for model in MODELS:
        seeds = tuple(config["models"][model]["seeds"])
        groups[model] = RunGroup(
            MODEL_DIR.format(model=model), model, seeds, kind=model
        )
        if model in shuffled_models():
            groups[f"shuffled_{model}"] = RunGroup(
                SHUFFLED_DIR.format(model=model),
                model,
                seeds,
                SHUFFLED_DATASET,
                "shuffled",
            )
    return groups


RUN_GROUPS = run_groups()


# The runs evaluate_test scores: a seed folder of every group, or the song-statistics fit.
wildcard_constraints:
    evaluated="|".join(
        [
            f"{re.escape(group.folder.removeprefix('results/'))}/seed_\\d+"
            for group in RUN_GROUPS.values()
        ]
        + [SONG_STATS_DIR.removeprefix("results/")]
        + [f"{CALIBRATION_DIR.removeprefix('results/')}/seed_\\d+"]
    ),


def seed_dir(group: str, seed="{seed}") -> str:
    """Folder of one seed's run of a group, e.g. results/rnn/seed_1; with no seed, the
    pattern of its seeds."""
    return f"{RUN_GROUPS[group].folder}/seed_{seed}"


def seed_dirs(group: str) -> list[str]:
    """results/rnn/seed_1, ...: one folder per seed of a group."""
    return [seed_dir(group, seed) for seed in RUN_GROUPS[group].seeds]


def run_model(wildcards) -> str:
    """The model a training run of a compared model trains: its {model} wildcard. The A/A
    check's runs (rules/calibration.smk, model_train's rule in CALIBRATION_DIR, a folder
    without the wildcard) train the primary model, summary.primary."""
    return wildcards.model if "model" in wildcards.keys() else PRIMARY


def model_epochs(wildcards) -> int:
    return config["models"][run_model(wildcards)]["epochs"]


def model_train_inputs(dataset: str):
    """Input function of a model's training run on `dataset`: the search's best.json for
    a searched model, and the model's code."""

    def inputs(wildcards) -> dict:
        model = run_model(wildcards)
        found = {"dataset": dataset, "code": code_inputs("train.py", model)}
        if "space" in config["models"][model]:
            found["best"] = search_file("best.json", model)
        return found

    return inputs


def model_hparams_args(wildcards, input) -> str:
    """train.py's hyperparameter flags of a model's run: its search's best.json, or its
    models.NAME.hparams as --set flags (a param, so that editing one reruns its runs).
    """
    block = config["models"][run_model(wildcards)]
    if "space" in block:
        return f"--hparams {input.best}"
    return " ".join(
        f"--set {shlex.quote(f'{key}={json.dumps(value)}')}"
        for key, value in block["hparams"].items()
    )


def evaluated_run(folder: str) -> RunGroup | None:
    """The group of an evaluated run's folder, the A/A check's runs included (None: the
    song-statistics fit)."""
    for group in [*RUN_GROUPS.values(), CALIBRATION]:
        if folder.startswith(f"{group.folder}/"):
            return group
    return None


def evaluated_runs() -> list[str]:
    """Every run evaluated on the test split, as its folder under results/."""
    folders = [d for group in RUN_GROUPS for d in seed_dirs(group)] + [SONG_STATS_DIR]
    return [folder.removeprefix("results/") for folder in folders]


def evaluation_inputs(wildcards) -> dict:
    """What a test evaluation reads: the data the run was trained on (shuffled for a
    shuffled-segment run), its best-epoch and final weights (the song-statistics control
    is fitted once: the same file twice), and the code of its model's family."""
    folder = f"results/{wildcards.evaluated}"
    group = evaluated_run(folder)
    return {
        "dataset": DATASET if group is None else group.dataset,
        "best_weights": (
            f"{folder}/weights.npz" if group is None else f"{folder}/weights_best.npz"
        ),
        "final_weights": f"{folder}/weights.npz",
        "code": code_inputs("evaluate.py", None if group is None else group.family),
    }


def evaluated_model(wildcards) -> str:
    """evaluate.py's --model of an evaluated run."""
    group = evaluated_run(f"results/{wildcards.evaluated}")
    return "song_stats" if group is None else group.family


def training_runs() -> dict[str, tuple[str, str]]:
    """Every training run of the study: name (its folder under results/) -> (kind,
    folder), the runs.csv kinds: baseline, grid, search (a search's trials), a model's
    name (its runs), shuffled (a model's runs on shuffled-segment songs)."""
    runs = {d.removeprefix("results/"): ("baseline", d) for d in seed_dirs("baseline")}
    grid = config["grid"]
    for steps in grid["steps"]:
        for seed in grid["seeds"]:
            folder = grid_dir(steps, seed)
            runs[folder.removeprefix("results/")] = ("grid", folder)
    for model in searched_models():
        for trial in trial_ids():
            folder = trial_dir(trial, model)
            runs[folder.removeprefix("results/")] = ("search", folder)
    for name, group in RUN_GROUPS.items():
        for folder in seed_dirs(name):
            runs.setdefault(folder.removeprefix("results/"), (group.kind, folder))
    return runs


# ---------------------------------------------------------------- A/A check
# (rules/calibration.smk): the primary model's best parameters under calibration.seeds,
# extra seeds that no other run uses, split into two groups of the study's size (its
# len(models.<primary>.seeds)) many ways.


# Not in RUN_GROUPS: neither `all`, runs.csv nor the summary's tables ask for these runs.
CALIBRATION = RunGroup(
    CALIBRATION_DIR, PRIMARY, tuple(config["calibration"]["seeds"]), kind="calibration"
)


def calibration_dir(seed="{seed}") -> str:
    """Folder of one calibration run, e.g. results/calibration/seed_11; with no seed, the
    rules' pattern."""
    return f"{CALIBRATION_DIR}/seed_{seed}"


def calibration_tests() -> list[str]:
    """The test metrics of every calibration run (evaluate_test scores them)."""
    return [f"{calibration_dir(seed)}/test_metrics.json" for seed in CALIBRATION.seeds]


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
    ]
    for model in searched_models():
        outputs += [search_file("trials.csv", model), search_file("best.json", model)]
    if has_test_split():
        outputs += [f"results/{run}/test_metrics.json" for run in evaluated_runs()]
    return outputs


# ---------------------------------------------------------------- figures and summary
# (used by rules/figures.smk; Snakemake's linter wants functions here, not beside rules)


def plot_files(name: str) -> list[str]:
    return [f"results/figures/{name}.{ext}" for ext in PLOT_FORMATS]


def figure_wildcards() -> dict[str, dict[str, list[str]]]:
    """The wildcard values each plotting job draws its figures for, by the name of its
    rule: every model's (and the baseline's) curves, every search's figures, every model's
    test confusion matrix (only with a test split)."""
    return {
        "plot_run": {"run": ["baseline", *MODELS]},
        "plot_search": {"model": searched_models()},
        "plot_confusion": {"model": MODELS if has_test_split() else []},
    }


def figure_outputs() -> list[str]:
    """Every figure of the study: the outputs of every plotting rule (plot_*), expanded
    over figure_wildcards(). Read from the rules themselves, so a figure is named once,
    where a rule makes it; `all` and `figures` both ask for this list."""
    values = figure_wildcards()
    files = []
    for plotting in (r for r in workflow.rules if r.name.startswith("plot_")):
        patterns = [strip_wildcard_constraints(str(f)) for f in plotting.output]
        files += expand(patterns, **values.get(plotting.name, {}))
    return sorted(set(files))


def first_run_dir(run: str) -> str:
    """The folder whose curves a run's figures show: the first seed of the group."""
    return seed_dirs(run)[0]


def run_title(wildcards) -> str:
    """A run figure's title, quoted for the shell: the model's label (the baseline's name)
    and its seed."""
    label = (
        "Baseline"
        if wildcards.run == "baseline"
        else config["models"][wildcards.run]["label"]
    )
    return shlex.quote(f"{label}, seed {RUN_GROUPS[wildcards.run].seeds[0]}")


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


def histories(group: str) -> list[str]:
    return [f"{folder}/history.csv" for folder in seed_dirs(group)]


def test_metrics(group: str) -> list[str]:
    return [f"{folder}/test_metrics.json" for folder in seed_dirs(group)]


def summary_inputs(wildcards) -> dict:
    """Every result the summary compares, by group (the baseline, each model and its
    shuffled-segment runs): histories, the first seed's run.json and weights (its budget),
    test metrics when there is a test split; each search's trials and best; the dataset
    (for its source and split sizes) and the song-statistics fit."""
    inputs = {
        "dataset": DATASET,
        "grid": "results/grid/summary.csv",
        "song_stats_weights": f"{SONG_STATS_DIR}/weights.npz",
        "song_stats_fit": f"{SONG_STATS_DIR}/fit.json",
        "code": code_inputs("write_summary.py"),
    }
    for group in RUN_GROUPS:
        inputs[f"{group}_histories"] = histories(group)
        inputs[f"{group}_run"] = f"{first_run_dir(group)}/run.json"
        inputs[f"{group}_weights"] = f"{first_run_dir(group)}/weights.npz"
        if has_test_split():
            inputs[f"{group}_tests"] = test_metrics(group)
    for model in searched_models():
        inputs[f"{model}_trials"] = search_file("trials.csv", model)
        inputs[f"{model}_best"] = search_file("best.json", model)
    if aa_check_in_summary():
        inputs["aa_check"] = AA_CHECK["numbers"]
    if has_test_split():
        inputs["song_stats_test"] = f"{SONG_STATS_DIR}/test_metrics.json"
    return inputs


def summary_models() -> str:
    """write_summary.py's description of the compared models, from the config (a param):
    --model NAME LABEL in the summary's order, --space NAME DIMENSIONS of each searched
    model, --shuffled NAME of each model with shuffled-segment runs."""
    flags = []
    for model in MODELS:
        flags.append(f"--model {model} {shlex.quote(config['models'][model]['label'])}")
        if model in searched_models():
            flags.append(f"--space {model} {search_names(model)}")
        if model in shuffled_models():
            flags.append(f"--shuffled {model}")
    return " ".join(flags)


def summary_command() -> str:
    """write_summary.py with every input by group: each --runs, --histories, --weights and
    --tests names its group first; the test files only with a test split."""
    args = [
        f"python {script('write_summary.py')} --n-classes {{params.n_classes}}",
        "--primary {params.primary} {params.models}",
        "--dataset {input.dataset} --grid {input.grid}",
        "--song-stats-fit {input.song_stats_fit}",
        "--weights song_stats {input.song_stats_weights}",
    ]
    for group in RUN_GROUPS:
        args.append(
            f"--runs {group} {{input.{group}_run}}"
            f" --histories {group} {{input.{group}_histories}}"
            f" --weights {group} {{input.{group}_weights}}"
        )
        if has_test_split():
            args.append(f"--tests {group} {{input.{group}_tests}}")
    for model in searched_models():
        args.append(f"--search {model} {{input.{model}_trials}} {{input.{model}_best}}")
    if has_test_split():
        args.append("--tests song_stats {input.song_stats_test}")
    if aa_check_in_summary():
        args.append("--aa-check {input.aa_check}")
    args.append("--out {output.markdown} --out-json {output.numbers}")
    return logged(" ".join(args))

"""Checks of the workflow config that its schema cannot express, and the thread defaults.

``rules/common.smk`` calls ``complete_and_check(config)`` once the schema has validated the
config, before any rule is defined, so that a wrong value stops the workflow before any
job runs. The steps and readout checks are ``msdrnn.study``'s, the ones the trainer runs,
so the config and the trainer cannot disagree on what is allowed; this module only names
the config key in each message. The thread counts a config leaves out are taken from
``msdrnn/training.py`` (read with ``msdrnn.code_inputs.literal``, without importing the
library), where ``TrainConfig`` defines them. Errors are ``WorkflowError``, which
Snakemake reports as the reason the workflow stopped. This is a plain Python module (ruff
checks it, tests import it), not a rule file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "workflow_scripts"
if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

from msdrnn.code_inputs import literal  # noqa: E402
from msdrnn.study import allowed_steps, readout_error, steps_error  # noqa: E402

TRAINING = SCRIPTS_DIR / "msdrnn" / "training.py"
# The data settings each source needs, as paths that must exist.
SOURCE_PATHS = {"msd_h5": ("msd_root", "labels"), "npz": ("npz_dir",), "synthetic": ()}


def complete_and_check(config: dict) -> None:
    """Fill the thread counts the config leaves out, then run every check."""
    fill_thread_defaults(config)
    check_config(config)


def fill_thread_defaults(config: dict) -> None:
    """``train.threads`` and ``bayes.threads`` from ``msdrnn/training.py`` when not given:
    a trial of the sequential search runs alone, every other training job side by side."""
    config["train"].setdefault("threads", literal(TRAINING, "THREADS_SIDE_BY_SIDE"))
    config["bayes"].setdefault("threads", literal(TRAINING, "THREADS_ALONE"))


def check_config(config: dict) -> None:
    """Raise ``WorkflowError`` naming the key and what is allowed, for the first problem."""
    check_steps(config)
    check_readout(config)
    check_search(config)
    check_seeds(config)
    check_data_paths(config["data"])


def check_steps(config: dict) -> None:
    """Every steps value of the baseline, the grid and the search divides the segments."""
    segments = config["data"]["segments"]
    steps_keys = [
        ("baseline.steps", [config["baseline"]["steps"]]),
        ("grid.steps", config["grid"]["steps"]),
        ("bayes.steps", config["bayes"]["steps"]),
    ]
    for key, values in steps_keys:
        bad = [k for k in values if steps_error(k, segments)]
        if bad:
            allowed = ", ".join(str(k) for k in allowed_steps(segments))
            raise WorkflowError(
                f"config: {key} has {bad}, which do not divide data.segments = {segments}; "
                f"allowed steps values: {allowed}"
            )


def check_readout(config: dict) -> None:
    """Without a readout layer the state size is the number of genres."""
    n_classes = len(config["data"]["genres"])
    for key in ("baseline", "grid"):
        section = config[key]
        if readout_error(section["state_size"], section["readout"], n_classes):
            raise WorkflowError(
                f"config: {key}.readout is false, so {key}.state_size must equal the number of "
                f"genres ({n_classes}), not {section['state_size']}; set {key}.readout: true "
                "to use another state size"
            )


def check_search(config: dict) -> None:
    """The searches' ranges are not empty and the random starts fit the trials."""
    bayes = config["bayes"]
    if bayes["state_min"] > bayes["state_max"]:
        raise WorkflowError(
            f"config: bayes.state_min ({bayes['state_min']}) is above "
            f"bayes.state_max ({bayes['state_max']})"
        )
    if bayes["n_initial"] > bayes["n_calls"]:
        raise WorkflowError(
            f"config: bayes.n_initial ({bayes['n_initial']}) is more than "
            f"bayes.n_calls ({bayes['n_calls']}), the number of trials in all"
        )
    mlp = config["mlp"]
    if mlp["width_min"] > mlp["width_max"]:
        raise WorkflowError(
            f"config: mlp.width_min ({mlp['width_min']}) is above "
            f"mlp.width_max ({mlp['width_max']})"
        )


def check_seeds(config: dict) -> None:
    """Each model's seeds are distinct, and no confirmation seed is the seed every trial of
    its search used."""
    for key in ("baseline", "best", "mlp"):
        seeds = config[key]["seeds"]
        if len(set(seeds)) != len(seeds):
            raise WorkflowError(f"config: {key}.seeds has a seed twice: {seeds}")
    bayes_seed = config["bayes"]["seed"]
    if bayes_seed in config["best"]["seeds"]:
        raise WorkflowError(
            f"config: best.seeds {config['best']['seeds']} contains bayes.seed "
            f"({bayes_seed}), the seed of every search trial; confirmation runs need seeds "
            "no trial used"
        )
    check_calibration_seeds(config)
    if config["mlp"]["search"] and bayes_seed in config["mlp"]["seeds"]:
        raise WorkflowError(
            f"config: mlp.seeds {config['mlp']['seeds']} contains bayes.seed ({bayes_seed}), "
            "the seed of every trial of the feedforward network's search; its confirmation "
            "runs need seeds no trial used"
        )


def check_calibration_seeds(config: dict) -> None:
    """The A/A check's seeds are distinct, new (neither a confirmation seed nor the search's)
    and enough for two disjoint groups of the study's size."""
    calibration = config.get("calibration", {})
    seeds = calibration.get("seeds", [])
    if not seeds:  # the schema's default fills them; a config read without it has none
        return
    if len(set(seeds)) != len(seeds):
        raise WorkflowError(f"config: calibration.seeds has a seed twice: {seeds}")
    reused = sorted(set(seeds) & {*config["best"]["seeds"], config["bayes"]["seed"]})
    if reused:
        raise WorkflowError(
            f"config: calibration.seeds {seeds} reuses {reused}, a seed of best.seeds or "
            "bayes.seed; the A/A check needs runs that no other result used"
        )
    group = len(config["best"]["seeds"])
    if len(seeds) < 2 * group:
        raise WorkflowError(
            f"config: calibration.seeds has {len(seeds)} seeds; the A/A check splits them "
            f"into two groups of len(best.seeds) = {group}, so it needs at least {2 * group}"
        )


def check_data_paths(data: dict) -> None:
    """The paths the data source reads are given and exist."""
    for key in SOURCE_PATHS[data["source"]]:
        if not data.get(key):
            raise WorkflowError(
                f"config: data.source is {data['source']}, so data.{key} must name a path "
                "(see configs/paper.yaml)"
            )
        if not Path(data[key]).exists():
            raise WorkflowError(
                f"config: data.{key} = {data[key]!r} does not exist; point it at your copy "
                "(see README, 'Running on real MSD-10 data')"
            )

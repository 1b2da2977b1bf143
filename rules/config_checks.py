"""Checks of the workflow config that its schema cannot express, and the thread defaults.

``rules/common.smk`` calls ``complete_and_check(config)`` once the schema has validated the
config, before any rule is defined, so that a wrong value stops the workflow before any
job runs. The steps and readout checks are ``msdrnn.study``'s, the ones the trainer runs,
so the config and the trainer cannot disagree on what is allowed; this module only names
the config key in each message. The models' checks ask the registry (``msdrnn.models``) what
each family takes, and ``msdrnn.search.space_from_config`` (the one reader of a space)
whether each space is well formed. The thread counts a config leaves out are taken from
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
from msdrnn.errors import ConfigError  # noqa: E402
from msdrnn.models import available, family, hparams_error  # noqa: E402
from msdrnn.search import space_from_config  # noqa: E402
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
    check_models(config)
    check_search(config)
    check_seeds(config)
    check_memory_terms(config)
    check_data_paths(config["data"])


def check_steps(config: dict) -> None:
    """Every steps value of the baseline and the grid divides the segments (the searched
    ones are the RNN family's check, in ``check_models``)."""
    segments = config["data"]["segments"]
    steps_keys = [
        ("baseline.steps", [config["baseline"]["steps"]]),
        ("grid.steps", config["grid"]["steps"]),
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


def check_models(config: dict) -> None:
    """Every model is a registered family; its space (read as the rules read it) and fixed
    values, or its hparams, name exactly the family's HPARAMS; every value the runs can
    take passes the family's check; the primary model is listed."""
    models = config["models"]
    unknown = [name for name in models if name not in available()]
    if unknown:
        raise WorkflowError(
            f"config: models has {unknown}, which are not model families; registered "
            f"families: {available()} (a family NAME is workflow_scripts/msdrnn/models/"
            "NAME.py, docs/extending.md)"
        )
    classes = len(config["data"]["genres"])
    for name, block in models.items():
        check_model(name, block, classes)
    primary = config.get("summary", {}).get("primary", "rnn")
    if primary not in models:
        raise WorkflowError(
            f"config: summary.primary is '{primary}', which is not under models "
            f"({list(models)}); the primary model must be one of the compared models"
        )


def check_model(name: str, block: dict, classes: int) -> None:
    """One model's block (see ``check_models``)."""
    key = f"models.{name}"
    hparams = family(name).HPARAMS
    if ("space" in block) == ("hparams" in block):
        raise WorkflowError(
            f"config: {key} needs either space (searched) or hparams (fixed, no search), "
            f"not {'both' if 'space' in block else 'neither'}; the family takes "
            f"{sorted(hparams)}"
        )
    if "hparams" in block and "fixed" in block:
        raise WorkflowError(
            f"config: {key} has hparams and fixed; fixed goes with a space (put its values "
            f"in {key}.hparams)"
        )
    if "hparams" in block:
        given = {"hparams": dict(block["hparams"])}
    else:
        try:
            dimensions = space_from_config(block["space"], f"{key}.space")
        except ConfigError as err:
            raise WorkflowError(f"config: {err}") from None
        given = {"space": {d.name: d for d in dimensions},
                 "fixed": dict(block.get("fixed", {}))}
    named = [name for part in given.values() for name in part]
    twice = sorted({n for n in named if named.count(n) > 1})
    missing = sorted(set(hparams) - set(named))
    extra = sorted(set(named) - set(hparams))
    if twice or missing or extra:
        where = " and ".join(f"{key}.{part}" for part in given)
        problems = [f"{what} {names}" for what, names in (
            ("names twice", twice), ("lacks", missing), ("has unknown", extra)) if names]
        raise WorkflowError(
            f"config: {where} must name exactly the hyperparameters of family '{name}' "
            f"{sorted(hparams)}, each once; {where} {', '.join(problems)}"
        )
    if "hparams" in block:
        problem = hparams_error(name, given["hparams"], classes)
        if problem:
            raise WorkflowError(f"config: {key}.hparams: {problem}")
        return
    defaults = family(name).DEFAULTS
    for dimension in given["space"].values():
        for value in corner_values(dimension):
            values = {**defaults, **given["fixed"], dimension.name: value}
            problem = hparams_error(name, values, classes)
            if problem:
                raise WorkflowError(
                    f"config: {key}.space.{dimension.name} can take {value!r}, which "
                    f"family '{name}' cannot run: {problem}"
                )
    problem = hparams_error(name, {**defaults, **given["fixed"]}, classes)
    if problem:
        raise WorkflowError(f"config: {key}.fixed: {problem}")


def corner_values(dimension) -> list:
    """The values of a search dimension that stand for all it can take: every category, or
    the ends of a range (typed as the proposals are: ints or floats)."""
    if dimension.categories is not None:
        return list(dimension.categories)
    return [dimension.low, dimension.high]


def check_search(config: dict) -> None:
    """The random starts fit the trials."""
    bayes = config["bayes"]
    if bayes["n_initial"] > bayes["n_calls"]:
        raise WorkflowError(
            f"config: bayes.n_initial ({bayes['n_initial']}) is more than "
            f"bayes.n_calls ({bayes['n_calls']}), the number of trials in all"
        )


def check_seeds(config: dict) -> None:
    """Each model's seeds are distinct, no confirmation seed of a searched model is the
    seed every trial of its search used, and the A/A check's seeds are usable."""
    for key in ("baseline",):
        seeds = config[key]["seeds"]
        if len(set(seeds)) != len(seeds):
            raise WorkflowError(f"config: {key}.seeds has a seed twice: {seeds}")
    bayes_seed = config["bayes"]["seed"]
    for name, block in config["models"].items():
        seeds = block["seeds"]
        if len(set(seeds)) != len(seeds):
            raise WorkflowError(f"config: models.{name}.seeds has a seed twice: {seeds}")
        if "space" in block and bayes_seed in seeds:
            raise WorkflowError(
                f"config: models.{name}.seeds {seeds} contains bayes.seed ({bayes_seed}), "
                f"the seed of every trial of {name}'s search; its confirmation runs need "
                "seeds no trial used"
            )
    check_calibration_seeds(config)


def check_memory_terms(config: dict) -> None:
    """Every listed family's memory terms have their coefficient under resources."""
    coefficients = config["resources"]
    for name in config["models"]:
        terms = family(name).memory_terms(dict(family(name).DEFAULTS))
        missing = [f"resources.train_mem_per_{term}_mb" for term in terms
                   if f"train_mem_per_{term}_mb" not in coefficients]
        if missing:
            raise WorkflowError(
                f"config: models.{name}: family '{name}' sizes its training memory by "
                f"{sorted(terms)}, so {missing} must be given (MB per unit, measured with "
                "perf/bench_resources.py --fit)"
            )


def check_calibration_seeds(config: dict) -> None:
    """The A/A check's seeds are distinct, new (neither a confirmation seed of the primary
    model nor the search's) and enough for two disjoint groups of the study's size, the
    primary model's len(models.<primary>.seeds)."""
    calibration = config.get("calibration", {})
    seeds = calibration.get("seeds", [])
    if not seeds:  # the schema's default fills them; a config read without it has none
        return
    if len(set(seeds)) != len(seeds):
        raise WorkflowError(f"config: calibration.seeds has a seed twice: {seeds}")
    primary = config.get("summary", {}).get("primary", "rnn")
    key = f"models.{primary}.seeds"
    study_seeds = config["models"][primary]["seeds"]
    reused = sorted(set(seeds) & {*study_seeds, config["bayes"]["seed"]})
    if reused:
        raise WorkflowError(
            f"config: calibration.seeds {seeds} reuses {reused}, a seed of {key} or "
            "bayes.seed; the A/A check needs runs that no other result used"
        )
    group = len(study_seeds)
    if len(seeds) < 2 * group:
        raise WorkflowError(
            f"config: calibration.seeds has {len(seeds)} seeds; the A/A check splits them "
            f"into two groups of len({key}) = {group}, so it needs at least {2 * group}"
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
                "(see docs/data.md, 'Running on real MSD-10 data')"
            )

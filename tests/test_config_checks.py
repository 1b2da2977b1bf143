"""The config checks of rules/config_checks.py and the schema, called directly (no Snakemake
run per case); tests/test_config.py proves that the workflow runs them at start-up."""

from __future__ import annotations

import copy
import re
import sys

import pytest
from helpers import ROOT, workflow_config
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, str(ROOT / "rules"))
import config_checks  # noqa: E402

from msdrnn.study import allowed_steps  # noqa: E402
from msdrnn.training import THREADS_ALONE, THREADS_SIDE_BY_SIDE, TrainConfig  # noqa: E402

SCHEMA = str(ROOT / "schemas/config.schema.yaml")


def smoke_config(**changes: dict) -> dict:
    """The smoke study's config (config.yaml updated with configs/smoke.yaml), with sections
    updated by ``changes``."""
    config = workflow_config()
    for section, values in changes.items():
        config[section].update(values)
    return config


@pytest.mark.parametrize(
    "change, message",
    [
        ({"grid": {"steps": [4, 7]}},
         "config: grid.steps has [7], which do not divide data.segments = 120; allowed steps "
         "values: 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60, 120"),
        ({"baseline": {"steps": 7}}, "config: baseline.steps has [7], which do not divide"),
        ({"bayes": {"steps": [5, 9, 11]}}, "config: bayes.steps has [9, 11], which do not"),
        ({"baseline": {"state_size": 12}},
         "config: baseline.readout is false, so baseline.state_size must equal the number of "
         "genres (10), not 12; set baseline.readout: true to use another state size"),
        ({"grid": {"state_size": 9}}, "grid.readout is false, so grid.state_size must equal"),
        ({"bayes": {"state_min": 600}}, "config: bayes.state_min (600) is above bayes.state_max"),
        ({"bayes": {"n_initial": 9, "n_calls": 3}},
         "config: bayes.n_initial (9) is more than bayes.n_calls (3), the number of trials"),
        ({"best": {"seeds": [0, 1]}},
         "config: best.seeds [0, 1] contains bayes.seed (0), the seed of every search trial"),
        ({"mlp": {"seeds": [1, 1]}}, "config: mlp.seeds has a seed twice: [1, 1]"),
        ({"best": {"seeds": [2, 2]}}, "config: best.seeds has a seed twice: [2, 2]"),
        ({"baseline": {"seeds": [0, 0]}}, "config: baseline.seeds has a seed twice: [0, 0]"),
        ({"calibration": {"seeds": [11, 11, 12]}},
         "config: calibration.seeds has a seed twice: [11, 11, 12]"),
        ({"calibration": {"seeds": [1, 3]}},
         "config: calibration.seeds [1, 3] reuses [1], a seed of best.seeds or bayes.seed"),
        ({"best": {"seeds": [1, 2]}, "calibration": {"seeds": [11, 12, 13]}},
         "config: calibration.seeds has 3 seeds; the A/A check splits them into two groups "
         "of len(best.seeds) = 2, so it needs at least 4"),
        ({"mlp": {"width_min": 128, "width_max": 64}},
         "config: mlp.width_min (128) is above mlp.width_max (64)"),
        ({"mlp": {"seeds": [0, 1]}},
         "config: mlp.seeds [0, 1] contains bayes.seed (0), the seed of every trial of the "
         "feedforward network's search"),
        ({"data": {"source": "msd_h5", "msd_root": "/nowhere", "labels": "/nowhere.cls"}},
         "config: data.msd_root = '/nowhere' does not exist"),
        ({"data": {"source": "npz"}},
         "config: data.source is npz, so data.npz_dir must name a path"),
    ],
)
def test_check_rejects_a_bad_value_naming_its_key(change: dict, message: str):
    config = smoke_config(**change)
    validate(config, SCHEMA)
    with pytest.raises(WorkflowError, match=re.escape(message)):
        config_checks.complete_and_check(config)


def test_the_shipped_configs_pass_unchanged():
    for name in ("config.yaml", "configs/smoke.yaml", "configs/paper.yaml",
                 "configs/with_aa_check.yaml"):
        config = workflow_config(name)
        if config["data"]["source"] != "synthetic":  # paper.yaml names the user's data
            config["data"]["source"] = "synthetic"
        validate(config, SCHEMA)
        before = copy.deepcopy(config)
        config_checks.complete_and_check(config)
        assert config == before, name  # explicit thread counts are kept


def test_thread_counts_left_out_come_from_training():
    config = smoke_config()
    del config["train"]["threads"], config["bayes"]["threads"]
    validate(config, SCHEMA)
    assert "threads" not in config["train"]  # the schema holds no second default
    config_checks.complete_and_check(config)
    assert config["train"]["threads"] == THREADS_SIDE_BY_SIDE == 1
    assert config["bayes"]["threads"] == THREADS_ALONE == TrainConfig().threads == 2


def test_steps_check_agrees_with_the_trainers():
    """Every value msdrnn.study allows passes the config check, and nothing else does."""
    for steps in range(1, 121):
        config = smoke_config(grid={"steps": [steps]})
        if steps in allowed_steps(120):
            config_checks.check_steps(config)
        else:
            with pytest.raises(WorkflowError):
                config_checks.check_steps(config)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"bayes": {"kappa": "high"}}, "'high' is not of type 'number'"),
        ({"grid": {"epoch": 3}}, "Additional properties are not allowed ('epoch' was"),
        ({"data": {"source": "mp3"}}, "'mp3' is not one of ['synthetic', 'msd_h5', 'npz']"),
        ({"calibration": {"max_splits": 0}}, "0 is less than the minimum of 1"),
        ({"mlp": {"depths": [1, 1]}}, "has non-unique elements"),
        ({"train": {"threads": 0}}, "0 is less than the minimum of 1"),
    ],
)
def test_schema_rejects_a_bad_value(change: dict, message: str):
    config = workflow_config()
    for section, values in change.items():
        config.setdefault(section, {}).update(values)
    with pytest.raises(WorkflowError) as raised:
        validate(config, SCHEMA)
    assert message in str(raised.value) + str(getattr(raised.value, "args", ""))

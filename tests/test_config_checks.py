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
    updated by ``changes`` (``models`` one model block at a time: {NAME: {key: value}})."""
    config = workflow_config()
    for section, values in changes.items():
        if section == "models":
            for name, block in values.items():
                config["models"].setdefault(name, {}).update(block)
        else:
            config[section].update(values)
    return config


@pytest.mark.parametrize(
    "change, message",
    [
        ({"grid": {"steps": [4, 7]}},
         "config: grid.steps has [7], which do not divide data.segments = 120; allowed steps "
         "values: 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60, 120"),
        ({"baseline": {"steps": 7}}, "config: baseline.steps has [7], which do not divide"),
        ({"models": {"rnn": {"space": {"state_size": {"int": [15, 40]},
                                       "steps": {"categories": [5, 9]}}}}},
         "config: models.rnn.space.steps can take 9, which family 'rnn' cannot run: "
         "steps 9 does not divide the 120 segments of a song"),
        ({"baseline": {"state_size": 12}},
         "config: baseline.readout is false, so baseline.state_size must equal the number of "
         "genres (10), not 12; set baseline.readout: true to use another state size"),
        ({"grid": {"state_size": 9}}, "grid.readout is false, so grid.state_size must equal"),
        ({"models": {"rnn": {"space": {"state_size": {"int": [600, 40]},
                                       "steps": {"categories": [4]}}}}},
         "config: models.rnn.space.state_size: expected integers LOW < HIGH"),
        ({"bayes": {"n_initial": 9, "n_calls": 3}},
         "config: bayes.n_initial (9) is more than bayes.n_calls (3), the number of trials"),
        ({"models": {"rnn": {"seeds": [0, 1]}}},
         "config: models.rnn.seeds [0, 1] contains bayes.seed (0), the seed of every trial "
         "of rnn's search"),
        ({"models": {"mlp": {"seeds": [1, 1]}}},
         "config: models.mlp.seeds has a seed twice: [1, 1]"),
        ({"baseline": {"seeds": [0, 0]}}, "config: baseline.seeds has a seed twice: [0, 0]"),
        ({"models": {"mlp": {"space": {"width": {"int": [128, 64]},
                                       "depth": {"categories": [1]},
                                       "dropout": {"real": [0.0, 0.5]}}}}},
         "config: models.mlp.space.width: expected integers LOW < HIGH"),
        ({"models": {"xyz": {"label": "X", "hparams": {}, "seeds": [1], "epochs": 1}}},
         "config: models has ['xyz'], which are not model families; registered families: "
         "['cnn', 'mlp', 'rnn']"),
        ({"models": {"mlp": {"space": {"width": {"int": [16, 64]},
                                       "depth": {"categories": [1, 2]}}}}},
         "config: models.mlp.space and models.mlp.fixed must name exactly the "
         "hyperparameters of family 'mlp' ['depth', 'dropout', 'width'], each once; "
         "models.mlp.space and models.mlp.fixed lacks ['dropout']"),
        ({"models": {"rnn": {"fixed": {"readout": True, "steps": 4}}}},
         "models.rnn.space and models.rnn.fixed names twice ['steps']"),
        ({"models": {"rnn": {"fixed": {"readout": True, "colour": 1}}}},
         "models.rnn.fixed has unknown ['colour']"),
        ({"models": {"mlp": {"hparams": {"width": 8, "depth": 1, "dropout": 0.0}}}},
         "config: models.mlp needs either space (searched) or hparams (fixed, no search), "
         "not both"),
        ({"models": {"rnn": {"fixed": {"readout": False}}}},
         "config: models.rnn.space.state_size can take 15, which family 'rnn' cannot run"),
        ({"summary": {"primary": "xyz"}},
         "config: summary.primary is 'xyz', which is not under models "
         "(['rnn', 'mlp', 'cnn'])"),
        ({"calibration": {"seeds": [11, 11, 12]}},
         "config: calibration.seeds has a seed twice: [11, 11, 12]"),
        ({"calibration": {"seeds": [1, 3]}},
         "config: calibration.seeds [1, 3] reuses [1], a seed of models.rnn.seeds or "
         "bayes.seed"),
        ({"models": {"rnn": {"seeds": [1, 2]}}, "calibration": {"seeds": [11, 12, 13]}},
         "config: calibration.seeds has 3 seeds; the A/A check splits them into two groups "
         "of len(models.rnn.seeds) = 2, so it needs at least 4"),
        ({"summary": {"primary": "mlp"}, "models": {"mlp": {"seeds": [4, 5]}},
          "calibration": {"seeds": [11, 12, 5]}},
         "config: calibration.seeds [11, 12, 5] reuses [5], a seed of models.mlp.seeds or "
         "bayes.seed"),
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
        ({"summary": {"bootstrap": 10}}, "Additional properties are not allowed ('bootstrap'"),
        ({"models": {"mlp": {"seeds": [1, 1.5]}}}, "1.5 is not of type 'integer'"),
        ({"models": {"mlp": {"shuffled": "yes"}}}, "'yes' is not of type 'boolean'"),
        ({"models": {"Bad-Name": {"label": "x", "seeds": [1], "epochs": 1}}},
         "'Bad-Name' does not match"),
        ({"calibration": {"max_splits": 0}}, "0 is less than the minimum of 1"),
        ({"train": {"threads": 0}}, "0 is less than the minimum of 1"),
    ],
)
def test_schema_rejects_a_bad_value(change: dict, message: str):
    config = workflow_config()
    for section, values in change.items():
        if section == "models":
            for name, block in values.items():
                config["models"].setdefault(name, {}).update(block)
        else:
            config.setdefault(section, {}).update(values)
    with pytest.raises(WorkflowError) as raised:
        validate(config, SCHEMA)
    assert message in str(raised.value) + str(getattr(raised.value, "args", ""))


def test_a_model_with_fixed_hparams_and_no_search_passes():
    config = smoke_config()
    del config["models"]["mlp"]["space"]
    config["models"]["mlp"]["hparams"] = {"width": 32, "depth": 1, "dropout": 0.25}
    validate(config, SCHEMA)
    config_checks.complete_and_check(config)
    config["models"]["mlp"]["hparams"]["dropout"] = 1.5
    with pytest.raises(WorkflowError, match=re.escape(
            "config: models.mlp.hparams: dropout must be in [0, 1); got 1.5")):
        config_checks.complete_and_check(config)


def test_a_family_memory_term_needs_its_coefficient():
    """Every listed family's memory terms (the RNN's state and steps) need their
    resources.train_mem_per_<term>_mb, before any job runs."""
    config = smoke_config()
    del config["resources"]["train_mem_per_step_mb"]
    validate(config, SCHEMA)
    with pytest.raises(WorkflowError, match=re.escape(
            "config: models.rnn: family 'rnn' sizes its training memory by ['state', 'step'], "
            "so ['resources.train_mem_per_step_mb'] must be given")):
        config_checks.complete_and_check(config)
    del config["models"]["rnn"]
    config["summary"]["primary"] = "mlp"
    config_checks.complete_and_check(config)  # the MLP alone needs no such coefficient

"""Adding a model is one module, one config block (and a memory coefficient when its
family declares a new memory term): the steps of docs/extending.md, done with a tiny family
in a copy of the session's finished smoke study, which then reruns the new model's jobs
and the study-wide summaries, nothing of the other models, until the new model is in
runs.csv and the summary."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import SMOKE, SUMMARY_RULES, copy_study, parse_jobs
from helpers import snakemake as run_snakemake

# Step 1 of docs/extending.md: the family module, with the interface every family has
# (msdrnn/models/__init__.py). A song's mean over its segments through one hidden ReLU
# layer: tiny and quick to train, and it declares a memory term of its own.
TINY_FAMILY = '''
"""A tiny test family: each song's mean over its segments, one hidden ReLU layer."""

from __future__ import annotations

import numpy as np

from msdrnn.models.layers import correct, cross_entropy, dense, glorot_uniform, relu, tf
from msdrnn.study import CLASSES, FEATURES

HPARAMS = {"hidden": int}
DEFAULTS = {"hidden": 8}


def check(hparams: dict, classes: int = CLASSES) -> str | None:
    return None if hparams["hidden"] >= 1 else "hidden must be at least 1"


def flops_per_song(hparams: dict, classes: int = CLASSES) -> dict[str, float]:
    forward = 2.0 * (FEATURES * hparams["hidden"] + hparams["hidden"] * classes)
    return {"forward": forward, "train": 3 * forward}


def memory_terms(hparams: dict) -> dict[str, float]:
    return {"hidden": hparams["hidden"]}


def reference_logits(inputs, weights):
    x = np.asarray(inputs, np.float32).mean(axis=1)
    return dense(relu(dense(x, weights, "W_0", "b_0")), weights, "W_1", "b_1")


def build(hparams: dict, seed: int, classes: int = CLASSES):
    return Tiny(hparams, seed, classes)


class Tiny:
    parts = 1

    def __init__(self, hparams, seed, classes=CLASSES):
        self.hparams, self.classes = dict(hparams), classes
        rng = np.random.default_rng([seed, 1])
        sizes = [(FEATURES, hparams["hidden"]), (hparams["hidden"], classes)]
        self.weights = {}
        for i, (fan_in, fan_out) in enumerate(sizes):
            self.weights[f"W_{i}"] = tf.Variable(glorot_uniform(rng, fan_in, fan_out))
            self.weights[f"b_{i}"] = tf.Variable(np.zeros(fan_out, np.float32))

    def song_logits(self, songs):
        x = tf.nn.relu(tf.reduce_mean(songs, axis=1) @ self.weights["W_0"]
                       + self.weights["b_0"])
        return x @ self.weights["W_1"] + self.weights["b_1"]

    def train_batch(self, songs, targets, optimizer, noise_seed):
        with tf.GradientTape() as tape:
            logits = self.song_logits(songs)
            loss = tf.reduce_mean(cross_entropy(logits, targets))
        optimizer.apply(tape.gradient(loss, optimizer.variables))
        return tf.reshape(loss, [1]), loss, correct(logits, targets)

    def flops_per_song(self):
        return flops_per_song(self.hparams, self.classes)
'''

# Step 2: the model's block under models: (a search over its one hyperparameter, one
# epoch a run), and step 3: the coefficient of its new memory term under resources:.
TINY_BLOCK = {"label": "Tiny mean network", "space": {"hidden": {"int": [4, 16]}},
              "seeds": [1], "epochs": 1, "shuffled": True}
COEFFICIENT = {"train_mem_per_hidden_mb": 0.0}
# what else a new model reruns: the tables and the figure that list every model
STUDY_WIDE = SUMMARY_RULES | {"all"}


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """The shared runner with the smoke config plus the new model; a failed run is the
    caller's to check."""
    return run_snakemake(workdir, *args, configfile="configs/registry.yaml", check=False)


@pytest.mark.slow
def test_a_new_family_reaches_runs_csv_and_the_summary(smoke_study, tmp_path: Path):
    workdir = copy_study(smoke_study.workdir, tmp_path / "study", linked=(),
                         copied=("results",))
    (workdir / "workflow_scripts/msdrnn/models/tiny.py").write_text(
        textwrap.dedent(TINY_FAMILY).lstrip())
    smoke = yaml.safe_load((workdir / SMOKE).read_text())
    smoke["models"]["tiny"] = TINY_BLOCK
    config = workdir / "configs/registry.yaml"
    # without step 3, the config check names the missing coefficient before any job
    config.write_text(yaml.safe_dump(smoke, sort_keys=False))
    result = snakemake(workdir, "-n")
    assert result.returncode != 0
    assert "resources.train_mem_per_hidden_mb" in result.stdout + result.stderr
    smoke.setdefault("resources", {}).update(COEFFICIENT)
    config.write_text(yaml.safe_dump(smoke, sort_keys=False))
    plan = snakemake(workdir, "-n", "-p")
    assert plan.returncode == 0, plan.stderr[-3000:]
    for path in ("results/tiny_search/trial_001/proposal.json", "results/tiny/seed_1/run.json",
                 "results/controls/shuffled_tiny/seed_1/run.json",
                 "results/figures/tiny_search_objective.png",
                 "results/figures/tiny_accuracy.png"):
        assert path in plan.stdout, path
    others = {(job.rule, job.outputs) for job in parse_jobs(plan.stdout + plan.stderr)
              if job.rule not in STUDY_WIDE and "tiny" not in " ".join(job.outputs)}
    assert not others, f"adding a model reran jobs of the others: {sorted(others)[:5]}"
    result = snakemake(workdir, "results/runs.csv", "results/summary.md")
    assert result.returncode == 0, result.stderr[-4000:]
    runs = pd.read_csv(workdir / "results/runs.csv")
    tiny = runs[runs["model"] == "tiny"]
    assert set(tiny["kind"]) == {"search", "tiny", "shuffled"}
    summary = (workdir / "results/summary.md").read_text()
    assert "| Tiny mean network | hidden " in summary
    assert "RNN, best parameters vs Tiny mean network" in summary
    assert "Tiny mean network vs Tiny mean network on shuffled segments (control)" in summary

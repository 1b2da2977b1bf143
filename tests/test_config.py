"""The workflow runs its config checks at start-up; the environment files agree with
requirements."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, copy_repo, snakemake


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("config"))


def dry_run(workdir: Path, config: dict) -> subprocess.CompletedProcess:
    (workdir / "configs/bad.yaml").write_text(yaml.safe_dump(config))
    return snakemake(workdir, "-n", configfile="configs/bad.yaml", cores=1, check=False)


@pytest.mark.parametrize(
    "change, message",
    [  # one check of rules/config_checks.py and one of the schema; every case of both is
       # in tests/test_config_checks.py, called directly
        ({"grid": {"steps": [4, 7]}},
         r"grid\.steps has \[7\], which do not divide data\.segments = 120; allowed steps "
         r"values: 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60, 120"),
        ({"bayes": {"kappa": "high"}}, r"'high' is not of type 'number'"),
    ],
)
def test_bad_config_is_rejected_before_any_job(workdir: Path, change: dict, message: str):
    config = yaml.safe_load((ROOT / "configs/smoke.yaml").read_text())
    for section, values in change.items():
        config[section].update(values)
    result = dry_run(workdir, config)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert re.search(message, output), output[-3000:]
    assert not (workdir / "results").exists()


@pytest.fixture(scope="module")
def default_plan(workdir: Path) -> str:
    """The output of a dry run of config.yaml's whole study, shell commands printed; a
    config that does not validate fails it with Snakemake's output."""
    result = snakemake(workdir, "-n", "-p", "--forceall", configfile=None, cores=2)
    return result.stdout + result.stderr


def test_default_config_validates_and_plans_every_stage(default_plan: str):
    for rule in ("prepare_dataset", "grid_train", "search_trial", "model_train",
                 "evaluate_test", "write_summary"):
        assert f"rule {rule}:" in default_plan, rule


def test_search_trials_run_on_their_models_threads(default_plan: str):
    """config.yaml runs the feedforward and convolutional networks' trials on one thread
    (models.NAME.threads) and the RNN's on bayes.threads (2): the job asks the scheduler
    for the threads its trainer is given."""
    text = default_plan
    seen = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:$)", text, flags=re.M):
        if not block.startswith("rule search_trial:"):
            continue
        model = re.search(r"--model (\w+)", block)[1]
        asked = re.search(r"^\s+threads: (\d+)$", block, flags=re.M)  # not shown if 1
        seen.setdefault(model, set()).add(
            (int(asked[1]) if asked else 1, int(re.search(r"--threads (\d+)", block)[1])))
    assert seen == {"rnn": {(2, 2)}, "mlp": {(1, 1)}, "cnn": {(1, 1)}}


def test_paper_config_has_the_seed_values():
    paper = yaml.safe_load((ROOT / "configs/paper.yaml").read_text())
    steps = [2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60]
    assert paper["baseline"] == {"state_size": 10, "steps": 6, "readout": False,
                                 "epochs": 35, "seeds": [0, 1, 2, 3, 4]}
    assert paper["grid"]["steps"] == steps and paper["grid"]["epochs"] == 35
    assert (paper["grid"]["state_size"], paper["grid"]["readout"]) == (10, False)
    bayes = paper["bayes"]
    assert paper["models"]["rnn"]["space"] == {"state_size": {"int": [15, 500]},
                                               "steps": {"categories": steps}}
    assert (bayes["n_initial"], bayes["n_calls"], bayes["kappa"]) == (1, 26, 1.9)
    assert (bayes["epochs"], bayes["top_fraction"]) == (25, 0.1)
    rnn = paper["models"]["rnn"]
    assert (rnn["epochs"], rnn["seeds"]) == (50, [1, 2, 3, 4, 5])
    assert paper["models"]["mlp"]["seeds"] == [1, 2, 3, 4, 5]
    assert (paper["train"]["batch_size"], paper["train"]["learning_rate"]) == (50, 0.001)
    data = paper["data"]
    assert (data["segments"], data["per_genre"], data["per_genre_test"]) == (120, 5000, 1000)
    assert data["valid_fraction"] == 0.2
    assert data["genres"] == ["Rap", "Rock", "RnB", "Electronic", "Metal", "Blues", "Pop",
                              "Jazz", "Country", "Reggae"]


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)\s*(#.*)?", line)
        if match:
            found[match[1].lower()] = match[2]
    return found


def test_conda_envs_parse_and_agree_with_requirements():
    required = pins((ROOT / "requirements.txt").read_text().splitlines())
    used = set()
    for path in sorted((ROOT / "envs").glob("*.yaml")):
        env = yaml.safe_load(path.read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        env_pins = pins(pip)
        assert env_pins, f"{path.name}: no pinned packages"
        for name, version in env_pins.items():
            assert required.get(name) == version, f"{path.name}: {name}=={version}"
        used |= env_pins.keys()
    rules = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    for env in re.findall(r'"\.\./envs/(\w+)\.yaml"', rules):
        assert (ROOT / "envs" / f"{env}.yaml").is_file()
    assert "tensorflow" in used and "matplotlib" in used and "scikit-optimize" in used

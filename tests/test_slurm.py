"""The study through the SLURM profile, and the profile's messages for a missing SLURM.

With MSDRNN_SLURM_TEST=1 (set by .ci/run; needs root) the `slurm` tests install (apt-get,
if needed), start and finally stop a one-node SLURM cluster on localhost with
tools/local_slurm.sh, and run the smoke study with `--profile profiles/slurm` beside the
rest of the session (conftest.py starts it before the first test). They check that every
non-local job ran as a SLURM job, that the results equal those of the session's local smoke
study bit for bit, and redo one training job with `--profile profiles/slurm-gpu`. The
other tests need no cluster: they hide or fake the SLURM commands on PATH.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import (
    CLUSTER_SCRIPT,
    DATA_RULES,
    FAST_STATUS,
    MLP_RUNS,
    MODEL_TRAIN,
    ROOT,
    SLURM_GROUP,
    SLURM_RUN_TIMEOUT_S,
    SMOKE_MODELS,
    TRAIN_RULES,
    copy_repo,
    dry_run,
    output_text,
    search_folder,
    slurm_enabled,
    snakemake,
)

# one xdist worker runs every test of this module: it alone starts the one-node cluster
pytestmark = pytest.mark.xdist_group(SLURM_GROUP)

# commands of Debian's slurm-client, slurmctld and slurmd packages
SLURM_COMMANDS = {
    "sacct",
    "sacctmgr",
    "salloc",
    "sattach",
    "sbatch",
    "sbcast",
    "scancel",
    "scontrol",
    "scrontab",
    "sdiag",
    "sh5util",
    "sinfo",
    "sprio",
    "squeue",
    "sreport",
    "srun",
    "sshare",
    "sstat",
    "strigger",
    "sview",
    "slurmctld",
    "slurmd",
    "slurmstepd",
}
needs_cluster = pytest.mark.skipif(
    not slurm_enabled(),
    reason="starts a SLURM cluster on localhost (root, apt-get); set MSDRNN_SLURM_TEST=1",
)


# ------------------------------------------------------------------------------ helpers


def path_without_slurm(tmp_path: Path) -> str:
    """A PATH with every command of the current PATH except SLURM's."""
    mirror = tmp_path / "bin-without-slurm"
    mirror.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or not Path(folder).is_dir():
            continue
        for entry in Path(folder).iterdir():
            if entry.name in SLURM_COMMANDS or (mirror / entry.name).exists():
                continue
            if entry.is_file() and os.access(entry, os.X_OK):
                (mirror / entry.name).symlink_to(entry)
    python_dir = str(Path(sys.executable).parent)
    return os.pathsep.join([python_dir, str(mirror)])


def fake_slurm(tmp_path: Path, partitions: str = "debug*", gres: str = "(null)") -> Path:
    """sinfo/squeue/sbatch stand-ins; sbatch records that it was called and fails."""
    fake = tmp_path / "fake-slurm"
    fake.mkdir()
    scripts = {
        "sinfo": f"""#!/bin/sh
case "$*" in
  *%G*) echo '{gres}' ;;
  *-p*) ;;
  *%P*) echo '{partitions}' ;;
  *) echo 'PARTITION AVAIL'; echo '{partitions} up' ;;
esac
""",
        "squeue": "#!/bin/sh\nexit 0\n",
        "sbatch": f"#!/bin/sh\ntouch '{fake}/sbatch-called'\necho 'sbatch: fake' >&2\nexit 1\n",
        "scontrol": "#!/bin/sh\nexit 1\n",
    }
    for name, text in scripts.items():
        script = fake / name
        script.write_text(text)
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return fake


def read_table(path: Path, drop=("seconds",)) -> list[dict]:
    """A CSV's rows without its wall-clock columns."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{k: v for k, v in row.items() if k not in drop} for row in rows]


def assert_same_arrays(a: Path, b: Path) -> None:
    with np.load(a) as left, np.load(b) as right:
        assert sorted(left.files) == sorted(right.files), a
        for key in left.files:
            x, y = left[key], right[key]
            assert x.dtype == y.dtype and x.shape == y.shape, f"{a}:{key}"
            assert x.tobytes() == y.tobytes(), f"{a}:{key} differs between SLURM and local runs"


JOB_BLOCK = re.compile(r"^(local)?rule (\w+):\n((?:[ \t]+.*\n)*)", re.MULTILINE)
SUBMITTED = re.compile(
    r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.", re.MULTILINE
)


def parse_run_log(text: str):
    """(snakemake jobid -> (rule, is_local, log file or None), jobid -> (slurm id, slurm log))."""
    jobs = {}
    for match in JOB_BLOCK.finditer(text):
        fields = dict(
            line.strip().split(": ", 1) for line in match.group(3).splitlines() if ": " in line
        )
        if "jobid" in fields:
            jobs[fields["jobid"]] = (match.group(2), bool(match.group(1)), fields.get("log"))
    submitted = {m.group(1): (m.group(2), Path(m.group(3))) for m in SUBMITTED.finditer(text)}
    return jobs, submitted


# ----------------------------------------------------------------------- the cluster


def slurm_record(job_id: str) -> str:
    out = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, timeout=30
    )
    return out.stdout


@dataclass
class SlurmStudy:
    workdir: Path
    log: str
    env: dict


@pytest.fixture(scope="module")
def slurm_study(slurm_study_started, slurm_cluster) -> SlurmStudy:
    """The smoke study through --profile profiles/slurm (conftest.py started it before the
    first test), finished. Its local twin is the session's smoke study."""
    returncode, text = slurm_study_started.result()
    ctld_log = slurm_cluster["dir"] / "log" / "slurmctld.log"
    assert returncode == 0, (
        f"SLURM run failed:\n{text[-6000:]}\n--- slurmctld.log ---\n"
        + (ctld_log.read_text()[-3000:] if ctld_log.exists() else "(none)")
    )
    return SlurmStudy(slurm_study_started.workdir, text, slurm_study_started.env)


@pytest.mark.slurm
@pytest.mark.slow
@needs_cluster
def test_every_cluster_job_ran_as_a_slurm_job(slurm_study, slurm_cluster):
    jobs, submitted = parse_run_log(slurm_study.log)
    remote = {jobid: job for jobid, job in jobs.items() if not job[1]}
    local_rules = {job[0] for job in jobs.values() if job[1]}
    remote_rules = {job[0] for job in remote.values()}
    assert TRAIN_RULES | DATA_RULES <= remote_rules, remote_rules
    assert not (TRAIN_RULES | DATA_RULES) & local_rules, local_rules
    assert set(remote) == set(submitted), (
        f"jobs run but not submitted to SLURM: {sorted(set(remote) - set(submitted))}"
    )
    jobcomp = (slurm_cluster["dir"] / "log" / "jobcomp.log").read_text()
    for jobid, (rule, _, rule_log) in sorted(remote.items()):
        slurm_id, slurm_log = submitted[jobid]
        # SLURM's records: the controller (finished jobs stay for MinJobAge) and jobcomp.log
        record = slurm_record(slurm_id)
        assert "JobState=COMPLETED" in record, f"{rule}: SLURM job {slurm_id}: {record}"
        assert re.search(rf"Comment=rule_{rule}(_wildcards_\S*)?(\s|$)", record), (
            f"{rule}: SLURM job {slurm_id}: {record}"
        )
        assert re.search(rf"JobId={slurm_id} .*JobState=COMPLETED", jobcomp), (
            f"{rule}: SLURM job {slurm_id} missing from jobcomp.log"
        )
        # the plugin's per-job log, named after the SLURM job id
        assert slurm_log.name == f"{slurm_id}.log" and slurm_log.exists(), slurm_log
        assert re.search(rf"^rule {rule}:", slurm_log.read_text(), re.MULTILINE), slurm_log
        # and the rule's own log starts with the job id it ran under ("job 12 on node1")
        if rule_log:
            text = (slurm_study.workdir / rule_log.split(", ")[0]).read_text()
            assert re.search(rf"^job {slurm_id} on ", text, re.MULTILINE), (
                f"{rule}: {rule_log} does not name SLURM job {slurm_id}:\n{text[:300]}"
            )


@pytest.mark.slurm
@pytest.mark.slow
@needs_cluster
def test_slurm_results_equal_local_results(slurm_study, smoke_study):
    """The local twin is the session's smoke study (same config; the numbers are a
    function of the config alone, not of the executor or the cores)."""
    slurm_results = slurm_study.workdir / "results"
    local_results = smoke_study.workdir / "results"

    def found(root: Path, name: str) -> list[Path]:
        return sorted(p.relative_to(root) for p in root.rglob(name))

    histories = found(slurm_results, "history.csv")
    weights = found(slurm_results, "weights.npz")
    assert histories and weights
    assert histories == found(local_results, "history.csv")
    assert weights == found(local_results, "weights.npz")
    tables = [f"{search_folder(model)}/trials.csv" for model in SMOKE_MODELS]
    tables.append("results/grid/summary.csv")
    for rel in [*histories, *(Path(table).relative_to("results") for table in tables)]:
        assert read_table(slurm_results / rel) == read_table(local_results / rel), rel
    for rel in weights:
        assert_same_arrays(slurm_results / rel, local_results / rel)


@pytest.mark.slurm
@pytest.mark.slow
@needs_cluster
def test_gpu_profile_gets_a_gpu_from_slurm(slurm_study, smoke_study, slurm_cluster):
    if (
        "gpu"
        not in subprocess.run(
            ["sinfo", "-h", "-o", "%G"], capture_output=True, text=True, env=slurm_study.env
        ).stdout
    ):
        pytest.skip("the running cluster announces no GPU (start it with SLURM_LOCAL_GPUS=1)")
    # redo one training job (its only input is kept) with the GPU profile
    weights = f"{MLP_RUNS}/seed_1/weights.npz"
    result = snakemake(
        slurm_study.workdir,
        f"{MLP_RUNS}/seed_1/history.csv",
        "--profile",
        "profiles/slurm-gpu",
        *FAST_STATUS,
        "--forcerun",
        MODEL_TRAIN,
        cores=None,
        env=slurm_study.env,
        timeout=SLURM_RUN_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, output_text(result)[-6000:]
    jobs, submitted = parse_run_log(output_text(result))
    assert [jobs[jobid][0] for jobid in submitted] == [MODEL_TRAIN], submitted
    [(slurm_id, _)] = submitted.values()
    record = slurm_record(slurm_id)
    assert "JobState=COMPLETED" in record and "gres:gpu:1" in record, record
    # the CPU profile's jobs asked for none
    _, earlier = parse_run_log(slurm_study.log)
    assert not any("gres:gpu" in slurm_record(sid) for sid, _ in earlier.values())
    # a placeholder GPU: TensorFlow computed on the CPU and gives the same weights
    assert_same_arrays(slurm_study.workdir / weights, smoke_study.workdir / weights)


# ------------------------------------------------------------- bad input, no cluster


@pytest.fixture(scope="module")
def study_copy(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("study"))


def run_profile(study: Path, path: str, profile: str = "profiles/slurm", *extra: str):
    """The smoke study through `profile` with PATH set to `path`; returns (result, text)."""
    result = snakemake(study, "--profile", profile, *extra, cores=None,
                       env={**os.environ, "PATH": path}, check=False, timeout=300)
    return result, output_text(result)


def with_fake(fake: Path, tmp_path: Path) -> str:
    """PATH with the fake SLURM commands first and no real ones."""
    return os.pathsep.join([str(fake), path_without_slurm(tmp_path)])


def test_profile_without_sbatch_says_what_to_install(study_copy, tmp_path):
    result, text = run_profile(study_copy, path_without_slurm(tmp_path))
    assert result.returncode != 0
    assert text.count("not found on PATH") == 1, text[-3000:]
    assert "`sbatch`" in text and "apt-get install slurm-client" in text
    assert "profiles/local" in text
    assert not (study_copy / "results" / "data").exists(), "a job ran"


def test_dry_run_with_profile_needs_no_slurm(study_copy, tmp_path):
    result, text = run_profile(study_copy, path_without_slurm(tmp_path), "profiles/slurm", "-n")
    assert result.returncode == 0, text[-3000:]


def test_unknown_partition_is_named_before_any_submission(study_copy, tmp_path):
    fake = fake_slurm(tmp_path, partitions="debug*\ngpu")
    result, text = run_profile(study_copy, with_fake(fake, tmp_path), "profiles/slurm",
                               "--default-resources", "mem_mb=1000", "runtime=10",
                               "slurm_partition=nosuch")
    assert result.returncode != 0
    assert text.count("SLURM partition 'nosuch'") == 1, text[-3000:]
    assert "does not exist" in text and "debug, gpu" in text
    assert "slurm_partition=NAME" in text
    assert not (fake / "sbatch-called").exists(), "sbatch was called"


def test_profile_with_unreachable_cluster(study_copy, tmp_path):
    fake = fake_slurm(tmp_path)
    (fake / "sinfo").write_text(
        "#!/bin/sh\necho 'sinfo: fatal: Could not establish a configuration source' >&2\nexit 1\n"
    )
    result, text = run_profile(study_copy, with_fake(fake, tmp_path))
    assert result.returncode != 0
    assert text.count("cannot reach a cluster") == 1, text[-3000:]
    assert "tools/local_slurm.sh start" in text
    assert not (fake / "sbatch-called").exists(), "sbatch was called"


def test_gpu_profile_on_cluster_without_gpus(study_copy, tmp_path):
    fake = fake_slurm(tmp_path, gres="(null)")
    result, text = run_profile(study_copy, with_fake(fake, tmp_path), "profiles/slurm-gpu")
    assert result.returncode != 0
    assert "ask for a GPU" in text and "profiles/slurm" in text, text[-3000:]
    assert not (fake / "sbatch-called").exists(), "sbatch was called"


def test_gpu_profile_plans_a_gpu_for_training_jobs_only(study_copy):
    planned = {}
    for job in dry_run(study_copy, "--profile", "profiles/slurm-gpu", cores=None):
        planned.setdefault(job.rule, set()).add(bool(re.search(r"\bgpu=1\b", job.resources)))
    assert TRAIN_RULES | DATA_RULES <= set(planned), planned
    for rule, gpu in planned.items():
        assert gpu == {rule in TRAIN_RULES}, f"{rule}: gpu={gpu}"


# ------------------------------------------------------------------------- profiles


def load_profile(name: str) -> dict:
    return yaml.safe_load((ROOT / "profiles" / name / "config.yaml").read_text())


def workflow_rules(study: Path) -> set[str]:
    """Every rule name the workflow in ``study`` defines with config.yaml, as Snakemake
    lists them: those made with `use rule ... as NAME`, and those a loop names (one
    training rule per list of seeds), too."""
    listed = snakemake(study, "--list-rules", configfile=None, cores=None).stdout
    return {line.split()[0] for line in listed.splitlines() if line and not line[0].isspace()}


def test_gpu_profile_is_the_slurm_profile_plus_gpus_for_training(tmp_path):
    cpu, gpu = load_profile("slurm"), load_profile("slurm-gpu")
    gpu_resources = gpu.pop("set-resources")
    assert gpu == cpu, "profiles/slurm-gpu must repeat profiles/slurm apart from set-resources"
    assert set(gpu_resources) == TRAIN_RULES
    assert all(res.get("gpu") == 1 for res in gpu_resources.values())
    assert TRAIN_RULES <= workflow_rules(copy_repo(tmp_path / "study"))


def test_slurm_profile_settings():
    profile = load_profile("slurm")
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] in {"squeue", "sacct"}
    defaults = dict(item.split("=", 1) for item in profile["default-resources"])
    assert {"mem_mb", "runtime", "cpus_per_task"} <= set(defaults)
    assert defaults["cpus_per_task"] == "threads"
    local = load_profile("local")
    assert local["cores"] == "all" and local["rerun-incomplete"] is True


def test_cluster_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(CLUSTER_SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    usage = subprocess.run(["bash", str(CLUSTER_SCRIPT)], capture_output=True, text=True)
    assert usage.returncode == 0 and "start" in usage.stdout and "stop" in usage.stdout

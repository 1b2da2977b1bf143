"""Checks that run before the first job is submitted to a cluster.

The Snakefile calls ``check_executor(workflow)`` from its ``onstart:`` handler. Snakemake
parses the Snakefile before it picks the executor, so the executor is known only there,
from ``workflow.executor_plugin``. The handler runs once in the main process just before
scheduling, never for ``-n``, ``--lint``, ``--summary`` or other runs that execute nothing,
and never inside a cluster job (Snakemake starts those with ``--no-hooks``).

Snakemake API used. Public, from the interface Snakemake offers its executor plugins
(snakemake-interface-executor-plugins, stable within a major version):
``workflow.executor_plugin`` with its ``name`` and ``common_settings.dryrun_exec``, and of
each job ``is_local``, ``resources`` and ``rule.name``. Snakemake has no public API for the
jobs a run will execute or for the ``--default-resources`` given, so those two come from
``workflow.dag.needrun_jobs()`` and ``workflow.resource_settings.default_resources``; both
are read defensively, and without them the check falls back to the partitions alone.
This is a plain Python module (ruff checks it), not a rule file.
"""

from __future__ import annotations

import shutil
import subprocess

from snakemake.exceptions import WorkflowError

_SLURM_INSTALL_HINT = (
    "Install the SLURM client commands on this machine (Debian/Ubuntu: "
    "`apt-get install slurm-client`; on a cluster: run Snakemake on a login node, "
    "or `module load slurm`), or run the study without a cluster: "
    "`snakemake --profile profiles/local`. To try the SLURM profile on one "
    "machine, start a one-node cluster with `tools/local_slurm.sh install && "
    "tools/local_slurm.sh start` (as root)."
)


def _sinfo(*args: str) -> str:
    """Output of `sinfo ARGS`; raises WorkflowError when sinfo fails."""
    try:
        proc = subprocess.run(
            ["sinfo", *args], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise WorkflowError(f"SLURM: `sinfo {' '.join(args)}` failed: {err}") from err
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no message)"]
        raise WorkflowError(
            f"SLURM: `sinfo {' '.join(args)}` cannot reach a cluster (exit "
            f"{proc.returncode}: {lines[-1]}). On a cluster, run Snakemake on a login node "
            "(check SLURM_CONF); on this machine, start the one-node cluster with "
            "`tools/local_slurm.sh start` (as root), or run without SLURM: "
            "`snakemake --profile profiles/local`."
        )
    return proc.stdout


def _cluster_jobs(workflow) -> list:
    """The jobs of this run that will be submitted to the cluster."""
    dag = getattr(workflow, "dag", None)
    if dag is None or not hasattr(dag, "needrun_jobs"):
        return []
    return [job for job in dag.needrun_jobs() if not job.is_local]


def _gpu_requested(job) -> bool:
    """Whether the job asks for a GPU in any of the ways the SLURM plugin understands."""
    res = job.resources
    gpus = res.get("gpu") or res.get("gpus") or 0
    return bool(gpus) or bool(res.get("gpu_model")) or "gpu" in str(res.get("gres") or "")


def check_slurm(workflow) -> None:
    """Fail early, with one message that says what to install or set."""
    missing = [cmd for cmd in ("sbatch", "sinfo", "squeue") if shutil.which(cmd) is None]
    if missing:
        raise WorkflowError(
            f"SLURM executor selected (--profile profiles/slurm or --executor slurm), "
            f"but {', '.join(f'`{m}`' for m in missing)} not found on PATH. "
            f"{_SLURM_INSTALL_HINT}"
        )
    available = {
        name.strip().rstrip("*")
        for name in _sinfo("-h", "-o", "%P").split()
        if name.strip()
    }
    if not available:
        raise WorkflowError(
            "SLURM: `sinfo` lists no partitions; ask your cluster's admins which "
            "partition to use, or check that slurmctld is running."
        )
    jobs = _cluster_jobs(workflow)
    requested = {}
    for job in jobs:
        partition = job.resources.get("slurm_partition")
        if partition:
            requested.setdefault(str(partition), []).append(job.rule.name)
    if not jobs:
        partition = _default_partition(workflow)
        if partition:
            requested[partition] = ["(default resources)"]
    for partition, rules in sorted(requested.items()):
        if partition not in available:
            raise WorkflowError(
                f"SLURM partition {partition!r} (slurm_partition of rule(s) "
                f"{', '.join(sorted(set(rules)))}) does not exist on this cluster; "
                f"`sinfo` lists: {', '.join(sorted(available))}. Set an existing "
                "partition with `--default-resources slurm_partition=NAME` (or in "
                "the profile's default-resources / set-resources), or leave "
                "slurm_partition unset to use the cluster's default partition."
            )
    gpu_jobs = [job for job in jobs if _gpu_requested(job)]
    if gpu_jobs:
        partitions = sorted(
            {str(job.resources.get("slurm_partition") or "") for job in gpu_jobs}
        )
        for partition in partitions:
            args = ["-h", "-o", "%G"] + (["-p", partition] if partition else [])
            gres = _sinfo(*args)
            if "gpu" not in gres:
                where = f"partition {partition!r}" if partition else "this cluster"
                raise WorkflowError(
                    f"SLURM: rule(s) {', '.join(sorted({j.rule.name for j in gpu_jobs}))} "
                    f"ask for a GPU, but {where} has no GPU nodes (`sinfo -o %G` shows "
                    "no gpu). Use `--profile profiles/slurm` (CPU only), or set the "
                    "GPU partition for the training rules (`slurm_partition` under "
                    "set-resources in profiles/slurm-gpu/config.yaml)."
                )


def _default_partition(workflow) -> str | None:
    """slurm_partition from --default-resources, if it is a plain name."""
    defaults = getattr(getattr(workflow, "resource_settings", None), "default_resources", None)
    if defaults is None:
        return None
    try:
        resource = defaults.get("slurm_partition")
    except (AttributeError, KeyError):
        return None
    raw = getattr(resource, "raw", resource)
    if raw is None:
        return None
    return str(raw).strip("'\"") or None


def check_executor(workflow) -> None:
    """Run the checks that belong to the executor this run uses."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.common_settings.dryrun_exec:
        return
    if plugin.name == "slurm":
        check_slurm(workflow)


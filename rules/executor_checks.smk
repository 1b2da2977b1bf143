# Checks that run before the first job is submitted to a cluster.
#
# Included from the Snakefile. It registers an `onstart:` handler; a Snakefile
# that needs its own `onstart:` must call `check_executor(workflow)` from it,
# because Snakemake keeps only the last `onstart:` handler.
#
# Snakemake parses the Snakefile before it picks the executor, so the executor
# is known only from `workflow.executor_plugin` inside `onstart:`. That handler
# runs once in the main process just before scheduling, never for `-n`,
# `--lint`, `--summary` or other runs that execute nothing, and never inside a
# cluster job (Snakemake starts those with --no-hooks).

import shutil as _shutil
import subprocess as _subprocess

from snakemake.exceptions import WorkflowError as _WorkflowError

_SLURM_INSTALL_HINT = (
    "Install the SLURM client commands on this machine (Debian/Ubuntu: "
    "`apt-get install slurm-client`; on a cluster: run Snakemake on a login node, "
    "or `module load slurm`), or run the study without a cluster: "
    "`snakemake --profile profiles/local`. To try the SLURM profile on one "
    "machine, start a one-node cluster with `tools/local_slurm.sh install && "
    "tools/local_slurm.sh start` (as root)."
)


def _sinfo(*args):
    """Output of `sinfo ARGS`; raises WorkflowError when sinfo fails."""
    try:
        proc = _subprocess.run(
            ["sinfo", *args], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, _subprocess.TimeoutExpired) as err:
        raise _WorkflowError(f"SLURM: `sinfo {' '.join(args)}` failed: {err}") from err
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no message)"]
        raise _WorkflowError(
            f"SLURM: `sinfo {' '.join(args)}` cannot reach a cluster (exit "
            f"{proc.returncode}: {lines[-1]}). On a cluster, run Snakemake on a login node "
            "(check SLURM_CONF); on this machine, start the one-node cluster with "
            "`tools/local_slurm.sh start` (as root), or run without SLURM: "
            "`snakemake --profile profiles/local`."
        )
    return proc.stdout


def _cluster_jobs(workflow):
    """The jobs of this run that will be submitted to the cluster."""
    dag = getattr(workflow, "dag", None)
    if dag is None:
        return []
    return [job for job in dag.needrun_jobs() if not job.is_local]


def _gpu_requested(job):
    res = job.resources
    gpus = res.get("gpu") or res.get("gpus") or 0
    return bool(gpus) or bool(res.get("gpu_model")) or "gpu" in str(res.get("gres") or "")


def check_slurm(workflow):
    """Fail early, with one message that says what to install or set."""
    missing = [cmd for cmd in ("sbatch", "sinfo", "squeue") if _shutil.which(cmd) is None]
    if missing:
        raise _WorkflowError(
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
        raise _WorkflowError(
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
            raise _WorkflowError(
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
                raise _WorkflowError(
                    f"SLURM: rule(s) {', '.join(sorted({j.rule.name for j in gpu_jobs}))} "
                    f"ask for a GPU, but {where} has no GPU nodes (`sinfo -o %G` shows "
                    "no gpu). Use `--profile profiles/slurm` (CPU only), or set the "
                    "GPU partition for the training rules (`slurm_partition` under "
                    "set-resources in profiles/slurm-gpu/config.yaml)."
                )


def _default_partition(workflow):
    """slurm_partition from --default-resources, if it is a plain name."""
    defaults = getattr(workflow.resource_settings, "default_resources", None)
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


def check_executor(workflow):
    """Run the checks that belong to the executor this run uses."""
    plugin = getattr(workflow, "executor_plugin", None)
    if plugin is None or not workflow.is_main_process or workflow.dryrun:
        return
    if plugin.name == "slurm":
        check_slurm(workflow)


onstart:
    check_executor(workflow)

"""Does every job fit what it declares? Run a config's study at its data scale, cut short.

    python perf/bench_resources.py --config configs/paper.yaml --synthetic 6150 \\
        --scratch /tmp/msdrnn-bench-paper       # the paper's size: 6 GB of disk, tens of minutes
    python perf/bench_resources.py --config config.yaml  # the default study
    python perf/bench_resources.py --report /tmp/msdrnn-bench-paper   # a finished run again
    python perf/bench_resources.py --fit /tmp/msdrnn-bench-smoke /tmp/msdrnn-bench-paper

Copies the workflow into ``--scratch`` (default: a new folder under /tmp) and runs
Snakemake there on ``--config`` with every training run cut to ``--epochs`` epochs
(default 1) and the search to ``--trials`` trials (default 2), at the config's data scale:
``--synthetic N`` switches the data to the embedded synthetic generator with N tracks per
genre (6150 gives the paper's 5,000 train + valid and 1,000 test songs per genre with
the generator's share of unusable tracks; ``--per-genre`` / ``--per-genre-test`` override
the config's). The resource formulas are not touched: each job gets what the config's
``resources:`` section makes of it at that scale.

``--report DIR --recompute`` compares a finished run's peaks with what ``config.yaml``'s
``resources:`` section gives the same jobs now (the formulas of ``msdrnn.resources``, fed
from each job's run.json and the dataset's size), to check new coefficients without
running again. ``--keep-data`` reuses the generated tree of an earlier run in the
same ``--scratch``.

Then it prints one row per job: its peak RSS (the larger of its benchmark file's sampled
``max_rss`` and the peak its script logged, see ``msdrnn.resources``) against the
``mem_mb`` Snakemake passed it (the ``resources:`` line ``JOB_HEADER`` writes at the top
of every job's log), and for training jobs the seconds per epoch (history.csv)
against the declared ``runtime`` per epoch; then the same per rule (the job with the
highest ratio). Exit status 1 when a job's peak exceeds its ``mem_mb`` or its time its
``runtime``. Memory is what a job uses whatever else runs; times grow when the machine
is shared, so compare them only on an idle one.

``--fit DIR ...`` measures the coefficients of the config's ``resources:`` section from
finished runs (ideally of several data scales: the smoke, default and paper configs): a
least-squares fit, with non-negative coefficients, of the training jobs' peak RSS to
``train_mem_base_mb + train_mem_per_data_mb x dataset MB + train_mem_per_state_mb x state
size + train_mem_per_step_mb x steps`` (and the fixed part raised until no job's peak lies
above the formula), and of their seconds per epoch (history.csv) to ``songs x
train_seconds_per_song + FLOPs / train_gflops[threads]`` (the FLOPs of an epoch:
``flops_per_song`` of run.json, training for the train songs, forward for the valid ones);
``train_startup_s`` is the most any job spent outside its fitted epochs (benchmark ``s``).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow_scripts"))

from msdrnn import resources as sizing  # noqa: E402
from msdrnn.resources import JobUsage, job_usage  # noqa: E402

WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "workflow_scripts", "configs",
                  "schemas", "report", "envs", "profiles")
EPOCH_SECTIONS = ("baseline", "grid", "bayes")  # and every models.NAME


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    parser.add_argument("--synthetic", type=int, metavar="TRACKS_PER_GENRE",
                        help="use the synthetic generator with this many tracks per genre")
    parser.add_argument("--per-genre", type=int, help="train + valid songs per genre")
    parser.add_argument("--per-genre-test", type=int, help="test songs per genre")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of every training run")
    parser.add_argument("--trials", type=int, default=2, help="search trials")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--scratch", type=Path,
                        help="folder to run in (kept; default: a new one under /tmp)")
    parser.add_argument("--keep-data", action="store_true",
                        help="in a --scratch of an earlier run: keep its generated synthetic "
                             "tree (minutes at paper size), redo everything else")
    parser.add_argument("--report", type=Path, metavar="SCRATCH",
                        help="only print the tables of a finished run in this folder")
    parser.add_argument("--recompute", action="store_true",
                        help="with --report: compare the peaks with what config.yaml's "
                             "resources section gives the same jobs now, not with what the "
                             "run's jobs were given")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--fit", type=Path, nargs="+", metavar="SCRATCH",
                        help="fit the resources: coefficients to these finished runs")
    return parser.parse_args(argv)


def bench_config(args: argparse.Namespace) -> dict:
    """The config to run: ``--config`` cut to ``--epochs`` and ``--trials``, at the data
    scale asked for."""
    config = yaml.safe_load(args.config.read_text())
    for section in EPOCH_SECTIONS:
        config.setdefault(section, {})["epochs"] = args.epochs
    for block in config["models"].values():
        block["epochs"] = args.epochs
    bayes = config["bayes"]
    bayes["n_calls"] = args.trials
    bayes["n_initial"] = min(bayes.get("n_initial", 1), args.trials)
    data = config["data"]
    if args.synthetic:
        data["source"] = "synthetic"
        data.setdefault("synthetic", {})["tracks_per_genre"] = args.synthetic
    if args.per_genre is not None:
        data["per_genre"] = args.per_genre
    if args.per_genre_test is not None:
        data["per_genre_test"] = args.per_genre_test
    return config


def copy_workflow(scratch: Path) -> None:
    for name in WORKFLOW_FILES:
        src, dest = ROOT / name, scratch / name
        if src.is_dir():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest)


def run(args: argparse.Namespace) -> Path:
    """Copy the workflow into the scratch folder and run the cut-short study there."""
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="msdrnn-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    results = scratch / "results"
    if results.exists():  # a finished run's jobs would not run again: start over
        keep = {"data/synthetic"} if args.keep_data else set()
        for path in sorted(results.rglob("*"), key=lambda p: -len(p.parts)):
            name = path.relative_to(results).as_posix()
            if any(name == k or name.startswith(f"{k}/") for k in keep) or \
                    any(k.startswith(f"{name}/") for k in keep):
                continue
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
        marker = results / "data/synthetic/COMPLETE"
        if args.keep_data and marker.exists():
            marker.touch()  # newer than the copied code: the tree is not generated again
    copy_workflow(scratch)
    config_path = scratch / "bench_config.yaml"
    config_path.write_text(yaml.safe_dump(bench_config(args), sort_keys=False))
    command = ["snakemake", "--cores", str(args.cores), "--configfile", config_path.name]
    print(f"running in {scratch}: {' '.join(command)}", flush=True)
    start = time.monotonic()
    result = subprocess.run(command, cwd=scratch)
    print(f"snakemake exit {result.returncode} after {time.monotonic() - start:.0f} s",
          flush=True)
    if result.returncode != 0:
        sys.exit(f"the workflow failed in {scratch}; see {scratch}/.snakemake/log/")
    return scratch


# A training job's benchmark name (rules/*.smk) -> its run folders under results/ (a
# glob: a job trains every seed of its configuration, one folder each): the baseline's
# and every model's seeds, the shuffled-segment runs, a steps value of the grid; one
# folder for a search trial and for a calibration run (one job per seed)
RUN_FOLDERS = (
    (re.compile(r"^controls/(shuffled_\w+)$"), r"controls/\1/seed_*"),
    (re.compile(r"^(\w+_search)/trial_(\d{3})$"), r"\1/trial_\2"),
    (re.compile(r"^grid/steps_(\d+)$"), r"grid/steps_\1/seed_*"),
    (re.compile(r"^calibration/train_seed_(\d+)$"), r"calibration/seed_\1"),
    (re.compile(r"^(\w+)/train$"), r"\1/seed_*"),
)


def run_folders(scratch: Path, name: str) -> list[Path]:
    """The run folders a training job wrote (each with its run.json), from its benchmark
    name; none for other jobs."""
    for pattern, folder in RUN_FOLDERS:
        if pattern.match(name):
            found = sorted((scratch / "results").glob(pattern.sub(folder, name)))
            return [path for path in found if (path / "run.json").exists()]
    return []


def history_seconds(folders: list[Path]) -> list[float]:
    """The seconds of every epoch of these runs (their history.csv files)."""
    seconds = []
    for folder in folders:
        with (folder / "history.csv").open(newline="") as f:
            seconds += [float(row["seconds"]) for row in csv.DictReader(f)]
    return seconds


def epoch_seconds(scratch: Path, name: str) -> float | None:
    """Mean seconds per epoch of a training job, over the epochs of all its runs."""
    seconds = history_seconds(run_folders(scratch, name))
    return sum(seconds) / len(seconds) if seconds else None


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def recomputed(scratch: Path, job: JobUsage) -> JobUsage:
    """The job with the mem_mb and runtime config.yaml's coefficients give it now."""
    coefficients = yaml.safe_load((ROOT / "config.yaml").read_text())["resources"]
    config = yaml.safe_load((scratch / "bench_config.yaml").read_text())
    dataset_mb = (scratch / "results/data/dataset.h5").stat().st_size / 2**20
    folders = run_folders(scratch, job.name)
    if folders:  # the runs of a job share every setting but the seed
        run = json.loads((folders[0] / "run.json").read_text())
        hyper = run["hyperparameters"]
        mem_mb = sizing.train_mem_mb(dataset_mb, run["model"], hyper, coefficients)
        songs = run["train_songs"] + run["valid_songs"]
        epoch = sizing.epoch_seconds(run["flops_per_song"], songs,
                                     run["valid_songs"] / songs,
                                     hyper["threads"],
                                     coefficients)
        runtime = sizing.train_runtime_minutes(epoch, hyper["epochs"], coefficients,
                                               len(folders))
        return dataclasses.replace(job, mem_mb=mem_mb, runtime=runtime)
    if job.rule in sizing.DATA_JOB_MEMORY:
        size = (sizing.built_data_mb(job.rule, config["data"])
                if job.rule in sizing.BUILDS_DATA else dataset_mb)
        return dataclasses.replace(
            job, mem_mb=sizing.data_job_mem_mb(job.rule, size, coefficients["mem_margin"]))
    return job


def report(scratch: Path, epochs: int, recompute: bool = False) -> tuple[list[dict], bool]:
    """Print the per-job and per-rule tables; returns the rows and whether all fit."""
    rows, fits = [], True
    for job in job_usage(scratch / "results"):
        if recompute:
            job = recomputed(scratch, job)
        row = row_of(scratch, job, epochs)
        rows.append(row)
        fits &= not row["over"]
    print("\n| job | rule | peak RSS MB | mem_mb | peak / mem_mb | s | runtime min "
          "| s / runtime | s per epoch | declared s per epoch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['job']} | {r['rule']} | {fmt(r['max_rss'], '.0f')} | {r['mem_mb']} | "
              f"{fmt(r['mem_ratio'], '.0%')} | {r['seconds']:.0f} | {r['runtime']} | "
              f"{fmt(r['time_ratio'], '.0%')} | {fmt(r['epoch_s'], '.1f')} | "
              f"{fmt(r['declared_epoch_s'], '.0f')} |" + (" OVER" if r["over"] else ""))
    print("\nper rule (the job with the highest peak / mem_mb):\n")
    print("| rule | jobs | peak RSS MB | mem_mb | peak / mem_mb | s per epoch "
          "| declared s per epoch |")
    print("|---|---|---|---|---|---|---|")
    by_rule: dict[str, list[dict]] = {}
    for r in rows:
        by_rule.setdefault(r["rule"], []).append(r)
    for rule, jobs in by_rule.items():
        worst = max(jobs, key=lambda r: r["mem_ratio"] or 0)
        print(f"| {rule} | {len(jobs)} | {fmt(worst['max_rss'], '.0f')} | {worst['mem_mb']} "
              f"| {fmt(worst['mem_ratio'], '.0%')} | {fmt(worst['epoch_s'], '.1f')} "
              f"| {fmt(worst['declared_epoch_s'], '.0f')} |")
    over = [r["job"] for r in rows if r["over"]]
    print(f"\n{len(rows)} jobs; " + (f"over what they declared: {', '.join(over)}"
                                      if over else "every job within what it declared"))
    return rows, fits


def row_of(scratch: Path, job: JobUsage, epochs: int) -> dict:
    epoch_s = epoch_seconds(scratch, job.name)
    declared_epoch_s = None
    if epoch_s is not None and job.runtime is not None:  # every seed's epochs
        declared_epoch_s = job.runtime * 60 / (epochs * len(run_folders(scratch, job.name)))
    time_ratio = None if job.runtime is None else job.seconds / (job.runtime * 60)
    over = bool((job.mem_ratio or 0) > 1 or (time_ratio or 0) > 1)
    return {"job": job.name, "rule": job.rule, "max_rss": job.max_rss, "mem_mb": job.mem_mb,
            "mem_ratio": job.mem_ratio, "seconds": job.seconds, "runtime": job.runtime,
            "time_ratio": time_ratio, "epoch_s": epoch_s,
            "declared_epoch_s": declared_epoch_s, "over": over}


def training_jobs(scratch: Path) -> list[dict]:
    """The training jobs of a finished run, with what sizes them (from run.json)."""
    rows = []
    dataset_mb = (scratch / "results/data/dataset.h5").stat().st_size / 2**20
    for job in job_usage(scratch / "results"):
        folders = run_folders(scratch, job.name)
        if not folders or job.max_rss is None:
            continue
        run = json.loads((folders[0] / "run.json").read_text())
        epoch_times = history_seconds(folders)  # every seed's epochs, one process
        epochs = len(epoch_times)
        hyper, flops = run["hyperparameters"], run["flops_per_song"]
        rows.append({
            "job": f"{scratch.name}/{job.name}", "max_rss": job.max_rss, "seconds": job.seconds,
            "dataset_mb": dataset_mb,
            "state_size": hyper["state_size"] if run["model"] == "rnn" else 0,
            "steps": hyper["steps"] if run["model"] == "rnn" else 0,
            "epochs": epochs, "epoch_s": sum(epoch_times) / epochs,
            "songs": run["train_songs"] + run["valid_songs"],
            "flops": run["train_songs"] * flops["train"] + run["valid_songs"] * flops["forward"],
            "threads": run["hyperparameters"]["threads"],
        })
    return rows


def fit(scratches: list[Path]) -> None:
    """Print the resources: coefficients that fit the training jobs of these runs."""
    import numpy as np
    from scipy.optimize import nnls

    rows = [row for scratch in scratches for row in training_jobs(scratch)]
    if not rows:
        sys.exit("no finished training jobs in " + ", ".join(map(str, scratches)))
    memory = np.array([[1, r["dataset_mb"], r["state_size"], r["steps"]] for r in rows])
    peaks = np.array([r["max_rss"] for r in rows])
    (base, per_data, per_state, per_step), _ = nnls(memory, peaks)
    threads = sorted({r["threads"] for r in rows})
    time_rows = [[r["songs"], *[r["flops"] / 1e9 if r["threads"] == t else 0.0
                                for t in threads]] for r in rows]
    coef, _ = nnls(np.array(time_rows), np.array([r["epoch_s"] for r in rows]))
    per_song, inverse_rates = coef[0], coef[1:]
    epoch_fit = np.array(time_rows) @ coef
    startup = max(r["seconds"] - r["epochs"] * e for r, e in zip(rows, epoch_fit, strict=True))
    print(f"{len(rows)} training jobs from {len(scratches)} runs")
    fitted = memory @ [base, per_data, per_state, per_step]
    envelope = base + max(peaks - fitted)
    print(f"train_mem_base_mb: {base:.0f} (least squares); {envelope:.0f} (every job's peak "
          f"at or below the formula)\ntrain_mem_per_data_mb: {per_data:.3f}\n"
          f"train_mem_per_state_mb: {per_state:.3f}\ntrain_mem_per_step_mb: {per_step:.3f}")
    rates = ", ".join(f"{1 / x:.1f}" if x > 0 else "inf" for x in inverse_rates)
    print(f"train_gflops: [{rates}]   # threads {threads}")
    print(f"train_seconds_per_song: {per_song:.2e}\ntrain_startup_s: {startup:.1f} "
          "(the most any job spent outside its fitted epochs)")
    print("\n| job | peak RSS MB | fitted | s per epoch | fitted |\n|---|---|---|---|---|")
    for r, m, t in zip(rows, fitted, epoch_fit, strict=True):
        print(f"| {r['job']} | {r['max_rss']:.0f} | {m:.0f} | {r['epoch_s']:.1f} | {t:.1f} |")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.fit:
        fit(args.fit)
        return 0
    scratch = args.report if args.report else run(args)
    rows, fits = report(scratch, args.epochs, args.recompute)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if fits else 1


if __name__ == "__main__":
    sys.exit(main())

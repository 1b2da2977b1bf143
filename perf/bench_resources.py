"""Does every job fit what it declares? Run a config's study at its data scale, cut short.

    python perf/bench_resources.py --config configs/paper.yaml --synthetic 6150 \\
        --scratch /tmp/msdrnn-bench-paper                  # the paper's size, ~10 min, ~3 GB
    python perf/bench_resources.py --config config.yaml  # the default study, ~2 min
    python perf/bench_resources.py --report /tmp/msdrnn-bench-paper   # a finished run again

Copies the workflow into ``--scratch`` (default: a new folder under /tmp) and runs
Snakemake there on ``--config`` with every training run cut to ``--epochs`` epochs
(default 1) and the search to ``--trials`` trials (default 2), at the config's data scale:
``--synthetic N`` switches the data to the embedded synthetic generator with N tracks per
genre (6150 gives the paper's 5,000 train + valid and 1,000 test songs per genre with
the generator's share of unusable tracks; ``--per-genre`` / ``--per-genre-test`` override
the config's). The resource formulas are not touched: each job gets what the config's
``resources:`` section makes of it at that scale.

Then it prints one row per job: the peak RSS its benchmark file measured (``max_rss``)
against the ``mem_mb`` Snakemake passed it (the ``resources:`` line ``JOB_HEADER`` writes
at the top of every job's log), and for training jobs the seconds per epoch (history.csv)
against the declared ``runtime`` per epoch; then the same per rule (the job with the
highest ratio). Exit status 1 when a job's peak exceeds its ``mem_mb`` or its time its
``runtime``. Memory is what a job uses whatever else runs; times grow when the machine
is shared, so compare them only on an idle one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow_scripts"))

from msdrnn.resources import JobUsage, job_usage  # noqa: E402

WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "workflow_scripts", "configs",
                  "schemas", "report", "envs", "profiles")
EPOCH_SECTIONS = ("baseline", "grid", "bayes", "best", "mlp")


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
    parser.add_argument("--report", type=Path, metavar="SCRATCH",
                        help="only print the tables of a finished run in this folder")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    return parser.parse_args(argv)


def bench_config(args: argparse.Namespace) -> dict:
    """The config to run: ``--config`` cut to ``--epochs`` and ``--trials``, at the data
    scale asked for."""
    config = yaml.safe_load(args.config.read_text())
    for section in EPOCH_SECTIONS:
        config.setdefault(section, {})["epochs"] = args.epochs
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


def run(args: argparse.Namespace) -> Path:
    """Copy the workflow into the scratch folder and run the cut-short study there."""
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="msdrnn-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src, dest = ROOT / name, scratch / name
        if src.is_dir():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest)
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


def epoch_seconds(scratch: Path, name: str) -> float | None:
    """Mean seconds per epoch of a training job, from its run folder's history.csv."""
    folders = {
        "baseline/train": "baseline",
        "best/train_seed_": "best/seed_",
        "mlp/train_seed_": "mlp/seed_",
        "controls/shuffled_rnn_seed_": "controls/shuffled_rnn/seed_",
        "bayes/trial_": "bayes/trial_",
        "grid/steps_": "grid/steps_",
    }
    for prefix, folder in folders.items():
        if name.startswith(prefix):
            rest = name[len(prefix):]
            if prefix == "grid/steps_":
                steps, seed = rest.split("_seed_")
                rest = f"{steps}/seed_{seed}"
            history = scratch / "results" / f"{folder}{rest}" / "history.csv"
            if not history.exists():
                return None
            with history.open(newline="") as f:
                seconds = [float(row["seconds"]) for row in csv.DictReader(f)]
            return sum(seconds) / len(seconds) if seconds else None
    return None


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(scratch: Path, epochs: int) -> tuple[list[dict], bool]:
    """Print the per-job and per-rule tables; returns the rows and whether all fit."""
    rows, fits = [], True
    for job in job_usage(scratch / "results"):
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
    if epoch_s is not None and job.runtime is not None:
        declared_epoch_s = job.runtime * 60 / epochs
    time_ratio = None if job.runtime is None else job.seconds / (job.runtime * 60)
    over = bool((job.mem_ratio or 0) > 1 or (time_ratio or 0) > 1)
    return {"job": job.name, "rule": job.rule, "max_rss": job.max_rss, "mem_mb": job.mem_mb,
            "mem_ratio": job.mem_ratio, "seconds": job.seconds, "runtime": job.runtime,
            "time_ratio": time_ratio, "epoch_s": epoch_s,
            "declared_epoch_s": declared_epoch_s, "over": over}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    scratch = args.report if args.report else run(args)
    rows, fits = report(scratch, args.epochs)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if fits else 1


if __name__ == "__main__":
    sys.exit(main())

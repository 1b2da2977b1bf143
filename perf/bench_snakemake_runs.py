"""Seconds per Snakemake run of a finished study: the no-op, and what the tests pay per run.

    python perf/bench_snakemake_runs.py --study /tmp/fresh      # a study run to its end
    python perf/bench_snakemake_runs.py --study /tmp/fresh --rounds 12 --args -n -p

Three kinds of run, one of each per round, in turn, so that a change of the machine's speed
hits them alike:

- version: ``snakemake --version``, a fresh process: Snakemake's bare start, the probe the
  recorded runs give beside every timing (docs/performance.md);
- fresh: ``snakemake ARGS`` (default ``-n``), a fresh process, as a user runs it: on a
  finished study, the no-op dry run;
- forked: the same command line through the tests' runner (``tests/snakemake_forks.py``
  via ``helpers.SnakemakeForks``), a child forked from a process that imported Snakemake
  once: what each of the tests' Snakemake runs costs.

Prints the median and range of each over the rounds, the CPU model and the load average
before and after. With ``-n`` among ``--args`` (the default), the study's results are only
read: a dry run writes under ``.snakemake/`` only (Snakemake's lock and log, and the code
inputs' parsed imports when a project file changed); without it the runs are real runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "workflow_scripts"))

from helpers import SNAKEMAKE, SnakemakeForks  # noqa: E402

from msdrnn.provenance import cpu_model  # noqa: E402


def timed(run: Callable[[], subprocess.CompletedProcess]) -> float:
    """Seconds of ``run``; a failed run stops the benchmark, naming its command."""
    start = time.perf_counter()
    result = run()
    if result.returncode != 0:
        command = " ".join(map(str, result.args[len(SNAKEMAKE) - 1:]))
        end = "\n".join((result.stdout + result.stderr).splitlines()[-10:])
        raise SystemExit(f"error: `{command}` failed (exit {result.returncode}); the end of "
                         f"its output:\n{end}")
    return time.perf_counter() - start


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", type=Path, default=Path("."),
                        help="folder of a finished study (default: the current one)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--args", nargs=argparse.REMAINDER, default=["-n"],
                        help="Snakemake's arguments for the fresh and forked runs "
                             "(default: -n); last on the command line")
    options = parser.parse_args(argv)
    study = options.study.resolve()
    if not (study / "Snakefile").is_file():
        parser.error(f"--study {study}: no Snakefile there")
    command = [*SNAKEMAKE, *options.args]
    fresh = {"cwd": study, "capture_output": True, "text": True}
    runs = {
        "version": lambda: subprocess.run([*SNAKEMAKE, "--version"], **fresh),
        "fresh": lambda: subprocess.run(command, **fresh),
        "forked": lambda: SnakemakeForks.get().run(command, study, None, 600),
    }
    timed(runs["forked"])  # start the forks' process (its one import) outside the rounds
    print(f"{cpu_model()}, {os.cpu_count()} threads; load average {load()} before",
          flush=True)
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(options.rounds):
        for name, run in runs.items():
            seconds[name].append(timed(run))
    print(f"{options.rounds} rounds of `snakemake {' '.join(options.args)}` in {study}:")
    print("| run | median s | range s |\n|---|---|---|")
    for name, values in seconds.items():
        print(f"| {name} | {statistics.median(values):.2f} | "
              f"{min(values):.2f}-{max(values):.2f} |")
    print(f"load average {load()} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time prepare_dataset on a paper-scale synthetic MSD tree (60,000 track files).

The tree is generated once into ``--cache-dir`` and reused. Each run calls
``workflow_scripts/prepare_dataset.py`` as the workflow does and reports track files read
per second (end to end, including start-up and writing dataset.h5) and peak memory: the
largest single process (getrusage of the children) and the summed resident memory of the
process tree (sampled with psutil when it is installed), with the load average before and
after (the machine may be shared: the rate falls with the load). Not a test.

Example: python perf/bench_prepare.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow_scripts"
GENRES = "Rap,Rock,RnB,Electronic,Metal,Blues,Pop,Jazz,Country,Reggae"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/msdrnn-bench"))
    parser.add_argument("--tracks-per-genre", type=int, default=6000)
    parser.add_argument("--per-genre", type=int, default=5000)
    parser.add_argument("--per-genre-test", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tree = args.cache_dir / f"tree_{args.tracks_per_genre}"
    if not (tree / "COMPLETE").is_file():
        start = time.monotonic()
        subprocess.run([sys.executable, SCRIPTS / "generate_synthetic.py", "--out-dir", tree,
                        "--genres", GENRES, "--tracks-per-genre", str(args.tracks_per_genre),
                        "--seed", "0", "--workers", str(args.workers)], check=True)
        print(f"generated {tree} in {time.monotonic() - start:.0f} s")
    out = args.cache_dir / "out" / "dataset.h5"
    command = [sys.executable, SCRIPTS / "prepare_dataset.py", "--source", "synthetic",
               "--msd-root", tree, "--labels", tree / "msd_tagtraum_cd2c.cls",
               "--genres", GENRES, "--per-genre", str(args.per_genre),
               "--per-genre-test", str(args.per_genre_test), "--workers", str(args.workers),
               "--out", out]
    rates, trees, cpu_costs = [], [], []
    load_before = os.getloadavg()[0]
    for run in range(1, args.runs + 1):
        start, cpu_start = time.monotonic(), _children_cpu()
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        peak = _sample_tree_rss(process)
        if process.wait():
            sys.exit(f"prepare_dataset.py failed (exit {process.returncode})")
        seconds, cpu = time.monotonic() - start, _children_cpu() - cpu_start
        with h5py.File(out, "r") as f:
            files = json.loads(f.attrs["selection"])["files_read"]
        rates.append(files / seconds)
        trees.append(peak)
        cpu_costs.append(cpu / files)
        print(f"run {run}: {files} files in {seconds:.1f} s = {files / seconds:.0f} files/s, "
              f"{cpu / files * 1e3:.2f} ms CPU per file, process tree peak "
              f"{peak / 2**30:.2f} GiB")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"median {statistics.median(rates):.0f} files/s with {args.workers} workers "
          f"({statistics.median(cpu_costs) * 1e3:.2f} ms CPU per file, all processes; "
          f"CPU-bound limit {args.workers / statistics.median(cpu_costs):.0f} files/s on "
          f"{args.workers} idle cores); "
          f"peak memory: largest process {largest / 2**30:.2f} GiB, "
          f"process tree {max(trees) / 2**30:.2f} GiB; load average (1 min) "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _sample_tree_rss(process: subprocess.Popen) -> int:
    """Peak summed RSS of ``process`` and its children (0 without psutil)."""
    try:
        import psutil
    except ImportError:
        return 0
    peak = 0

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                procs = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sample)
    thread.start()
    process.wait()
    thread.join()
    return peak


if __name__ == "__main__":
    main()

"""Project the wall time of the paper study on this machine, and compare it with its limit.

    python perf/project_paper.py                       # ~10 minutes on 2 cores
    python perf/project_paper.py --quick               # ~3 minutes, coarser
    python perf/project_paper.py --cores 2 --bayes-batch-size 2 --search-threads 1
    python perf/project_paper.py --measurements earlier.json --cores 4   # no new measuring

Measures, in one worker process per thread count (1 and 2), the trainer's seconds per
training song and per validation song at a spread of state sizes (15..500, readout) and
steps (2, 6, 60), the state-10 no-readout model of the baseline and grid, and the MLP,
on ``--songs`` random songs (fewer than the paper's 40,000 train + 10,000 valid: the
epoch time is scaled linearly in songs, which holds because every batch costs the same).
Seconds per song at other state sizes are interpolated linearly in the model's FLOPs,
at other steps linearly in the number of parts.

It then lists every training job of ``--config`` (default ``configs/paper.yaml``): the
baseline, the grid (one job per steps value, its seeds one after the other), the search
trials in sequential rounds of ``bayes.batch_size`` (state size and steps unknown in
advance: the mean over state sizes 15..500 and all steps counts), and after the search
the best-parameter runs (state 341, steps 4, the study's reported best; ``--best-seeds``
runs in one job, default three), one shuffled-order RNN control, and the MLP runs
(``--mlp-seeds`` in one job, default three; they do not wait for the search). A search
trial computes with ``bayes.threads`` threads, every other job with ``train.threads`` (or
the options). It schedules them on ``--cores`` as Snakemake does: a job takes
``min(threads, cores)`` cores, independent jobs run side by side while cores are free,
the search's rounds one after the other (it is the critical path and goes first). Jobs
side by side are assumed to run at their lone speed. Data preparation, proposals,
evaluation and plots are left out (seconds to minutes).

The physical limit is the study's total matrix FLOPs (``flops_per_song``, training and
validation of every epoch of every job) over the ceiling of this machine's cores: a
2048 x 2048 float32 matrix product with ``--cores`` threads, measured in the same run (the
machine is shared and its speed moves between runs). Printed: the projected wall time,
the limit and their ratio, for the search batch size and thread counts asked for (the
config's, or the options'), marked "(asked)", and for the alternatives.
"""

from __future__ import annotations

import argparse
import functools
import heapq
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow_scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TRAIN_SONGS, VALID_SONGS = 40000, 10000  # the paper config: 50,000 songs, 80/20
BEST = {"state_size": 341, "steps": 4}  # the study's reported best parameters
# The feedforward network the projection times (its search chooses the study's): two
# hidden layers of 512 and 256 units, the size the earlier fixed architecture had
MLP_HIDDEN = (512, 256)
STATE_SIZES = (15, 100, 250, 500)
STATE_SIZES_QUICK = (15, 500)
MEASURED_STEPS = (2, 6, 60)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "paper.yaml")
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)),
                        help="cores Snakemake may use (default: this machine's)")
    parser.add_argument("--bayes-batch-size", type=int,
                        help="search trials per round (default: the config's bayes.batch_size)")
    parser.add_argument("--threads", type=int,
                        help="threads of the training jobs other than search trials "
                             "(default: the config's train.threads)")
    parser.add_argument("--search-threads", type=int,
                        help="threads of a search trial (default: the config's bayes.threads)")
    parser.add_argument("--best-seeds", type=int, default=3, help="best-parameter runs")
    parser.add_argument("--mlp-seeds", type=int, default=3, help="MLP runs")
    parser.add_argument("--songs", type=int, default=1000,
                        help="training songs per measurement (a quarter as many validated)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer state sizes and songs: a few minutes, coarser")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--measurements", type=Path,
                        help="project from the measurements of an earlier --json instead of "
                             "measuring again (same machine, other settings)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # threads of a worker
    parser.add_argument("--grouped", action="store_true", help=argparse.SUPPRESS)  # of a worker
    return parser.parse_args(argv)


def read_config(path: Path) -> dict:
    """The parts of the workflow config the projection needs, checked."""
    import yaml

    try:
        config = yaml.safe_load(path.read_text())
        needed = {"train": ("batch_size", "threads"), "baseline": ("state_size", "epochs"),
                  "grid": ("steps", "seeds", "epochs"),
                  "bayes": ("n_calls", "batch_size", "epochs")}
        for section, keys in needed.items():
            for key in keys:
                config[section][key]  # noqa: B018 (presence check)
        for model in ("rnn", "mlp"):
            config["models"][model]["epochs"]  # noqa: B018 (presence check)
        space = config["models"]["rnn"]["space"]
        space["state_size"]["int"], space["steps"]["categories"]  # noqa: B018
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise SystemExit(f"error: {path}: cannot read the config ({err!r}); expected the "
                         "sections train, baseline, grid, bayes and models.rnn (with its "
                         "space), models.mlp") from None
    if config["train"]["batch_size"] != 50:
        raise SystemExit(f"error: {path}: train.batch_size is {config['train']['batch_size']}; "
                         "the measurements use 50")
    return config


# ---------------------------------------------------------------------------------------
# measurements (worker processes: the thread count is fixed when TensorFlow starts)

def matmul_rate(tf, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a ``size``-square float32 matrix product, best of ``repeats``."""
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])
    product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    product(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        tick = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - tick)
    return 2 * size**3 / best


def seconds_per_song(model, songs: int, groups: int = 1) -> dict:
    """Training and validation seconds per song of ``model``, after a compiling warm-up."""
    import numpy as np

    from msdrnn.updates import Trainer

    rng = np.random.default_rng(0)
    x = rng.standard_normal((songs, 120, 25), dtype=np.float32)
    y = rng.integers(0, 10, songs)
    valid = songs // 4
    trainer = Trainer(model, groups=groups)
    trainer.train_epoch(x[:100], y[:100], np.arange(100))  # compiles
    trainer.evaluate(x[:valid], y[:valid])
    tick = time.perf_counter()
    trainer.train_epoch(x, y, rng.permutation(songs))
    train = (time.perf_counter() - tick) / (songs // 50 * 50)
    tick = time.perf_counter()
    trainer.evaluate(x[:valid], y[:valid])
    return {"train": train, "valid": (time.perf_counter() - tick) / valid}


def groups_of(point: dict, threads: int) -> int:
    """Groups of songs per batch ``train.py`` trains ``point`` in with ``threads`` threads."""
    from msdrnn.training import groups_for

    return groups_for(point["model"], point, threads)


def worker(threads: int, grouped: bool, points: list[dict], songs: int) -> None:
    """Measure every point with ``threads`` threads as ``train.py`` gives them (``grouped``:
    one group of songs per thread, else every product split over the threads, and then also
    the 2048² ceiling); print one JSON line per result."""
    import keras
    import tensorflow as tf

    from msdrnn.models.mlp import MLP
    from msdrnn.models.rnn import BasicRNN
    from msdrnn.updates import set_threads

    keras.utils.set_random_seed(0)
    set_threads(threads, threads if grouped else 1)
    tf.config.experimental.enable_op_determinism()
    if not grouped:
        print(json.dumps({"matmul": matmul_rate(tf)}), flush=True)
    for point in points:
        if point["model"] == "mlp":
            model = MLP(mlp_hparams(point["hidden"]), seed=0)
        else:
            model = BasicRNN(point["state_size"], point["steps"], point["readout"], seed=0)
        timing = seconds_per_song(model, songs, threads if grouped else 1)
        print(json.dumps({**point, **timing}), flush=True)
    if not grouped:
        print(json.dumps({"matmul": matmul_rate(tf)}), flush=True)


def measure(config: dict, args: argparse.Namespace) -> dict:
    """Per-song seconds at every point for 1 and 2 threads, and the matmul ceilings."""
    sizes = STATE_SIZES_QUICK if args.quick else STATE_SIZES
    songs = min(args.songs, 400) if args.quick else args.songs
    points = [{"model": "rnn", "state_size": s, "steps": k, "readout": True}
              for s in sizes for k in MEASURED_STEPS]
    points += [{"model": "rnn", "state_size": config["baseline"]["state_size"], "steps": k,
                "readout": False} for k in MEASURED_STEPS]
    points += [{"model": "rnn", **BEST, "readout": True},
               {"model": "mlp", "hidden": list(MLP_HIDDEN)}]
    results: dict = {}
    for threads in sorted({1, min(2, args.cores)}):
        lines = []
        for grouped in (False, True) if threads > 1 else (False,):
            asked = [point for point in points if (groups_of(point, threads) > 1) == grouped]
            command = [sys.executable, __file__, "--worker", str(threads), "--songs", str(songs),
                       *(["--grouped"] if grouped else [])]
            process = subprocess.run(command, input=json.dumps(asked), capture_output=True,
                                     text=True, check=False)
            if process.returncode != 0:
                raise RuntimeError(f"the {threads}-thread worker failed:\n"
                                   f"{process.stderr[-3000:]}")
            lines += [json.loads(line) for line in process.stdout.splitlines() if line.strip()]
        results[threads] = {"matmul": max(line["matmul"] for line in lines if "matmul" in line),
                            "points": [line for line in lines if "matmul" not in line]}
        print(f"measured {len(points)} points with {threads} thread(s), {songs} songs each",
              flush=True)
    return results


# ---------------------------------------------------------------------------------------
# the cost model

def flops(model: dict) -> dict:
    """Training and forward FLOPs per song of a model description."""
    key = (model["model"], tuple(model.get("hidden", ())), model.get("state_size"),
           model.get("steps"), model.get("readout"))
    return dict(_flops(key))


@functools.cache
def _flops(key: tuple) -> tuple:
    """``flops_per_song`` of the model ``key`` describes (building one is slow: cached)."""
    from msdrnn.resources import flops_per_song

    kind, hidden, state_size, steps, readout = key
    if kind == "mlp":
        return tuple(flops_per_song("mlp", mlp_hparams(hidden)).items())
    hparams = {"state_size": state_size, "steps": steps, "readout": readout}
    return tuple(flops_per_song("rnn", hparams).items())


def mlp_hparams(hidden) -> dict:
    """The feedforward network of hidden layers ``hidden`` as its family's hyperparameters
    (layers of one width: the widest)."""
    return {"width": max(hidden), "depth": len(hidden), "dropout": 0.0}


def per_song(points: list[dict], model: dict) -> dict:
    """Seconds per training and validation song of ``model``, interpolated from ``points``.

    Between measured state sizes linearly in FLOPs, between measured steps linearly in the
    number of parts (per-part work: the readout, the Adam update, the call overhead).
    """
    import numpy as np

    if model["model"] == "mlp":
        point = next(p for p in points if p["model"] == "mlp")
        return {"train": point["train"], "valid": point["valid"]}
    same = [p for p in points if p["model"] == "rnn" and p["readout"] == model["readout"]
            and p["state_size"] == model["state_size"] and p["steps"] == model["steps"]]
    if same:
        return {"train": same[0]["train"], "valid": same[0]["valid"]}
    result = {}
    for kind, flop_kind in (("train", "train"), ("valid", "forward")):
        by_parts = []
        for steps in MEASURED_STEPS:
            row = sorted((p for p in points if p["model"] == "rnn" and p["steps"] == steps
                          and p["readout"] == model["readout"]),
                         key=lambda p: p["state_size"])
            xs = [flops(p)[flop_kind] for p in row]
            ys = [p[kind] for p in row]
            target = flops({**model, "steps": steps})[flop_kind]
            if len(row) == 1:
                by_parts.append(ys[0] * target / xs[0])
            elif target > xs[-1]:  # beyond the largest measured size: extrapolate the last slope
                by_parts.append(ys[-1] + (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]) * (target - xs[-1]))
            else:
                by_parts.append(float(np.interp(target, xs, ys)))
        parts = [120 // steps for steps in MEASURED_STEPS]
        order = np.argsort(parts)
        result[kind] = float(np.interp(120 // model["steps"], np.array(parts)[order],
                                       np.array(by_parts)[order]))
    return result


@dataclass
class Job:
    """One training job: its name, per-epoch model, epochs of each of its runs (a job
    trains its configuration's seeds one after the other), what it waits for."""

    name: str
    models: list[dict]  # a spread of models whose mean cost this job has (search trials)
    epochs: int
    after: tuple[str, ...] = ()
    threads: int = 1
    runs: int = 1


def jobs(config: dict, batch_size: int, best_seeds: int, mlp_seeds: int,
         search_threads: int = 1, threads: int = 1) -> list[Job]:
    """Every training job of the config, in the order Snakemake would prefer them."""
    import numpy as np

    bayes, baseline, grid = config["bayes"], config["baseline"], config["grid"]
    space = config["models"]["rnn"]["space"]
    spread = [{"model": "rnn", "state_size": int(s), "steps": k, "readout": True}
              for s in np.linspace(*space["state_size"]["int"], 8)
              for k in space["steps"]["categories"]]
    # the random starts need nothing; then rounds of batch_size, each after all earlier trials
    n_initial = min(bayes.get("n_initial", 1), bayes["n_calls"])
    listed = [Job(f"trial_{t:03d}", spread, bayes["epochs"], threads=search_threads)
              for t in range(n_initial)]
    for first in range(n_initial, bayes["n_calls"], batch_size):  # the critical path first
        after = tuple(job.name for job in listed)
        listed += [Job(f"trial_{t:03d}", spread, bayes["epochs"], after, search_threads)
                   for t in range(first, min(first + batch_size, bayes["n_calls"]))]
    search = tuple(job.name for job in listed)
    best = {"model": "rnn", **BEST, "readout": True}
    best_epochs = config["models"]["rnn"]["epochs"]
    listed.append(Job("best_seeds", [best], best_epochs, search, runs=best_seeds))
    listed.append(Job("best_shuffled_control", [best], best_epochs, search))
    state10 = {"model": "rnn", "state_size": baseline["state_size"], "readout": False}
    listed.append(Job("baseline", [{**state10, "steps": baseline["steps"]}], baseline["epochs"]))
    listed += [Job(f"grid_{k}", [{**state10, "steps": k}], grid["epochs"],
                   runs=len(grid["seeds"])) for k in grid["steps"]]
    mlp = {"model": "mlp", "hidden": list(MLP_HIDDEN)}
    listed.append(Job("mlp_seeds", [mlp], config["models"]["mlp"]["epochs"], runs=mlp_seeds))
    for job in listed:
        if not job.name.startswith("trial_"):
            job.threads = threads
    return listed


def epoch_seconds(points: list[dict], job: Job) -> float:
    """Mean seconds of one paper-scale epoch (train + validation) of the job's models."""
    times = [per_song(points, m) for m in job.models]
    return statistics.fmean(TRAIN_SONGS // 50 * 50 * t["train"] + VALID_SONGS * t["valid"]
                            for t in times)


def epoch_flops(job: Job) -> float:
    """Mean matrix FLOPs of one paper-scale epoch of the job's models."""
    return statistics.fmean(TRAIN_SONGS // 50 * 50 * flops(m)["train"]
                            + VALID_SONGS * flops(m)["forward"] for m in job.models)


def schedule(listed: list[Job], seconds: dict[str, float], cores: int) -> float:
    """Makespan of greedy list scheduling: ready jobs start in order while cores are free;
    a job takes ``min(job.threads, cores)`` cores."""
    job_cores = {job.name: max(1, min(job.threads, cores)) for job in listed}
    finished: dict[str, float] = {}
    running: list[tuple[float, str]] = []
    waiting = list(listed)
    now, free = 0.0, cores
    while waiting or running:
        for job in list(waiting):
            if free >= job_cores[job.name] and all(name in finished for name in job.after):
                heapq.heappush(running, (now + seconds[job.name], job.name))
                waiting.remove(job)
                free -= job_cores[job.name]
        now, name = heapq.heappop(running)
        finished[name] = now
        free += job_cores[name]
    return now


def project(config: dict, measured: dict, args: argparse.Namespace) -> list[dict]:
    """Projected wall time, physical limit and ratio for the configured and other settings:
    (search batch size, threads of a search trial, threads of every other job)."""
    ceiling = measured[max(measured)]["matmul"]

    def cores_of(threads: int) -> int:
        return max(1, min(threads, args.cores, max(measured)))

    configured = (args.bayes_batch_size or config["bayes"]["batch_size"],
                  cores_of(args.search_threads or config["bayes"].get("threads", 2)),
                  cores_of(args.threads or config["train"]["threads"]))
    scenarios = [configured] + [
        scenario for scenario in ((1, 2, 1), (1, 2, 2), (1, 1, 1), (2, 1, 1), (2, 2, 1))
        if (scenario[0], cores_of(scenario[1]), cores_of(scenario[2])) != configured]
    rows = []
    for batch_size, search_threads, threads in scenarios:
        listed = jobs(config, batch_size, args.best_seeds, args.mlp_seeds,
                      cores_of(search_threads), cores_of(threads))
        seconds = {job.name: job.runs * job.epochs
                   * epoch_seconds(measured[job.threads]["points"], job) for job in listed}
        total_flops = sum(job.runs * job.epochs * epoch_flops(job) for job in listed)
        wall = schedule(listed, seconds, args.cores)
        limit = total_flops / ceiling
        search = sum(s for name, s in seconds.items() if name.startswith("trial_"))
        rows.append({"bayes_batch_size": batch_size,
                     "search_threads": cores_of(search_threads),
                     "threads_per_job": cores_of(threads),
                     "configured": (batch_size, cores_of(search_threads),
                                    cores_of(threads)) == configured,
                     "jobs": len(listed), "wall_hours": wall / 3600,
                     "search_job_hours": search / 3600,
                     "limit_hours": limit / 3600, "ratio": wall / limit,
                     "total_tflop": total_flops / 1e12})
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.grouped, json.loads(sys.stdin.read()), args.songs)
        return 0
    config = read_config(args.config)
    if args.cores < 1 or (args.bayes_batch_size is not None and args.bayes_batch_size < 1):
        print("error: --cores and --bayes-batch-size must be at least 1", file=sys.stderr)
        return 2
    from msdrnn.provenance import cpu_model

    tick = time.perf_counter()
    load_before = os.getloadavg()
    if args.measurements:
        try:
            earlier = json.loads(args.measurements.read_text())
            measured = {int(t): m for t, m in earlier["measured"].items()}
            load_before = tuple(earlier["load_average_before"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(f"error: {args.measurements}: not the --json of an earlier run ({err!r})",
                  file=sys.stderr)
            return 2
    else:
        measured = measure(config, args)
    rows = project(config, measured, args)
    points = {t: measured[t]["points"] for t in measured}
    best = {"model": "rnn", **BEST, "readout": True}
    source = (f"projected from {args.measurements}" if args.measurements else
              f"measured in {time.perf_counter() - tick:.0f} s")
    print(f"\n{args.config.name} on {cpu_model()}, --cores {args.cores}; {source}, load "
          f"average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    for threads in sorted(measured):
        epochs = {s: epoch_seconds(points[threads], Job("", [{**best, "state_size": s}], 1))
                  for s in (15, 100, 341, 500)}
        print(f"  {threads} thread(s): 2048^2 matmul {measured[threads]['matmul'] / 1e9:.1f} "
              "GFLOP/s; paper-scale epoch (40k train + 10k valid), steps 4: "
              + ", ".join(f"state {s} {t:.0f} s" for s, t in epochs.items()))
    print("\n| search batch | threads of a trial | threads of other jobs | jobs "
          "| projected wall time | search (job-hours) | physical limit | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        mark = " (asked)" if row["configured"] else ""
        print(f"| {row['bayes_batch_size']}{mark} | {row['search_threads']} "
              f"| {row['threads_per_job']} | {row['jobs']} "
              f"| {row['wall_hours']:.1f} h | {row['search_job_hours']:.1f} h "
              f"| {row['limit_hours']:.1f} h | {row['ratio']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_model(), "cores": args.cores,
                                         "load_average_before": load_before,
                                         "measured": {str(t): m for t, m in measured.items()},
                                         "projection": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

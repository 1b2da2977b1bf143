"""Benchmark the trainer against the obvious Keras version and the matrix-product ceiling.

    python perf/bench_train.py                 # ~15 minutes on 2 cores
    python perf/bench_train.py --songs 2000 --rounds 3 --memory-songs 0

On the same synthetic data (the project's generator; ``--songs`` training songs, a quarter
as many validation songs), worker processes per thread count (``--threads``, default 1
and 2) measure, for each case (``--cases``, default steps 4 / state 341 / readout and
steps 6 / state 10 / no readout):

* our epoch (train + validation, ``msdrnn.updates.Trainer``) as ``train.py`` runs it
  (``TrainConfig.groups``: on several threads, RNNs from state size 100 on train each
  batch in one group of songs per thread, side by side, others split every product over
  the threads); and on
  several threads the other way too ("other grouping"), which is what the choice rests on;
* the same training written the obvious Keras way (``SimpleRNN(stateful=True)``,
  ``train_on_batch`` per part, states reset per batch of songs, validation with
  ``test_on_batch`` per part);
* the rate of the (50 x S) @ (S x S) product the trainer is made of (a chain of 120 of
  them compiled with XLA, and the same in a plain graph; the faster counts).

The machine is shared and its load moves, so the measurements are interleaved: every
round runs ours, Keras and the product at every thread count, one after the other, and
the summary reports medians over ``--rounds`` rounds (after one warm-up round that also
compiles). Our GFLOP/s are given as a percentage of the best product rate of the run (at
whichever thread count was faster). Targets: with 2 threads 341/4 at least 4x Keras and
85% of the product; with 1 thread 341/4 at least 3x and 10/6 at least 12x. Finally the
peak resident memory of ``train.py`` on a paper-scale file (``--memory-songs`` songs of
noise, 80/20 train/valid, one epoch; target: under 2 GiB).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow_scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from msdrnn.study import GENRES  # noqa: E402

CASES = ("4/341", "6/10")  # steps/state size; readout unless the state is the 10 classes
TARGETS = {1: {"4/341": 3.0, "6/10": 12.0}, 2: {"4/341": 4.0}}
PRODUCT_TARGET = {2: 0.85}
BATCH = 50


def parse_case(case: str) -> tuple[int, int, bool]:
    """``"4/341"`` -> steps 4, state size 341, readout (none at the 10 classes' size)."""
    try:
        steps, state_size = (int(value) for value in case.split("/"))
    except ValueError:
        raise SystemExit(f"error: case {case!r}: expected STEPS/STATE, e.g. 4/341") from None
    return steps, state_size, state_size != 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=4000, help="training songs")
    parser.add_argument("--rounds", type=int, default=3,
                        help="timed rounds (after a warm-up round); the summary is their median")
    parser.add_argument("--cases", nargs="+", default=list(CASES), metavar="STEPS/STATE",
                        help="models to measure, e.g. 4/341 (readout unless the state size "
                             "is 10); default %(default)s")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="intra-op thread counts to compare (one worker process each)")
    parser.add_argument("--memory-songs", type=int, default=50000,
                        help="songs of the memory run (0: skip it)")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: temporary)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # data file of a worker
    parser.add_argument("--grouped", action="store_true", help=argparse.SUPPRESS)  # of a worker
    return parser.parse_args(argv)


def synthetic_data(folder: Path, songs: int) -> Path:
    """A dataset.h5 from the project's generator (``songs`` train, ``songs / 4`` valid)."""
    from msdrnn.dataset import DataConfig, prepare_dataset
    from msdrnn.synthetic import LABEL_FILE, generate_tree

    per_genre = (songs + songs // 4) // len(GENRES)
    path = folder / f"synthetic_{per_genre}.h5"
    if not path.exists():
        tree = folder / f"tree_{per_genre}"
        generate_tree(tree, GENRES, per_genre + per_genre // 10 + 20, seed=0,
                      workers=len(os.sched_getaffinity(0)))
        prepare_dataset(DataConfig(source="synthetic", msd_root=str(tree),
                                   labels=str(tree / LABEL_FILE), genres=GENRES,
                                   per_genre=per_genre, per_genre_test=0, seed=0), path)
    return path


def product_rate(tf, state_size: int, chain: int = 120, repeats: int = 20) -> float:
    """FLOP/s of (50 x S) @ (S x S) products, the trainer's building block; best of two ways.

    A chain of ``chain`` dependent products (as the recurrence has), compiled with XLA and
    as a plain graph, each timed ``repeats`` times; the faster median counts.
    """
    a = tf.random.normal([BATCH, state_size])
    w = tf.random.normal([state_size, state_size]) / state_size**0.5

    def chained(a, w):
        for _ in range(chain):
            a = a @ w
        return tf.reduce_sum(a)

    rates = []
    for jit in (True, False):
        run = tf.function(chained, jit_compile=jit)
        run(a, w).numpy()
        times = []
        for _ in range(repeats):
            tick = time.perf_counter()
            run(a, w).numpy()
            times.append(time.perf_counter() - tick)
        rates.append(chain * 2 * BATCH * state_size**2 / statistics.median(times))
    return max(rates)


class Ours:
    """The project's trainer on one case; every call trains and validates one epoch."""

    def __init__(self, steps: int, state_size: int, readout: bool, groups: int = 1):
        from msdrnn.models.rnn import BasicRNN
        from msdrnn.updates import Trainer

        self.model = BasicRNN(state_size, steps, readout, seed=0)
        self.trainer = Trainer(self.model, groups=groups)
        self.epoch = 0

    def epoch_seconds(self, train, valid) -> dict:
        import numpy as np

        self.epoch += 1
        tick = time.perf_counter()
        self.trainer.train_epoch(train.inputs, train.targets,
                                 np.random.default_rng([0, self.epoch]).permutation(train.size))
        accuracy = self.trainer.evaluate(valid.inputs, valid.targets)[1]
        seconds = time.perf_counter() - tick
        flops = (train.size // BATCH * BATCH * self.model.flops_per_song()["train"]
                 + valid.size * self.model.flops_per_song()["forward"])
        return {"seconds": seconds, "flops_per_second": flops / seconds, "valid_acc": accuracy}


class KerasPeer:
    """The same training the obvious Keras way: stateful SimpleRNN, train_on_batch per part."""

    def __init__(self, steps: int, state_size: int, readout: bool):
        import keras

        self.steps, self.parts = steps, 120 // steps
        layers = [keras.Input(batch_shape=(BATCH, steps, 25)),
                  keras.layers.SimpleRNN(state_size, stateful=True)]
        if readout:
            layers.append(keras.layers.Dense(10))
        self.model = keras.Sequential(layers)
        self.rnn = self.model.layers[0]
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-8),
                           loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"])
        self.epoch = 0

    def epoch_seconds(self, train, valid) -> dict:
        import numpy as np

        self.epoch += 1
        steps, model = self.steps, self.model
        order = np.random.default_rng([0, self.epoch]).permutation(train.size)
        tick = time.perf_counter()
        for b in range(train.size // BATCH):
            index = order[b * BATCH:(b + 1) * BATCH]
            x, y = train.inputs[index], train.targets[index]
            self.rnn.reset_states()
            for p in range(self.parts):
                model.train_on_batch(x[:, p * steps:(p + 1) * steps], y)
        hits = 0.0
        for b in range(valid.size // BATCH):
            x = valid.inputs[b * BATCH:(b + 1) * BATCH]
            y = valid.targets[b * BATCH:(b + 1) * BATCH]
            self.rnn.reset_states()
            for p in range(self.parts):
                _, part_accuracy = model.test_on_batch(x[:, p * steps:(p + 1) * steps], y)
            hits += part_accuracy * BATCH  # the final part's
        return {"seconds": time.perf_counter() - tick,
                "valid_acc": hits / (valid.size // BATCH * BATCH)}


def groups_of(case: str, threads: int) -> int:
    """Groups of songs per batch ``train.py`` trains ``case`` in with ``threads`` threads."""
    from msdrnn.training import groups_for

    return groups_for("rnn", parse_case(case)[1], threads)


def worker(data: Path, threads: int, grouped: bool) -> None:
    """Serve measurements on stdin/stdout (one JSON line each) with ``threads`` threads:
    ``grouped``, one group of songs per thread (``set_threads(threads, threads)``, what
    ``train.py`` gives a trainer with groups), else every product split over the threads."""
    import keras
    import tensorflow as tf

    from msdrnn.dataset_io import load_split
    from msdrnn.updates import set_threads

    keras.utils.set_random_seed(0)  # as train.py runs: seeded, deterministic ops
    set_threads(threads, threads if grouped else 1)
    tf.config.experimental.enable_op_determinism()
    train, valid = load_split(data, "train"), load_split(data, "valid")
    runners: dict = {}
    for line in sys.stdin:
        kind, case = line.split()
        if kind == "product":
            result = {"flops_per_second": product_rate(tf, parse_case(case)[1])}
        else:
            if (kind, case) not in runners:
                runners[kind, case] = (KerasPeer(*parse_case(case)) if kind == "keras" else
                                       Ours(*parse_case(case), groups=threads if grouped else 1))
            result = runners[kind, case].epoch_seconds(train, valid)
        print(json.dumps(result), flush=True)


def peak_memory(folder: Path, songs: int, threads: int) -> dict:
    """Peak RSS of one epoch of ``train.py`` (steps 4, state 341, readout) on ``songs`` songs."""
    import numpy as np

    from msdrnn.dataset_writer import Rows, write_dataset

    path = folder / f"noise_{songs}.h5"
    if not path.exists():
        rng = np.random.default_rng(0)
        n_train = songs * 4 // 5
        splits = {name: Rows(rng.standard_normal((n, 120, 25), dtype=np.float32),
                             rng.integers(0, 10, n).astype(np.int64),
                             [f"{name}-{i:06d}" for i in range(n)])
                  for name, n in (("train", n_train), ("valid", songs - n_train))}
        write_dataset(path, splits, list(GENRES), np.zeros((120, 25)), np.ones((120, 25)),
                      standardize=False, attrs={"source": "noise"})
    out = folder / "memory_run"
    shutil.rmtree(out, ignore_errors=True)  # a fresh run, not a resumed one
    command = [sys.executable, str(ROOT / "workflow_scripts" / "train.py"), "--dataset",
               str(path), "--steps", "4", "--state-size", "341", "--readout", "--epochs", "1",
               "--threads", str(threads), "--out", str(out)]
    tick = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    _, status, usage = os.wait4(process.pid, 0)
    log = process.stdout.read()
    if status != 0:
        raise RuntimeError(f"memory run failed:\n{log}")
    return {"songs": songs, "peak_rss_bytes": usage.ru_maxrss * 1024,
            "seconds": time.perf_counter() - tick,
            "epoch_line": [line for line in log.splitlines() if "songs/s" in line][-1]}


def measure(folder: Path, args: argparse.Namespace) -> dict:
    """Interleaved rounds over thread counts, cases, ours / Keras / product; all samples."""
    data = synthetic_data(folder, args.songs)
    kinds = {(t, case): ["ours", "keras", "product"] + (["other"] if t > 1 else [])
             for t in args.threads for case in args.cases}
    workers = {(threads, grouped): subprocess.Popen(
        [sys.executable, __file__, "--worker", str(data), "--threads", str(threads),
         *(["--grouped"] if grouped else [])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for threads in args.threads for grouped in ((False, True) if threads > 1 else (False,))}

    def ask(threads: int, kind: str, case: str) -> dict:
        grouped = (kind == "ours" and groups_of(case, threads) > 1
                   or kind == "other" and groups_of(case, threads) == 1)
        process = workers[threads, grouped]
        process.stdin.write(f"{'ours' if kind == 'other' else kind} {case}\n")
        process.stdin.flush()
        answer = process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the {threads}-thread worker died during {kind} {case}")
        return json.loads(answer)

    samples: dict = {t: {case: {kind: [] for kind in kinds[t, case]} for case in args.cases}
                     for t in args.threads}
    try:
        for round_ in range(args.rounds + 1):  # round 0 warms up (tracing, compiling)
            for threads in args.threads:
                for case in args.cases:
                    for kind in kinds[threads, case]:
                        result = ask(threads, kind, case)
                        if round_:
                            samples[threads][case][kind].append(result)
                        print(f"round {round_} threads {threads} {case} {kind}: "
                              f"{json.dumps(result)}", flush=True)
    finally:
        for process in workers.values():
            process.stdin.close()
            process.wait()
    return samples


def summarize(samples: dict) -> dict:
    """Medians per thread count and case, ratios, and the share of the best product rate."""
    def median(values: list[dict], key: str) -> float:
        return statistics.median(value[key] for value in values)

    best_product = {case: max(median(samples[t][case]["product"], "flops_per_second")
                              for t in samples) for case in next(iter(samples.values()))}
    summary: dict = {}
    for threads, cases in samples.items():
        for case, kinds in cases.items():
            ours, keras = median(kinds["ours"], "seconds"), median(kinds["keras"], "seconds")
            rate = median(kinds["ours"], "flops_per_second")
            summary[f"{threads}/{case}"] = {
                "threads": threads, "case": case, "ours_seconds": ours, "keras_seconds": keras,
                "speedup": keras / ours, "target_speedup": TARGETS.get(threads, {}).get(case),
                "ours_flops_per_second": rate,
                "product_flops_per_second": median(kinds["product"], "flops_per_second"),
                "best_product_flops_per_second": best_product[case],
                "product_fraction": rate / best_product[case],
                "target_product_fraction": (PRODUCT_TARGET.get(threads)
                                            if case == "4/341" else None),
                "groups": groups_of(case, threads),
                "other_seconds": (median(kinds["other"], "seconds")
                                  if "other" in kinds else None),
                "ours_valid_acc": kinds["ours"][-1]["valid_acc"],
                "keras_valid_acc": kinds["keras"][-1]["valid_acc"]}
    return summary


def table(summary: dict) -> str:
    """The summary as a Markdown table."""
    lines = ["| threads | steps/state | groups | ours s/epoch | other grouping s/epoch "
             "| Keras s/epoch | ratio (target) | ours GFLOP/s | % of best product (target) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in summary.values():
        target = f" ({row['target_speedup']:g}x)" if row["target_speedup"] else ""
        share = (f" ({100 * row['target_product_fraction']:.0f}%)"
                 if row["target_product_fraction"] else "")
        other = f"{row['other_seconds']:.2f}" if row["other_seconds"] else "-"
        lines.append(
            f"| {row['threads']} | {row['case']} | {row['groups']} | {row['ours_seconds']:.2f} "
            f"| {other} | {row['keras_seconds']:.2f} | {row['speedup']:.1f}x{target} "
            f"| {row['ours_flops_per_second'] / 1e9:.1f} "
            f"| {100 * row['product_fraction']:.0f}%{share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.threads[0], args.grouped)
        return 0
    from msdrnn.provenance import cpu_model

    for case in args.cases:
        parse_case(case)  # a bad case fails before anything is measured

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        load_before = os.getloadavg()
        tick = time.perf_counter()
        samples = measure(folder, args)
        summary = summarize(samples)
        results = {"cpu": cpu_model(), "cores": len(os.sched_getaffinity(0)),
                   "songs": args.songs, "rounds": args.rounds,
                   "load_average_before": load_before, "load_average_after": os.getloadavg(),
                   "seconds": time.perf_counter() - tick, "summary": summary,
                   "samples": {str(t): cases for t, cases in samples.items()}}
        if args.memory_songs:
            results["memory"] = peak_memory(folder, args.memory_songs, max(args.threads))

    print(f"\nsummary: {results['cpu']}, {results['cores']} cores; {args.songs} train + "
          f"{args.songs // 4} valid songs; medians of {args.rounds} interleaved rounds; load "
          f"average {load_before[0]:.1f} before, {results['load_average_after'][0]:.1f} after "
          "(other processes share the cores)")
    print(table(summary))
    for case in args.cases:
        product = {t: summary[f"{t}/{case}"]["product_flops_per_second"] for t in samples}
        print(f"  (50 x S) @ (S x S) product, {case}: "
              + ", ".join(f"{t} threads {rate / 1e9:.1f} GFLOP/s" for t, rate in product.items()))
    if "memory" in results:
        m = results["memory"]
        print(f"  peak memory, {m['songs']} songs: {m['peak_rss_bytes'] / 2**30:.2f} GiB "
              "(target < 2 GiB)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the temporal convolutional network's epoch against Keras and PyTorch peers.

    python perf/bench_cnn.py                       # the default study's size, ~10 minutes
    python perf/bench_cnn.py --songs 800 4000 --rounds 3

On the same synthetic data (the project's generator, as ``bench_train.py`` makes it:
``--songs`` training songs and a quarter as many validation songs, several sizes
allowed) and the same networks (``--cases`` CHANNELS/KERNEL/LAYERS, dropout
``--dropout``, batch 50, Adam at 1e-3), one epoch (train + validation pass) of:

* ours: ``msdrnn.updates.Trainer.train_epoch`` + ``evaluate`` on
  ``msdrnn.models.cnn``, as ``train.py`` runs it (seeded, deterministic ops,
  ``set_threads``; one graph call per batch);
* Keras: the same layers as ``Conv1D(padding="same", activation="relu")``, ``Dropout``,
  ``GlobalAveragePooling1D``, ``Dense``; ``model.fit`` for one epoch with
  ``validation_data``, compiled with ``jit_compile=True`` and without (both timed, the
  faster is the peer);
* PyTorch: ``torch.nn.Conv1d`` stack with ``ReLU`` and ``Dropout``, mean over time,
  ``Linear``; eager, ``torch.optim.Adam``, songs laid out (N, 25, 120) as ``Conv1d``
  wants (converted once, outside the timing), validation under ``no_grad``.

Each thread count (``--threads``, default 1 and 2) has three worker processes: ours
(``set_threads`` and deterministic ops, as ``train.py``), Keras (the obvious way: no
deterministic ops, under which Keras refuses ``jit_compile``) and PyTorch
(``torch.set_num_threads``): threads are process-wide.
The machine is shared and its load moves, so the measurements are interleaved: every round
runs every framework on every case and size once, and the table gives medians over
``--rounds`` rounds after a warm-up round (tracing, compiling). The ratio is ours over the
fastest peer (below 1: ours faster). The load average before and after is printed.

``--memory CHANNELS/KERNEL/LAYERS ...`` measures instead the peak RSS of ``train.py
--model cnn`` (``--memory-epochs`` epochs, ``--threads``' largest count, dropout
``--dropout``) on the first ``--songs`` size, one process per case, and fits the peak to
a fixed part plus MB per unit of channels x layers (``memory_terms`` of the CNN): the
coefficient ``resources.train_mem_per_channel_mb`` of config.yaml.

``--formulations`` measures instead why ours runs as it does: CPU milliseconds (the
process's, so that a shared machine's waiting does not count) of one training batch of 50
songs on the first ``--threads`` count, for each case, with the convolution written as
``tf.nn.conv1d`` or as im2col (``im2col`` below) and the step run as a plain graph (what
``TemporalCNN.jit_compile = False`` gives) or compiled with XLA; medians of ``--rounds``
x 10 interleaved batches.
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

from bench_train import synthetic_data  # noqa: E402  (same generator, same files)

CASES = ("32/5/2", "128/7/3")
BATCH = 50
# worker processes and what each runs: ours as train.py does, with TensorFlow's
# deterministic ops, under which Keras refuses jit_compile; so Keras has its own worker
KINDS = {"ours": ("ours",), "keras": ("keras_jit", "keras"), "torch": ("torch",)}


def parse_case(case: str) -> dict:
    """``"32/5/2"`` -> channels 32, kernel 5, layers 2 (dropout added by the caller)."""
    try:
        channels, kernel, layers = (int(value) for value in case.split("/"))
    except ValueError:
        raise SystemExit(f"error: case {case!r}: expected CHANNELS/KERNEL/LAYERS, "
                         "e.g. 32/5/2") from None
    return {"channels": channels, "kernel": kernel, "layers": layers}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, nargs="+", default=[800],
                        help="training songs (a quarter as many validate); several sizes "
                             "allowed (default %(default)s, the default study's)")
    parser.add_argument("--cases", nargs="+", default=list(CASES),
                        metavar="CHANNELS/KERNEL/LAYERS", help="default %(default)s")
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3,
                        help="timed rounds (after a warm-up round); the table gives medians")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: temporary)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--memory", nargs="+", metavar="CHANNELS/KERNEL/LAYERS",
                        help="measure train.py's peak RSS for these cases instead of speed")
    parser.add_argument("--memory-epochs", type=int, default=2)
    parser.add_argument("--formulations", action="store_true",
                        help="compare the convolution's formulations instead (CPU ms/batch)")
    parser.add_argument("--worker", choices=tuple(KINDS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


class Ours:
    """The project's trainer on one case: every call trains and validates one epoch."""

    def __init__(self, hparams: dict):
        from msdrnn.models import family
        from msdrnn.updates import Trainer

        self.trainer = Trainer(family("cnn").build(hparams, seed=0), seed=0)
        self.epoch = 0

    def epoch_seconds(self, train, valid) -> dict:
        import numpy as np

        self.epoch += 1
        order = np.random.default_rng([0, self.epoch]).permutation(train.size)
        tick = time.perf_counter()
        self.trainer.train_epoch(train.inputs, train.targets, order)
        accuracy = self.trainer.evaluate(valid.inputs, valid.targets)[1]
        return {"seconds": time.perf_counter() - tick, "valid_acc": accuracy}


class KerasPeer:
    """The same network the obvious Keras way: ``Conv1D`` layers and ``model.fit``."""

    def __init__(self, hparams: dict, jit_compile: bool):
        import keras

        layers = [keras.Input((120, 25))]
        for _ in range(hparams["layers"]):
            layers += [keras.layers.Conv1D(hparams["channels"], hparams["kernel"],
                                           padding="same", activation="relu"),
                       keras.layers.Dropout(hparams["dropout"])]
        layers += [keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(10)]
        self.model = keras.Sequential(layers)
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3),
                           loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"], jit_compile=jit_compile)

    def epoch_seconds(self, train, valid) -> dict:
        tick = time.perf_counter()
        fitted = self.model.fit(train.inputs, train.targets, batch_size=BATCH, epochs=1,
                                shuffle=True, validation_data=(valid.inputs, valid.targets),
                                verbose=0)
        return {"seconds": time.perf_counter() - tick,
                "valid_acc": float(fitted.history["val_accuracy"][-1])}


class TorchPeer:
    """The same network in PyTorch: ``Conv1d`` stack, eager training, ``Adam``."""

    def __init__(self, hparams: dict, train, valid):
        import torch

        torch.manual_seed(0)
        layers, c_in = [], 25
        for _ in range(hparams["layers"]):
            layers += [torch.nn.Conv1d(c_in, hparams["channels"], hparams["kernel"],
                                       padding=hparams["kernel"] // 2),
                       torch.nn.ReLU(), torch.nn.Dropout(hparams["dropout"])]
            c_in = hparams["channels"]
        self.features = torch.nn.Sequential(*layers)
        self.out = torch.nn.Linear(c_in, 10)
        parameters = [*self.features.parameters(), *self.out.parameters()]
        self.optimizer = torch.optim.Adam(parameters, lr=1e-3)
        # (N, 120, 25) -> (N, 25, 120), the layout Conv1d reads; once, outside the timing
        self.data = {name: (torch.from_numpy(split.inputs.transpose(0, 2, 1).copy()),
                            torch.from_numpy(split.targets.astype("int64")))
                     for name, split in (("train", train), ("valid", valid))}
        self.epoch = 0

    def logits(self, x):
        return self.out(self.features(x).mean(dim=2))

    def epoch_seconds(self, train, valid) -> dict:
        import numpy as np
        import torch

        self.epoch += 1
        x, y = self.data["train"]
        order = torch.from_numpy(np.random.default_rng([0, self.epoch]).permutation(len(y)))
        tick = time.perf_counter()
        self.features.train()
        hits = 0
        for first in range(0, len(y) // BATCH * BATCH, BATCH):
            index = order[first:first + BATCH]
            logits = self.logits(x[index])
            loss = torch.nn.functional.cross_entropy(logits, y[index])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            hits += int((logits.argmax(1) == y[index]).sum())
        self.features.eval()
        xv, yv = self.data["valid"]
        with torch.no_grad():
            logits = torch.cat([self.logits(xv[i:i + 1000]) for i in range(0, len(yv), 1000)])
            torch.nn.functional.cross_entropy(logits, yv).item()
            accuracy = float((logits.argmax(1) == yv).float().mean())
        return {"seconds": time.perf_counter() - tick, "valid_acc": accuracy}


def worker(framework: str, threads: int, dropout: float) -> None:
    """Serve measurements on stdin/stdout (one JSON line each) with ``threads`` threads.

    A request is ``KIND CASE DATA``; every (kind, case, data) keeps its model between
    requests, so each request after the first is one more epoch of the same training."""
    from msdrnn.dataset_io import load_split

    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    elif framework == "keras":
        import keras

        from msdrnn.updates import set_threads

        keras.utils.set_random_seed(0)
        set_threads(threads)  # the same threads as ours
    else:
        import keras
        import tensorflow as tf

        from msdrnn.training import groups_for
        from msdrnn.updates import set_threads

        keras.utils.set_random_seed(0)  # as train.py runs ours: seeded, deterministic ops
        set_threads(threads, groups_for("cnn", {}, threads))
        tf.config.experimental.enable_op_determinism()
    splits: dict = {}
    runners: dict = {}
    for line in sys.stdin:
        kind, case, data = line.split()
        if data not in splits:
            splits[data] = load_split(Path(data), "train"), load_split(Path(data), "valid")
        train, valid = splits[data]
        if (kind, case, data) not in runners:
            hparams = {**parse_case(case), "dropout": dropout}
            runners[kind, case, data] = (
                Ours(hparams) if kind == "ours" else
                KerasPeer(hparams, jit_compile=kind == "keras_jit") if kind.startswith("keras")
                else TorchPeer(hparams, train, valid))
        print(json.dumps(runners[kind, case, data].epoch_seconds(train, valid)), flush=True)


def measure(folder: Path, args: argparse.Namespace) -> dict:
    """Interleaved rounds over sizes, thread counts, cases and frameworks; all samples."""
    data = {songs: synthetic_data(folder, songs) for songs in args.songs}
    workers = {(framework, threads): subprocess.Popen(
        [sys.executable, __file__, "--worker", framework, "--threads", str(threads),
         "--dropout", str(args.dropout)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True) for framework in KINDS for threads in args.threads}

    def ask(framework: str, threads: int, kind: str, case: str, songs: int) -> dict:
        process = workers[framework, threads]
        process.stdin.write(f"{kind} {case} {data[songs]}\n")
        process.stdin.flush()
        answer = process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the {framework} worker ({threads} threads) died during "
                               f"{kind} {case}")
        return json.loads(answer)

    samples: dict = {}
    try:
        for round_ in range(args.rounds + 1):  # round 0 warms up (tracing, compiling)
            for songs in args.songs:
                for threads in args.threads:
                    for case in args.cases:
                        for framework, kinds in KINDS.items():
                            for kind in kinds:
                                result = ask(framework, threads, kind, case, songs)
                                if round_:
                                    samples.setdefault((songs, threads, case), {}).setdefault(
                                        kind, []).append(result)
                                print(f"round {round_} songs {songs} threads {threads} "
                                      f"{case} {kind}: {json.dumps(result)}", flush=True)
    finally:
        for process in workers.values():
            process.stdin.close()
            process.wait()
    return samples


def peak_memory(data: Path, folder: Path, case: str, args: argparse.Namespace) -> dict:
    """Peak RSS (MB) of ``train.py --model cnn`` with ``case``, from a fresh start."""
    hparams = {**parse_case(case), "dropout": args.dropout}
    out = folder / f"memory_{case.replace('/', '_')}"
    shutil.rmtree(out, ignore_errors=True)  # a fresh run, not a resumed one
    command = [sys.executable, str(ROOT / "workflow_scripts" / "train.py"), "--dataset",
               str(data), "--model", "cnn",
               *[f"--set={key}={value}" for key, value in hparams.items()],
               "--epochs", str(args.memory_epochs), "--threads", str(max(args.threads)),
               "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    log = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"memory run {case} failed:\n{log}")
    return {"case": case, "channel_layers": hparams["channels"] * hparams["layers"],
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "epoch_line": [line for line in log.splitlines() if "songs/s" in line][-1]}


def memory_report(folder: Path, args: argparse.Namespace) -> dict:
    """Peak RSS per case and the least-squares line over channels x layers."""
    import numpy as np

    data = synthetic_data(folder, args.songs[0])
    rows = [peak_memory(data, folder, case, args) for case in args.memory]
    x = np.array([[1.0, row["channel_layers"]] for row in rows])
    peaks = np.array([row["peak_rss_mb"] for row in rows])
    (base, per_channel), *_ = np.linalg.lstsq(x, peaks, rcond=None)
    print(f"\npeak RSS of train.py --model cnn, {args.songs[0]} train songs "
          f"({data.stat().st_size / 2**20:.1f} MB file), {args.memory_epochs} epochs, "
          f"{max(args.threads)} threads")
    print("| channels/kernel/layers | channels x layers | peak RSS MB |\n|---|---|---|")
    for row in rows:
        print(f"| {row['case']} | {row['channel_layers']} | {row['peak_rss_mb']:.0f} |")
    print(f"fit: {base:.0f} MB + {per_channel:.3f} MB per channel x layer "
          "(train_mem_per_channel_mb)")
    return {"rows": rows, "base_mb": base, "per_channel_mb": per_channel,
            "dataset_mb": data.stat().st_size / 2**20}


def im2col(x, kernel):
    """The convolution as one product: every step's window of ``width`` segments unfolded
    into a row of a (B*T, width*C_in) matrix ('same' zero padding), times the kernel as a
    (width*C_in, C_out) matrix."""
    import tensorflow as tf

    width, c_in, c_out = kernel.shape
    steps, half = x.shape[1], width // 2
    padded = tf.pad(x, [[0, 0], [half, half], [0, 0]])
    columns = tf.concat([padded[:, j:j + steps] for j in range(width)], axis=-1)
    flat = tf.reshape(columns, [-1, width * c_in]) @ tf.reshape(kernel, [width * c_in, c_out])
    return tf.reshape(flat, [-1, steps, c_out])


def formulations(args: argparse.Namespace) -> list[dict]:
    """CPU ms of one training batch per case, convolution and compilation (see above)."""
    import numpy as np
    import tensorflow as tf

    from msdrnn.models import cnn
    from msdrnn.updates import Trainer, set_threads

    load_before = os.getloadavg()
    set_threads(args.threads[0])
    tf.config.experimental.enable_op_determinism()
    shipped = cnn.conv_same
    convolutions = {"tf.nn.conv1d": lambda x, k: tf.nn.conv1d(x, k, 1, "SAME"),
                    "im2col": im2col}
    rng = np.random.default_rng(0)
    songs = rng.standard_normal((BATCH, 120, 25)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)
    steps = {}
    for case in args.cases:
        for name, convolution in convolutions.items():
            for jit in (False, True):
                model = cnn.build({**parse_case(case), "dropout": args.dropout}, seed=0)
                model.jit_compile = jit
                cnn.conv_same = convolution  # read when the step is traced, just below
                trainer = Trainer(model, seed=0)
                trainer.train_epoch(songs, labels, np.arange(BATCH))
                steps[case, name, jit] = trainer
    cnn.conv_same = shipped
    samples: dict = {key: [] for key in steps}
    for _ in range(args.rounds * 10):
        for key, trainer in steps.items():
            tick = time.process_time()
            trainer.train_epoch(songs, labels, np.arange(BATCH))
            samples[key].append(time.process_time() - tick)
    rows = [{"case": case, "convolution": name, "xla": jit,
             "cpu_ms": 1e3 * statistics.median(samples[case, name, jit])}
            for case, name, jit in samples]
    print(f"\nCPU ms per training batch of {BATCH} songs, {args.threads[0]} thread(s), "
          f"dropout {args.dropout}, medians of {args.rounds * 10}; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    print("| channels/kernel/layers | convolution | step | CPU ms |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['case']} | {row['convolution']} | "
              f"{'XLA' if row['xla'] else 'plain graph'} | {row['cpu_ms']:.1f} |")
    return rows


def summarize(samples: dict) -> list[dict]:
    """Median seconds per framework, the fastest peer and ours over it, per row."""
    rows = []
    for (songs, threads, case), kinds in samples.items():
        seconds = {kind: statistics.median(r["seconds"] for r in results)
                   for kind, results in kinds.items()}
        peers = {kind: s for kind, s in seconds.items() if kind != "ours"}
        fastest = min(peers, key=peers.get)
        rows.append({"songs": songs, "threads": threads, "case": case, **seconds,
                     "fastest_peer": fastest, "ratio": seconds["ours"] / peers[fastest],
                     "valid_acc": {kind: results[-1]["valid_acc"]
                                   for kind, results in kinds.items()}})
    return rows


def table(rows: list[dict]) -> str:
    """The summary as a Markdown table (seconds per epoch, train + validation)."""
    lines = ["| train songs | channels/kernel/layers | threads | ours s | Keras jit s "
             "| Keras s | PyTorch s | ours / fastest peer |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['songs']} | {r['case']} | {r['threads']} | {r['ours']:.2f} "
                     f"| {r['keras_jit']:.2f} | {r['keras']:.2f} | {r['torch']:.2f} "
                     f"| {r['ratio']:.2f} ({r['fastest_peer']}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.threads[0], args.dropout)
        return 0
    from msdrnn.provenance import cpu_model

    for case in [*args.cases, *(args.memory or [])]:
        parse_case(case)  # a bad case fails before anything is measured
    if args.formulations:
        rows = formulations(args)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n")
        return 0
    if args.memory:
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.workdir or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            results = memory_report(folder, args)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        load_before = os.getloadavg()
        tick = time.perf_counter()
        rows = summarize(measure(folder, args))
        results = {"cpu": cpu_model(), "cores": len(os.sched_getaffinity(0)),
                   "songs": args.songs, "rounds": args.rounds, "dropout": args.dropout,
                   "load_average_before": load_before, "load_average_after": os.getloadavg(),
                   "seconds": time.perf_counter() - tick, "rows": rows}
    print(f"\nsummary: {results['cpu']}, {results['cores']} cores; train songs "
          f"{args.songs} (+ a quarter as many valid); dropout {args.dropout}; seconds per "
          f"epoch, medians of {args.rounds} interleaved rounds; load average "
          f"{load_before[0]:.1f} before, {results['load_average_after'][0]:.1f} after "
          "(other processes share the cores)")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

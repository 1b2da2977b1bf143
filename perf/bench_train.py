"""Benchmark the trainer against the obvious Keras version, a large matmul, and memory.

    python perf/bench_train.py                 # ~5 minutes on 2 cores
    python perf/bench_train.py --songs 8000 --epochs 5 --memory-songs 0

On the same synthetic data (the project's generator; ``--songs`` training songs, a quarter
as many validation songs), after one warm-up epoch, the median of ``--epochs`` epochs:

* steps 4, state 341, readout: our epoch (train + validation) against the same training
  written the obvious Keras way (``SimpleRNN(stateful=True)``, ``train_on_batch`` per
  part, states reset per batch of songs, validation with ``test_on_batch`` per part), and
  our FLOP/s against one 2048 x 2048 float32 ``tf.matmul`` measured in the same process
  with the same threads (targets: 3x, 60%);
* steps 6, state 10, no readout: against the same Keras reference (target: 12x);
* peak resident memory of ``train.py`` on a paper-scale file (``--memory-songs`` songs of
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

GENRES = ("Rap", "Rock", "RnB", "Electronic", "Metal", "Blues", "Pop", "Jazz", "Country",
          "Reggae")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=4000, help="training songs")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after warm-up)")
    parser.add_argument("--reference-epochs", type=int, default=2,
                        help="timed epochs of the Keras reference (after warm-up)")
    parser.add_argument("--threads", type=int, default=1,
                        help="intra-op threads of both trainers (the workflow runs 1 per job)")
    parser.add_argument("--memory-songs", type=int, default=50000,
                        help="songs of the memory run (0: skip it)")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: temporary)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def synthetic_data(folder: Path, songs: int):
    """Train and valid splits from the project's generator (songs train, songs / 4 valid)."""
    from msdrnn.dataset import DataConfig, prepare_dataset
    from msdrnn.dataset_io import load_split
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
    return load_split(path, "train"), load_split(path, "valid")


def matmul_flops(tf, size: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of one large float32 matrix product, median of ``repeats``."""
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])
    product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    product(a, b).numpy()
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        product(a, b).numpy()
        times.append(time.perf_counter() - tick)
    return 2 * size**3 / statistics.median(times)


def ours(train, valid, steps: int, state_size: int, readout: bool, epochs: int) -> dict:
    """Median epoch seconds (train + validation) of the project's trainer."""
    import numpy as np

    from msdrnn.model import BasicRNN
    from msdrnn.trainer import Trainer

    model = BasicRNN(state_size, steps, readout, seed=0)
    trainer = Trainer(model)
    times, accuracy = [], 0.0
    for epoch in range(epochs + 1):  # the first is the warm-up (tracing)
        tick = time.perf_counter()
        trainer.train_epoch(train.inputs, train.targets,
                            np.random.default_rng([0, epoch]).permutation(train.size))
        accuracy = trainer.evaluate(valid.inputs, valid.targets)[1]
        times.append(time.perf_counter() - tick)
    batches = train.size // 50
    flops = (batches * 50 * model.flops_per_song()["train"]
             + valid.size * model.flops_per_song()["forward"])
    seconds = statistics.median(times[1:])
    return {"epoch_seconds": seconds, "epochs": [round(t, 3) for t in times[1:]],
            "flops_per_epoch": flops, "flops_per_second": flops / seconds,
            "valid_acc": accuracy}


def keras_reference(train, valid, steps: int, state_size: int, readout: bool,
                    epochs: int) -> dict:
    """The same training the obvious Keras way: stateful SimpleRNN, train_on_batch per part."""
    import keras
    import numpy as np

    batch, parts = 50, 120 // steps
    layers = [keras.Input(batch_shape=(batch, steps, 25)),
              keras.layers.SimpleRNN(state_size, stateful=True)]
    if readout:
        layers.append(keras.layers.Dense(10))
    model = keras.Sequential(layers)
    rnn = model.layers[0]
    model.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-8),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    times, accuracy = [], 0.0
    for epoch in range(epochs + 1):
        order = np.random.default_rng([0, epoch]).permutation(train.size)
        tick = time.perf_counter()
        for b in range(train.size // batch):
            index = order[b * batch:(b + 1) * batch]
            x, y = train.inputs[index], train.targets[index]
            rnn.reset_states()
            for p in range(parts):
                model.train_on_batch(x[:, p * steps:(p + 1) * steps], y)
        hits = 0.0
        for b in range(valid.size // batch):
            x = valid.inputs[b * batch:(b + 1) * batch]
            y = valid.targets[b * batch:(b + 1) * batch]
            rnn.reset_states()
            for p in range(parts):
                _, part_accuracy = model.test_on_batch(x[:, p * steps:(p + 1) * steps], y)
            hits += part_accuracy * batch  # the final part's
        accuracy = hits / (valid.size // batch * batch)
        times.append(time.perf_counter() - tick)
    return {"epoch_seconds": statistics.median(times[1:]),
            "epochs": [round(t, 3) for t in times[1:]], "valid_acc": accuracy}


def peak_memory(folder: Path, songs: int, threads: int) -> dict:
    """Peak RSS of one epoch of ``train.py`` (steps 4, state 341, readout) on ``songs`` songs."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "tests"))
    from test_train_data import write_dataset

    path = folder / f"noise_{songs}.h5"
    if not path.exists():
        rng = np.random.default_rng(0)
        n_train = songs * 4 // 5
        write_dataset(path, {
            name: (rng.standard_normal((n, 120, 25), dtype=np.float32),
                   rng.integers(0, 10, n).astype(np.int64))
            for name, n in (("train", n_train), ("valid", songs - n_train))})
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


def main() -> None:
    args = parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(2, args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        tick = time.perf_counter()
        train, valid = synthetic_data(folder, args.songs)
        print(f"data: {train.size} train, {valid.size} valid songs "
              f"({time.perf_counter() - tick:.1f} s); threads {args.threads}", flush=True)
        results = {"threads": args.threads, "load_average_before": os.getloadavg(),
                   "train_songs": train.size,
                   "valid_songs": valid.size, "matmul_flops_before": matmul_flops(tf)}
        for name, (steps, state, readout, target) in {
                "steps4_state341_readout": (4, 341, True, 3),
                "steps6_state10_no_readout": (6, 10, False, 12)}.items():
            mine = ours(train, valid, steps, state, readout, args.epochs)
            print(f"{name}: ours {mine}", flush=True)
            reference = keras_reference(train, valid, steps, state, readout,
                                        args.reference_epochs)
            print(f"{name}: keras {reference}", flush=True)
            speedup = reference["epoch_seconds"] / mine["epoch_seconds"]
            results[name] = {"ours": mine, "keras": reference, "speedup": speedup,
                             "target": target}
        results["matmul_flops_after"] = matmul_flops(tf)
        results["load_average_after"] = os.getloadavg()
        matmul = max(results["matmul_flops_before"], results["matmul_flops_after"])
        big = results["steps4_state341_readout"]
        big["matmul_fraction"] = big["ours"]["flops_per_second"] / matmul
        if args.memory_songs:
            results["memory"] = peak_memory(folder, args.memory_songs, args.threads)

    print(f"\nsummary (medians; {args.threads} threads; load average "
          f"{results['load_average_before'][0]:.1f} before, "
          f"{results['load_average_after'][0]:.1f} after: other processes share the cores)")
    for name in ("steps4_state341_readout", "steps6_state10_no_readout"):
        r = results[name]
        print(f"  {name}: ours {r['ours']['epoch_seconds']:.2f} s/epoch, keras "
              f"{r['keras']['epoch_seconds']:.2f} s/epoch: {r['speedup']:.1f}x "
              f"(target {r['target']}x)")
    print(f"  FLOP/s: ours {big['ours']['flops_per_second'] / 1e9:.1f} G, 2048^2 matmul "
          f"{matmul / 1e9:.1f} G: {100 * big['matmul_fraction']:.0f}% (target 60%)")
    if "memory" in results:
        m = results["memory"]
        print(f"  peak memory, {m['songs']} songs: {m['peak_rss_bytes'] / 2**30:.2f} GiB "
              "(target < 2 GiB)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

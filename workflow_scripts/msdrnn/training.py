"""The epoch loop: shuffling, history, checkpoint and resume, final outputs, run record.

Determinism: weights are drawn from ``seed``, epoch ``e`` trains on the permutation drawn
from ``(seed, e)``, and the checkpoint after every epoch holds weights, optimizer state,
the best epoch's weights, the epoch and the history. A run restarted after a kill at any
moment resumes after the last finished epoch and ends bitwise identical to an
uninterrupted run.

The checkpoint is in-progress state only. It is resumed only when it was written by the
identical computation: the same project code (content hash of every project module the
process loaded), the same tensorflow/keras/numpy/h5py versions, the same settings (every
``TrainConfig`` field but ``epochs``, threads included) and the same data (content hash).
Anything else, or a corrupt file, discards it with one log line that says why. Once the
outputs are written the checkpoint is removed, so a rerun (or ``--forcerun``) trains from
epoch 1 and really recomputes.

Several seeds of one configuration (``train_seeds``) train one after the other in one
process, sharing TensorFlow's start-up and the compiled step (``Session``): each run gets
its seed's initial weights, a new optimizer state and its seed's dropout masks in the same
variables (``Trainer.reset``), and computes what it computes in a process of its own, bit
for bit. Each keeps its final checkpoint until every seed is done, so that the same
command after an interruption (Snakemake deletes every output of a failed job) resumes the
finished seeds without training them again.

Files: ``out/checkpoint/checkpoint.npz`` while training and, only when the last epoch is
done, ``weights.npz`` (final weights), ``weights_best.npz`` (the weights of the epoch with
the highest valid accuracy, the earliest on a tie), ``history.csv`` and ``run.json``, in
``out`` or where the caller names them (``output_paths``).
Each file is written to a temporary name and renamed, so a kill never leaves a torn one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import platform
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from msdrnn import timeline
from msdrnn.dataset_io import Split
from msdrnn.errors import ConfigError, TrainingDiverged
from msdrnn.files import atomic_write
from msdrnn.models import complete, family, hparams_error
from msdrnn.provenance import (
    NUMERIC_PACKAGES,
    code_fingerprint,
    device_description,
    package_versions,
)
from msdrnn.results import HISTORY_COLUMNS
from msdrnn.study import CLASSES

OUTPUTS = ("weights.npz", "weights_best.npz", "history.csv", "run.json")
CHECKPOINT = Path("checkpoint") / "checkpoint.npz"


# TensorFlow threads of a training job when the config or command line names none: a job
# that runs alone (train.py by hand, a trial of the sequential search) measured fastest on
# 2 (perf/bench_train.py); jobs that run side by side take 1 core each.
THREADS_ALONE = 2
THREADS_SIDE_BY_SIDE = 1


def output_paths(out: Path, given: dict[str, Path | None] | None = None) -> dict[str, Path]:
    """Where each output goes, by the name of ``OUTPUTS`` without its extension
    (``weights``, ``weights_best``, ``history``, ``run``): the path ``given`` for it, or
    its file name in ``out``."""
    given = given or {}
    unknown = set(given) - {name.split(".")[0] for name in OUTPUTS}
    if unknown:
        raise ConfigError(f"unknown training outputs {sorted(unknown)}; expected names of "
                          f"{list(OUTPUTS)} without the extension")
    return {name.split(".")[0]: Path(given.get(name.split(".")[0]) or out / name)
            for name in OUTPUTS}


def groups_for(model: str, hparams: dict, threads: int) -> int:
    """Groups of a batch's songs trained side by side (see ``TrainConfig.groups``): what
    the family's ``groups(hparams, threads)`` says, 1 for a family without one."""
    groups = getattr(family(model), "groups", None)
    return groups(hparams, threads) if groups else 1


@dataclass
class TrainConfig:
    """Everything that decides the numbers a run produces, ``threads`` included: the
    intra-op thread count can change the order of floating-point sums.

    ``model`` is a family of ``msdrnn.models`` and ``hparams`` its hyperparameters (the
    keys of its ``HPARAMS``; the family's ``DEFAULTS`` fill what is not given, see
    ``with_defaults``). The defaults are the original study's best RNN and ``train.py``'s
    defaults. ``threads`` defaults to ``THREADS_ALONE``; the workflow passes
    ``train.threads`` (default ``THREADS_SIDE_BY_SIDE``) or ``bayes.threads`` (default
    ``THREADS_ALONE``).
    """

    model: str = "rnn"
    hparams: dict = field(default_factory=dict)
    epochs: int = 50
    seed: int = 0
    batch_size: int = 50
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    classes: int = CLASSES
    threads: int = THREADS_ALONE

    def __post_init__(self) -> None:
        self.hparams = complete(self.model, self.hparams)

    @property
    def groups(self) -> int:
        """Groups of a batch's songs trained side by side, one per thread (``Trainer``):
        the RNN from state size 100 on several threads (``msdrnn.models.rnn.groups``),
        every other model one."""
        return groups_for(self.model, self.hparams, self.threads)

    def record(self) -> dict:
        """The settings as run.json's flat ``hyperparameters``: the model's values beside
        the training settings."""
        settings = asdict(self)
        return {"model": self.model, **settings.pop("hparams"), **settings}

    def check(self) -> None:
        """Raise ``ConfigError`` for settings the model cannot run with."""
        if self.optimizer != "adam":
            raise ConfigError(f"unknown optimizer '{self.optimizer}' (only adam)")
        if self.epochs < 1:
            raise ConfigError(f"epochs must be at least 1; got {self.epochs}")
        if self.threads < 1:
            raise ConfigError(f"threads must be at least 1; got {self.threads}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be at least 1; got {self.batch_size}")
        if not (self.learning_rate > 0 and np.isfinite(self.learning_rate)):
            raise ConfigError(f"learning rate must be positive; got {self.learning_rate}")
        problem = hparams_error(self.model, self.hparams, self.classes)
        if problem:
            raise ConfigError(problem)
        if self.groups > self.batch_size:
            raise ConfigError(f"threads ({self.threads}) must not exceed the batch size "
                              f"({self.batch_size}): the RNN trains one group of a batch's "
                              "songs per thread")


def set_random_seeds(seed: int) -> None:
    """Seed Python's, NumPy's and TensorFlow's global generators, as Keras'
    ``set_random_seed`` does, without importing Keras. The trainer draws from none of
    them (weights and epoch orders come from their own ``default_rng``); seeding them keeps
    any op that draws from a global generator deterministic."""
    import random

    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator is what is seeded)
    tf.random.set_seed(seed)


def epoch_order(seed: int, epoch: int, songs: int) -> np.ndarray:
    """The order in which epoch ``epoch`` (1-based) visits the training songs."""
    return np.random.default_rng([seed, epoch]).permutation(songs)


def data_digest(*splits: Split) -> str:
    """A hash of the training data, so a checkpoint is never resumed on other data."""
    digest = hashlib.blake2b(digest_size=16)
    for split in splits:
        digest.update(np.ascontiguousarray(split.inputs).data)
        digest.update(np.ascontiguousarray(split.targets).data)
    return digest.hexdigest()


def run_fingerprint(config: TrainConfig, *splits: Split, data: str | None = None) -> dict:
    """What a checkpoint must have been written by to be resumed: code, package versions,
    settings (all but ``epochs``: epoch e does not depend on how many follow) and data
    (``data``: the splits' ``data_digest`` when the caller has it already)."""
    versions = package_versions()
    settings = asdict(config)
    settings.pop("epochs")
    return {"code": code_fingerprint(),
            "versions": {name: versions[name] for name in NUMERIC_PACKAGES},
            "settings": settings,
            "data": data or data_digest(*splits)}


def fingerprint_difference(saved: dict, current: dict) -> str | None:
    """Which parts of a saved fingerprint differ from ``current``, in words; None if none."""
    differences = []
    for part, value in current.items():
        old = saved.get(part)
        if old == value:
            continue
        if isinstance(old, dict) and isinstance(value, dict):
            keys = sorted(k for k in set(old) | set(value) if old.get(k) != value.get(k))
            differences.append(f"{part} ({', '.join(str(k) for k in keys)})")
        else:
            differences.append(part)
    return "; ".join(differences) or None


def build_model(config: TrainConfig):
    """The model of ``config``, weights drawn from its seed."""
    return family(config.model).build(config.hparams, config.seed, config.classes)


def computation(config: TrainConfig) -> dict:
    """What a trainer is compiled for: every setting but ``seed`` and ``epochs``. Runs that
    differ only in those compile exactly the same step (same model, shapes, optimizer
    values and threads), so one trainer serves them all (``Session``)."""
    settings = asdict(config)
    for name in ("seed", "epochs"):
        settings.pop(name)
    return settings


class Session:
    """The training runs of one process: a run of the same ``computation`` as the one
    before reuses its trainer, compiled step included, reset to the run's seed
    (``Trainer.reset``: the seed's initial weights from the family's ``build``, a new
    optimizer state, the seed of the dropout masks); any other run builds a new one.

    Reuse is exact because a run's numbers depend on nothing but the variables the step
    reads and the epoch orders drawn from its seed: the families draw their random numbers
    statelessly from ``Trainer.noise_seed`` (``msdrnn.models.layers.dropout``), never from
    a generator the trace would have fixed.
    """

    def __init__(self) -> None:
        self.trainer = None
        self._computation: dict | None = None
        self._data: tuple[tuple[Split, ...], str] | None = None  # (splits, data_digest)

    def fingerprint(self, config: TrainConfig, *splits: Split) -> dict:
        """``run_fingerprint``, hashing the splits once for all the runs on the same ones
        (a job's seeds train on the same arrays: at paper scale that hash reads 600 MB).
        The same split objects, held here, not equal ids: a freed split's id can come
        back for another."""
        held = self._data[0] if self._data is not None else ()
        if len(held) != len(splits) or any(a is not b
                                           for a, b in zip(held, splits, strict=True)):
            self._data = (splits, data_digest(*splits))
        return run_fingerprint(config, *splits, data=self._data[1])

    def trainer_for(self, config: TrainConfig):
        """A trainer of ``config`` in the state of a new one, weights drawn from its seed."""
        from msdrnn.updates import Trainer

        if self.trainer is not None and self._computation == computation(config):
            initial = build_model(config)  # drawn as a new run draws them, then dropped
            self.trainer.reset({name: var.numpy() for name, var in initial.weights.items()},
                               config.seed)
            return self.trainer
        self.trainer = None  # free the previous computation's trainer before building
        self.trainer = Trainer(build_model(config), config.learning_rate, config.batch_size,
                               groups=config.groups, seed=config.seed)
        self._computation = computation(config)
        return self.trainer


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def history_csv(history: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: (row[k] if k == "epoch" else repr(float(row[k])))
                         for k in HISTORY_COLUMNS})
    return buffer.getvalue().encode()


def save_checkpoint(out: Path, trainer, epoch: int, history: list[dict],
                    best_weights: dict[str, np.ndarray], fingerprint: dict) -> None:
    """Weights, optimizer state, best weights, epoch and history after ``epoch``, with the
    fingerprint of the computation, replacing the last checkpoint."""
    progress = {"epoch": epoch, "history": history, "fingerprint": fingerprint}
    arrays = {**trainer.state(), **{f"best/{k}": v for k, v in best_weights.items()},
              "progress_json": np.array(json.dumps(progress))}
    atomic_write(out / CHECKPOINT, npz_bytes(arrays))


def load_checkpoint(out: Path, log: Callable[[str], None] = print
                    ) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The saved progress and arrays, or None when there is no readable checkpoint (a
    corrupt or truncated one is reported and ignored, never a crash)."""
    path = out / CHECKPOINT
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        progress = json.loads(str(arrays.pop("progress_json")))
        if not isinstance(progress, dict) or not isinstance(progress.get("history"), list):
            raise ValueError("no progress record")
        return progress, arrays
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        log(f"warning: ignoring unreadable checkpoint {path} ({err}): starting over")
        return None


def remove_checkpoint(out: Path) -> None:
    """Delete the in-progress state once the outputs are written (and its folder if empty)."""
    path = out / CHECKPOINT
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass


def _resumable(saved, fingerprint: dict, trainer, config: TrainConfig, out: Path,
               log: Callable[[str], None]) -> bool:
    """Whether a loaded checkpoint can be resumed by this run; logs why not."""
    if saved is None:
        return False
    progress, arrays = saved
    where = out / CHECKPOINT
    difference = fingerprint_difference(progress.get("fingerprint") or {}, fingerprint)
    if difference:
        log(f"checkpoint {where} was written by another computation, {difference} "
            "differ: starting over")
        return False
    if progress.get("epoch", 0) > config.epochs:
        log(f"checkpoint {where} is at epoch {progress['epoch']}, past the {config.epochs} "
            "asked for: starting over")
        return False
    expected = {name: value.shape for name, value in trainer.state().items()}
    expected.update({f"best/{name}": shape for name, shape in expected.items()
                     if not name.startswith("adam")})
    if any(name not in arrays or arrays[name].shape != shape
           for name, shape in expected.items()):
        log(f"warning: checkpoint {where} lacks arrays or has other shapes: starting over")
        return False
    return True


def train(config: TrainConfig, train_split: Split, valid_split: Split, out: Path,
          run_info: dict | None = None, log: Callable[[str], None] = print,
          outputs: dict[str, Path | None] | None = None, session: Session | None = None,
          keep_checkpoint: bool = False) -> list[dict]:
    """Train ``config`` on the splits, writing checkpoints in ``out/checkpoint`` and finally
    the outputs: at the paths ``outputs`` names (see ``output_paths``), the others in ``out``.

    Resumes from ``out/checkpoint`` when it was written by the same settings on the same
    data; raises ``TrainingDiverged`` (checkpoint left as it was) on a non-finite loss.
    ``session``: the process's earlier runs, whose trainer a run of the same computation
    reuses (default: a new one). ``keep_checkpoint``: leave the last epoch's checkpoint
    once the outputs are written (``train_seeds`` removes it when every seed is done).
    Returns the history, one dict per epoch.
    """
    import tensorflow as tf

    timeline.mark("imported")
    config.check()
    started = time.perf_counter()
    paths = output_paths(out, outputs)
    out.mkdir(parents=True, exist_ok=True)
    for path in paths.values():  # outputs of an earlier run must not pass for this run's
        path.unlink(missing_ok=True)

    set_random_seeds(config.seed)
    tf.config.experimental.enable_op_determinism()
    session = session or Session()
    trainer = session.trainer_for(config)
    model = trainer.model
    fingerprint = session.fingerprint(config, train_split, valid_split)
    timeline.mark("trainer_built")

    history: list[dict] = []
    best_weights = {name: var.numpy() for name, var in model.weights.items()}
    saved = load_checkpoint(out, log)
    if _resumable(saved, fingerprint, trainer, config, out, log):
        progress, arrays = saved
        trainer.restore(arrays)
        best_weights = {name: arrays[f"best/{name}"] for name in best_weights}
        history = progress["history"]
        log(f"resuming after epoch {progress['epoch']} from {out / CHECKPOINT}")
    first_epoch = len(history) + 1

    batches = train_split.size // config.batch_size
    for epoch in range(first_epoch, config.epochs + 1):
        tick = time.perf_counter()
        order = epoch_order(config.seed, epoch, train_split.size)
        part_losses, hits = trainer.train_epoch(train_split.inputs, train_split.targets, order)
        check_finite(part_losses, trainer, epoch)
        valid_loss, valid_acc = trainer.evaluate(valid_split.inputs, valid_split.targets)
        seconds = time.perf_counter() - tick
        row = {"epoch": epoch, "train_loss": float(np.mean(part_losses[:, -1], dtype=np.float64)),
               "train_acc": float(np.sum(hits, dtype=np.float64) / (batches * config.batch_size)),
               "valid_loss": valid_loss, "valid_acc": valid_acc, "seconds": seconds}
        if not history or valid_acc > max(r["valid_acc"] for r in history):
            best_weights = {name: var.numpy() for name, var in model.weights.items()}
        history.append(row)
        save_checkpoint(out, trainer, epoch, history, best_weights, fingerprint)
        timeline.mark(f"epoch_{epoch}")
        log(f"epoch {epoch:3d}/{config.epochs}  train loss {row['train_loss']:.4f} "
            f"acc {row['train_acc']:.4f}  valid loss {valid_loss:.4f} acc {valid_acc:.4f}  "
            f"{seconds:7.2f} s  {batches * config.batch_size / seconds:8.1f} songs/s")

    weights = {name: var.numpy() for name, var in model.weights.items()}
    best = max(history, key=lambda row: row["valid_acc"])  # the earliest of equal ones
    record = {
        **(run_info or {}),
        "model": config.model,
        "hyperparameters": config.record(),
        "seed": config.seed,
        "train_songs": train_split.size,
        "valid_songs": valid_split.size,
        "batches_per_epoch": batches,
        "updates_per_epoch": batches * model.parts,
        "flops_per_song": model.flops_per_song(),
        "best_epoch": best["epoch"],
        "best_valid_acc": best["valid_acc"],
        "final_valid_acc": history[-1]["valid_acc"],
        "resumed_after_epoch": first_epoch - 1,
        "epoch_seconds_total": float(sum(row["seconds"] for row in history)),
        "wall_seconds_this_process": time.perf_counter() - started,
        "device": device_description(),
        "versions": package_versions(),
        "code": fingerprint["code"],
        "data_digest": fingerprint["data"],
        "threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                    "groups": trainer.groups},
        "platform": platform.platform(),
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(paths["weights"], npz_bytes(weights))
    atomic_write(paths["weights_best"], npz_bytes(best_weights))
    atomic_write(paths["history"], history_csv(history))
    atomic_write(paths["run"], (json.dumps(record, indent=2) + "\n").encode())
    if not keep_checkpoint:
        remove_checkpoint(out)
    timeline.mark("outputs_written")
    return history


def check_runs(seeds: list[int], outs: list[Path],
               outputs: dict[str, list[Path] | None] | None = None) -> None:
    """Raise ``ConfigError`` unless ``seeds`` are distinct, with one distinct ``outs``
    folder each and, for every output ``outputs`` names (``history``, ``run``, ...; None:
    not given), one path per seed, in the order of the seeds (the command line's form)."""
    if not seeds:
        raise ConfigError("no seed to train")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"a seed is given twice: {' '.join(map(str, seeds))}")
    given = {"out": outs, **{name: paths for name, paths in (outputs or {}).items()
                             if paths is not None}}
    for name, paths in given.items():
        if len(paths) != len(seeds):
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} "
                              f"({' '.join(map(str, seeds))}) but {len(paths)} {flag} "
                              f"path{'s' if len(paths) != 1 else ''}: give one {flag} per "
                              "seed, in the order of the seeds")
    if len({Path(out).resolve() for out in outs}) != len(outs):
        raise ConfigError(f"a --out folder is given twice: {' '.join(map(str, outs))}")


def run_paths(outs: list[Path], outputs: list[dict[str, Path | None]]
              ) -> list[dict[str, Path]]:
    """Every run's output paths (``output_paths`` of each ``outs[i]`` and ``outputs[i]``);
    ``ConfigError`` if two runs would write the same file."""
    paths = [output_paths(Path(out), given) for out, given in zip(outs, outputs, strict=True)]
    files = [path.resolve() for run in paths for path in run.values()]
    if len(set(files)) != len(files):
        twice = sorted({str(f) for f in files if files.count(f) > 1})
        raise ConfigError(f"an output path is given twice: {', '.join(twice)}; every "
                          "seed's outputs need paths of their own")
    return paths


def train_seeds(config: TrainConfig, seeds: list[int], train_split: Split,
                valid_split: Split, outs: list[Path], run_info: dict | None = None,
                log: Callable[[str], None] = print,
                outputs: list[dict[str, Path | None]] | None = None) -> list[list[dict]]:
    """``train`` ``config`` under each of ``seeds`` in turn, in this process: seed ``i``
    into ``outs[i]``, its outputs where ``outputs[i]`` names them (see ``output_paths``).

    The runs share one ``Session``: TensorFlow starts once and every seed after the first
    reuses the compiled step. Every seed's earlier outputs are removed first; each seed
    keeps its final checkpoint until the last seed's outputs are written, so that the
    same call after an interruption resumes the finished seeds from those (no epoch
    trained again) and the unfinished one from its last epoch. Returns the histories.
    """
    outputs = outputs or [{} for _ in seeds]
    check_runs(seeds, outs)
    if len(outputs) != len(seeds):
        raise ConfigError(f"{len(seeds)} seeds but outputs for {len(outputs)} runs")
    for path in (path for run in run_paths(outs, outputs) for path in run.values()):
        path.unlink(missing_ok=True)  # no earlier output passes for this call's
    session = Session()
    histories = []
    for number, (seed, out, given) in enumerate(zip(seeds, outs, outputs, strict=True), 1):
        if len(seeds) > 1:
            log(f"seed {seed} ({number} of {len(seeds)}) in {out}")
        histories.append(train(replace(config, seed=seed), train_split, valid_split, out,
                               run_info, log, given, session=session, keep_checkpoint=True))
    for out in outs:
        remove_checkpoint(out)
    return histories


def check_finite(part_losses: np.ndarray, trainer, epoch: int) -> None:
    """Stop on the first non-finite loss, naming epoch, batch and part."""
    bad = np.argwhere(~np.isfinite(part_losses))
    if len(bad) == 0 and all(np.isfinite(v.numpy()).all() for v in trainer.model.weights.values()):
        return
    where = ""
    if len(bad):
        batch, part = (int(i) + 1 for i in bad[0])
        where = f", batch {batch}, part {part} of {part_losses.shape[1]}"
    kept = f"the checkpoint of epoch {epoch - 1} is kept" if epoch > 1 else "no checkpoint yet"
    raise TrainingDiverged(f"loss became NaN or inf in epoch {epoch}{where}; stopped, {kept} "
                           "(try a smaller --learning-rate)")

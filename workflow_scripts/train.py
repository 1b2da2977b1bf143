"""Train a model of the study (a family of msdrnn.models) on a dataset.h5; resumable.

    python workflow_scripts/train.py --dataset results/data/dataset.h5 --steps 4 \\
        --state-size 341 --readout --epochs 50 --seed 0 --out results/rnn/seed_0
    python workflow_scripts/train.py --dataset results/data/dataset.h5 --model mlp \\
        --hparams results/mlp_search/best.json --set dropout=0.2 --out /tmp/mlp

A run's hyperparameters are its family's (``HPARAMS`` in ``msdrnn/models/NAME.py``): the
family's defaults, then the keys of ``--hparams FILE.json`` (other keys, such as a trial
number, are ignored), then every ``--set KEY=VALUE``; ``--steps``, ``--state-size`` and
``--readout`` are the RNN's shorthands for ``--set``.

Writes ``history.csv``, ``weights.npz``, ``weights_best.npz`` and ``run.json`` when the
last epoch is done, into ``--out`` or where ``--history``, ``--weights``,
``--weights-best`` and ``--run`` say, and a checkpoint after every epoch in
``--out/checkpoint/``; the same command run again after an interruption continues after
the last finished epoch. Bad input: exit code 2 and ``error: ...`` on stderr, before any
training. A diverging run: exit code 1.

Several seeds of the same run train one after the other in this one process, sharing
TensorFlow's start-up and the compiled step, each to the bits of a process of its own:

    python workflow_scripts/train.py --dataset results/data/dataset.h5 --model mlp \
        --hparams results/mlp_search/best.json --seed 1 2 3 \
        --out results/mlp/seed_1 results/mlp/seed_2 results/mlp/seed_3

``--seed S1 S2 ...`` (or ``--seed`` repeated) takes one ``--out`` folder per seed and, for
each of ``--history``, ``--run``, ``--weights`` and ``--weights-best`` that is given, one
path per seed, all in the order of the seeds (anything else: exit code 2 before
training). A finished seed keeps its checkpoint until the last seed is done, so the same
command after an interruption does not train it again.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import sys
import time
from dataclasses import MISSING, fields
from pathlib import Path
from types import SimpleNamespace

from msdrnn import timeline
from msdrnn.cli import run
from msdrnn.dataset_io import load_split, read_label_map
from msdrnn.errors import ConfigError, DataError
from msdrnn.models import available, family
from msdrnn.tensorflow_setup import import_tensorflow
from msdrnn.training import TrainConfig, check_runs, run_paths

log = logging.getLogger("train")


def training_defaults() -> SimpleNamespace:
    """``TrainConfig``'s field defaults, read without making one: a TrainConfig completes
    its (default: the RNN's) hyperparameters, which would load the RNN's family in every
    training job, a module the rules do not declare as a code input of another model's."""
    return SimpleNamespace(**{f.name: f.default for f in fields(TrainConfig)
                              if f.default is not MISSING})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; every default that decides the numbers is ``TrainConfig``'s."""
    defaults = training_defaults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, required=True,
                        help="dataset.h5 (train/valid[/test] inputs (N,120,25), targets)")
    parser.add_argument("--steps-file", type=Path,
                        help="per-step file to read the arrays from instead of --dataset")
    per_seed = {"type": Path, "nargs": "+", "action": "extend"}
    parser.add_argument("--out", **per_seed, required=True, metavar="DIR",
                        help="folder of the checkpoint/ and of every output not named by "
                             "the four flags below; one per seed")
    parser.add_argument("--history", **per_seed, help="history.csv (default: in --out)")
    parser.add_argument("--run", **per_seed, help="run.json (default: in --out)")
    parser.add_argument("--weights", **per_seed, help="weights.npz (default: in --out)")
    parser.add_argument("--weights-best", **per_seed,
                        help="weights_best.npz (default: in --out)")
    parser.add_argument("--model", choices=available(), default=defaults.model,
                        help="the model family (a module of msdrnn/models)")
    parser.add_argument("--hparams", type=Path,
                        help="JSON object with the family's hyperparameters (a search "
                             "trial's proposal.json or a search's best.json)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="one hyperparameter, overriding --hparams (repeatable)")
    parser.add_argument("--steps", type=int, help="RNN: segments per part (divides 120)")
    parser.add_argument("--state-size", type=int, help="RNN: state size")
    parser.add_argument("--readout", action=argparse.BooleanOptionalAction,
                        help="RNN: linear readout from the state (--no-readout: state size "
                             "= classes)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--seed", type=int, nargs="+", action="extend",
                        help=f"the run's seed (default {defaults.seed}); several: one run "
                             "each, one after the other in this process, in the order given")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--optimizer", choices=("adam",), default=defaults.optimizer)
    parser.add_argument("--threads", type=int, default=defaults.threads,
                        help="TensorFlow threads (default %(default)s: what measured fastest "
                             "for a lone job, perf/bench_train.py; a fixed number, since the "
                             "thread count may change the last bits). On several threads an "
                             "RNN of state size 100 or more trains each batch in one group of "
                             "songs per thread, side by side")
    args = parser.parse_args(argv)
    args.seed = args.seed or [defaults.seed]
    return args


OUTPUT_FLAGS = ("history", "run", "weights", "weights_best")


def planned_runs(args: argparse.Namespace) -> list[dict[str, Path | None]]:
    """Each seed's output paths as the command line names them (``ConfigError`` unless
    every per-seed flag has one value per seed and no two runs share a file)."""
    given = {name: getattr(args, name) for name in OUTPUT_FLAGS}
    check_runs(args.seed, args.out, given)
    outputs = [{name: paths[i] if paths else None for name, paths in given.items()}
               for i in range(len(args.seed))]
    run_paths(args.out, outputs)
    return outputs


def read_hparams(path: Path, model: str = "rnn") -> dict:
    """The hyperparameters of family ``model`` that a JSON file holds (a search trial's
    proposal.json, a search's best.json); other keys describe the file, not the run."""
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read hyperparameters ({err})") from None
    keys = family(model).HPARAMS
    if not isinstance(values, dict) or not set(values) & set(keys):
        raise ConfigError(f"{path}: expected a JSON object with one or more of the keys "
                          f"{sorted(keys)} (--model {model}); got {values!r}")
    return {key: value for key, value in values.items() if key in keys}


def parse_set(items: list[str], model: str) -> dict:
    """``--set KEY=VALUE`` items as typed values of family ``model``'s hyperparameters."""
    keys = family(model).HPARAMS
    values = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or key not in keys:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE with KEY one of "
                              f"{sorted(keys)} (--model {model})")
        kind = keys[key]
        try:
            if kind is bool and text.lower() not in ("true", "false"):
                raise ValueError(text)
            values[key] = text.lower() == "true" if kind is bool else kind(text)
        except ValueError:
            raise ConfigError(f"--set {item!r}: '{key}' must be {kind.__name__}") from None
    return values


def make_config(args: argparse.Namespace, classes: int) -> TrainConfig:
    """The run's settings: the family's defaults, --hparams, the RNN shorthands, --set."""
    values = read_hparams(args.hparams, args.model) if args.hparams else {}
    shorthands = {"steps": args.steps, "state_size": args.state_size, "readout": args.readout}
    given = {key: value for key, value in shorthands.items() if value is not None}
    if given and args.model != "rnn":
        raise ConfigError(f"--steps, --state-size and --readout are the RNN's; --model "
                          f"{args.model} takes --set KEY=VALUE")
    values.update(given)
    values.update(parse_set(args.set, args.model))
    config = TrainConfig(model=args.model, hparams=values, epochs=args.epochs, seed=args.seed[0],
                         batch_size=args.batch_size, learning_rate=args.learning_rate,
                         optimizer=args.optimizer, classes=classes, threads=args.threads)
    config.check()
    return config


def load_data(args: argparse.Namespace, classes: int) -> list:
    """The train and valid splits, checked against what the model expects."""
    source = args.steps_file or args.dataset
    splits = [load_split(source, name) for name in ("train", "valid")]
    for name, split in zip(("train", "valid"), splits, strict=True):
        if split.inputs.shape[1:] != (120, 25):
            raise DataError(f"{source}: '{name}/inputs' holds songs of shape "
                            f"{split.inputs.shape[1:]}; expected (120, 25)")
        if split.size == 0:
            raise DataError(f"{source}: '{name}' holds no songs")
        if split.targets.min() < 0 or split.targets.max() >= classes:
            raise DataError(f"{source}: '{name}/targets' outside 0..{classes - 1} "
                            f"(label_map has {classes} genres)")
    return splits


def main(argv: list[str] | None = None) -> int:
    """Check the input, then train; returns the exit code (bad input and divergence are
    raised as ``ConfigError``/``DataError``/``TrainingDiverged`` for ``cli.run``)."""
    timeline.mark("main")
    args = parse_args(argv)
    if args.threads < 1:
        raise ConfigError(f"--threads must be at least 1; got {args.threads}")
    outputs = planned_runs(args)
    label_map = read_label_map(args.dataset)
    config = make_config(args, classes=len(label_map))
    train_split, valid_split = load_data(args, config.classes)
    timeline.mark("data_read")
    if train_split.size < config.batch_size:
        raise DataError(f"only {train_split.size} training songs: fewer than one batch "
                        f"of {config.batch_size}")

    # TensorFlow after the checks, so bad input fails fast
    import_tensorflow()
    from msdrnn.training import train_seeds
    from msdrnn.updates import set_threads

    timeline.mark("tensorflow_imported")
    set_threads(config.threads, config.groups)

    run_info = {"command": sys.argv, "dataset": str(args.dataset),
                "steps_file": str(args.steps_file) if args.steps_file else None,
                "label_map": label_map, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    train_seeds(config, args.seed, train_split, valid_split, args.out, run_info,
                log=log_line, outputs=outputs)
    timeline.write()
    return 0


def log_line(line: str) -> None:
    """The trainer's progress lines (one per epoch, resume notes), through logging."""
    log.info(line)


def exit_now(code: int) -> None:
    """End the process once its exit handlers ran, skipping the interpreter's teardown of
    TensorFlow's modules: that took seconds per job (perf/bench_overhead.py, "exit"), and
    every output is written and closed by then."""
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(run(main))

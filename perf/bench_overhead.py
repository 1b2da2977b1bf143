"""What a training job costs beyond its training: start-up, compilation and I/O, per rule shape.

    python perf/bench_overhead.py                       # 3 runs of 4 epochs per shape
    python perf/bench_overhead.py --runs 5 --shapes grid_60 trial --json /tmp/after.json

Builds the default config's data set once with the workflow itself (``generate_synthetic``,
``prepare_dataset`` and ``make_steps`` in a scratch copy, ``--scratch``), then runs
``workflow_scripts/train.py`` as the rules do, for a few epochs, for each training rule's
shape of ``config.yaml``: the baseline (state 10, steps 6), grid jobs (state 10 at steps 2,
6, 20 and 60), a search trial or best run of the size the search finds (state 236, steps 2,
readout, 2 threads: one group of songs per thread), and the feedforward network. The shapes
run round-robin, so that a change of the machine's load hits them all alike, and each round
also times ``python -c "import tensorflow"`` as the reference the target is stated against:
a training job should cost its training, plus that, plus at most 1.5 s.

Each job runs with ``MSDRNN_TIMELINE`` set (``msdrnn/timeline.py``), so it records when it
entered ``main``, read the data, had TensorFlow and the trainer imported, built the trainer,
wrote each epoch's checkpoint and the outputs. Per shape, the medians over the runs:

- wall: the process, from outside;
- steady epoch: history.csv's ``seconds`` of epochs 2.., and training: epochs x that;
- compile: the first epoch's excess over a steady one (tracing and XLA compilation);
- imports: interpreter start to ``main``, plus the imports after the data checks
  (TensorFlow and the training modules);
- data read, setup (seeding, weights, trainer, fingerprint), checkpoints + outputs
  (writing them), exit (after the outputs until the process is gone);
- beyond import: wall minus training minus the reference ``import tensorflow`` process.

Prints a Markdown table and the load average before and after; ``--json`` keeps every run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "perf"))
sys.path.insert(0, str(ROOT / "workflow_scripts"))

from bench_resources import copy_workflow  # noqa: E402

from msdrnn.provenance import cpu_model  # noqa: E402

# name -> (rule, train.py's model flags, threads, steps file or None)
SHAPES = {
    "baseline": ("baseline_train", "--steps 6 --state-size 10 --no-readout", 1, 6),
    "grid_2": ("grid_train", "--steps 2 --state-size 10 --no-readout", 1, 2),
    "grid_6": ("grid_train", "--steps 6 --state-size 10 --no-readout", 1, 6),
    "grid_20": ("grid_train", "--steps 20 --state-size 10 --no-readout", 1, 20),
    "grid_60": ("grid_train", "--steps 60 --state-size 10 --no-readout", 1, 60),
    "trial": ("search_trial / model_train (rnn)", "--steps 2 --state-size 236 --readout", 2,
              None),
    "mlp": ("search_trial / model_train (mlp)",
            "--model mlp --set width=512 --set depth=2 --set dropout=0.2", 2, None),
    "cnn": ("search_trial / model_train (cnn)",
            "--model cnn --set channels=32 --set kernel=5 --set layers=2 --set dropout=0.2", 2,
            None),
    # the same two on one thread, as config.yaml's models.{mlp,cnn}.threads runs their trials
    "mlp_1": ("search_trial (mlp, 1 thread)",
              "--model mlp --set width=512 --set depth=2 --set dropout=0.2", 1, None),
    "cnn_1": ("search_trial (cnn, 1 thread)",
              "--model cnn --set channels=32 --set kernel=5 --set layers=2 --set dropout=0.2", 1,
              None),
}
COLUMNS = ["wall", "training", "steady_epoch", "compile", "imports", "data_read", "setup",
           "checkpoints_outputs", "exit", "beyond_import"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/msdrnn-bench-overhead"),
                        help="workflow copy and data set (kept and reused)")
    parser.add_argument("--runs", type=int, default=3, help="runs per shape")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (at least 2)")
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument("--json", type=Path, help="write every run's numbers here")
    return parser.parse_args(argv)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def build_data(scratch: Path, steps: set[int]) -> None:
    """The default config's data set and per-step files, made by the workflow's own rules."""
    copy_workflow(scratch)
    targets = ["results/data/dataset.h5", *(f"results/data/steps_{s}.h5" for s in sorted(steps))]
    if all((scratch / t).is_file() for t in targets):
        return
    subprocess.run(["snakemake", "--cores", "2", *targets], cwd=scratch, check=True,
                   stdout=subprocess.DEVNULL)


def job_env() -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("MSDRNN_TIMELINE", None)
    return env


def import_reference(scratch: Path) -> float:
    """Wall seconds of a process that only imports TensorFlow."""
    tick = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], cwd=scratch, env=job_env(),
                   check=True, capture_output=True)
    return time.perf_counter() - tick


def run_job(scratch: Path, name: str, epochs: int, run: int) -> dict:
    """One training job as its rule runs it; its phases in seconds."""
    _, flags, threads, steps = SHAPES[name]
    out = scratch / "runs" / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    timeline = out.parent / f"{name}.timeline.json"
    steps_flag = f"--steps-file results/data/steps_{steps}.h5 " if steps else ""
    command = (f"{sys.executable} workflow_scripts/train.py --dataset results/data/dataset.h5 "
               f"{steps_flag}--epochs {epochs} --seed {run} --batch-size 50 "
               f"--learning-rate 0.001 --optimizer adam --threads {threads} --out {out} "
               f"{flags}").split()
    env = dict(job_env(), MSDRNN_TIMELINE=str(timeline))
    started = time.time()
    result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True)
    ended = time.time()
    if result.returncode:
        sys.exit(f"{name}: train.py failed:\n{result.stderr[-3000:]}")
    with open(out / "history.csv") as f:
        seconds = [float(row["seconds"]) for row in csv.DictReader(f)]
    record = json.loads(timeline.read_text())
    marks = dict(record["marks"])
    start = record["process_start"] or started
    steady = statistics.median(seconds[1:])
    epoch_marks = [marks[f"epoch_{e}"] for e in range(1, epochs + 1)]
    after_epochs = sum(b - a for a, b in zip([marks["trainer_built"], *epoch_marks[:-1]],
                                               epoch_marks, strict=True)) - sum(seconds)
    phases = {
        "wall": ended - started,
        "training": epochs * steady,
        "steady_epoch": steady,
        "compile": seconds[0] - steady,
        "imports": (marks["main"] - start) + (marks["imported"] - marks["data_read"]),
        "data_read": marks["data_read"] - marks["main"],
        "setup": marks["trainer_built"] - marks["imported"],
        "checkpoints_outputs": after_epochs + marks["outputs_written"] - epoch_marks[-1],
        "exit": ended - marks["outputs_written"],
    }
    return phases


def table(runs: dict[str, list[dict]], reference: list[float]) -> str:
    ref = statistics.median(reference)
    header = ("| shape (rule) | wall | training | steady epoch | compile (1st epoch excess) | "
              "imports | data read | setup | checkpoints + outputs | exit | beyond training "
              "+ `import tensorflow` |")
    lines = [header, "|" + "---|" * 11]
    for name, rows in runs.items():
        for row in rows:
            row["beyond_import"] = row["wall"] - row["training"] - ref
        med = {c: statistics.median(r[c] for r in rows) for c in COLUMNS}
        cells = [f"{med[c]:.2f}" for c in COLUMNS]
        lines.append(f"| {name} ({SHAPES[name][0]}) | " + " | ".join(cells) + " |")
    lines.append(f"\nSeconds, medians of {len(next(iter(runs.values())))} runs; reference "
                 f"`python -c \"import tensorflow\"`: {ref:.2f} s (median of {len(reference)}).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.epochs < 2:
        sys.exit("--epochs must be at least 2 (the steady epoch is the median of epochs 2..)")
    scratch = args.scratch.resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    build_data(scratch, {SHAPES[s][3] for s in args.shapes if SHAPES[s][3]})
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"load average before: {load()}")
    runs: dict[str, list[dict]] = {name: [] for name in args.shapes}
    reference: list[float] = []
    for run in range(args.runs):
        reference.append(import_reference(scratch))
        for name in args.shapes:
            runs[name].append(run_job(scratch, name, args.epochs, run))
            print(f"  run {run + 1}/{args.runs} {name}: {runs[name][-1]['wall']:.1f} s",
                  file=sys.stderr)
    print(f"load average after: {load()}\n")
    print(table(runs, reference))
    if args.json:
        args.json.write_text(json.dumps({"load_after": load(), "reference": reference,
                                         "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

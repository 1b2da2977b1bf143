"""What several test files share: the repository root, the one Snakemake runner and its
dry-run parser, the smoke study (made once per session by ``conftest.smoke_study``) and
cheap copies of it, script runners, DataConfig builders and small dataset.h5 files. Test
files import this module (and ``msd_files``, the MSD-file builders), never each other."""

from __future__ import annotations

import atexit
import importlib
import io
import itertools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import chdir, contextmanager, redirect_stderr
from dataclasses import dataclass, replace
from pathlib import Path

import h5py
import numpy as np
import yaml

from msdrnn import cli
from msdrnn.dataset import DataConfig, prepare_dataset
from msdrnn.dataset_io import SPLITS, Fingerprint, load_split
from msdrnn.study import GENRES as STUDY_GENRES
from msdrnn.synthetic import LABEL_FILE, SignalModel, generate_tree

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow_scripts"
GENRES = list(STUDY_GENRES)


def workflow_config(name: str = "configs/smoke.yaml") -> dict:
    """The config Snakemake runs with ``--configfile name``: config.yaml (the Snakefile's
    ``configfile:``) updated section by section with ``name``'s keys, as Snakemake merges
    them (nested dicts key by key, everything else replaced)."""

    def update(base: dict, changes: dict) -> dict:
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                update(base[key], value)
            else:
                base[key] = value
        return base

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    return update(config, yaml.safe_load((ROOT / name).read_text()))


WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "workflow_scripts", "configs",
                  "schemas", "report", "envs", "profiles")


def checkpoint_epoch(out: Path) -> int:
    """The last finished epoch in ``out/checkpoint`` (0: no readable checkpoint), as a
    training run in progress leaves it."""
    try:
        with np.load(out / "checkpoint" / "checkpoint.npz") as saved:
            return json.loads(str(saved["progress_json"]))["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def copy_repo(dest: Path, source: Path = ROOT) -> Path:
    """The workflow's files of ``source`` (no results, no .snakemake) in `dest`, for a
    Snakemake run whose results are never shared with another test. Copies keep their
    modification times, which Snakemake compares with the results'."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


# ------------------------------------------------ what the tests know of the workflow
# Rule names and result folders the end-to-end tests refer to, in one place, so that a
# renamed rule or folder is re-pointed here (test_workflow.py checks these sets against a
# dry run of the workflow, so a stale name fails there first, with the names to use).

SMOKE = "configs/smoke.yaml"
SCRIPTS_FOLDER = "workflow_scripts"
FAMILIES = f"{SCRIPTS_FOLDER}/msdrnn/models"  # the registry: one module per model family
RNN_FAMILY = f"{FAMILIES}/rnn.py"  # the study's model: every RNN training job loads it
MLP_FAMILY = f"{FAMILIES}/mlp.py"
SHARED_LAYERS = f"{FAMILIES}/layers.py"  # every family loads it
JOB_SIZING = f"{SCRIPTS_FOLDER}/msdrnn/resources.py"  # imported by the rules, by no job
TRAIN_RULES = frozenset({"baseline_train", "grid_train", "search_trial", "model_train",
                         "shuffled_train"})
DATA_RULES = frozenset({"generate_synthetic", "prepare_dataset", "make_steps"})
MODEL_TRAIN = "model_train"  # every listed model's confirmation runs ({model} wildcard)
SHUFFLED_TRAIN = "shuffled_train"  # a model's runs on the shuffled-segment songs
SEARCH_RULES = frozenset({"search_propose", "search_trial", "search_collect", "plot_search"})
# the study-wide tables and figure: every model's runs feed them
SUMMARY_RULES = frozenset({"write_summary", "collect_runs", "plot_controls"})
PLOT_RULES = frozenset({"plot_run", "plot_grid", "plot_search", "plot_confusion",
                        "plot_controls"})
# The models the smoke study compares (config.yaml's models: merged with the smoke
# config's), and those of them also trained on shuffled segments.
SMOKE_MODELS = ("rnn", "mlp", "cnn")
SHUFFLED_MODELS = ("rnn", "cnn")


def search_folder(model: str) -> str:
    """A model's Bayesian search: trial_{i:03d}/, trials.csv, best.json."""
    return f"results/{model}_search"


def runs_folder(model: str) -> str:
    """A model's confirmation runs: seed_{S}/."""
    return f"results/{model}"


def shuffled_folder(model: str) -> str:
    """A model's runs on the shuffled-segment songs (a control): seed_{S}/."""
    return f"results/controls/shuffled_{model}"


RNN_SEARCH = search_folder("rnn")
RNN_RUNS = runs_folder("rnn")
MLP_SEARCH = search_folder("mlp")
MLP_RUNS = runs_folder("mlp")
SHUFFLED_RNN_RUNS = shuffled_folder("rnn")
# The smoke study runs in two invocations, the first stopped after this file, so that
# the proposals of an interrupted search can be checked (test_workflow.py).
FIRST_INVOCATION_TARGET = f"{RNN_SEARCH}/trial_000/history.csv"


# ---------------------------------------------------------------- running Snakemake


SNAKEMAKE = (sys.executable, "-m", "snakemake")  # this Python's Snakemake, found without PATH


def snakemake_command(*args: str, configfile: str | Path | None = SMOKE,
                      cores: int | None = 2) -> list[str]:
    """The command line of a Snakemake run: this Python's Snakemake (found without PATH,
    which some tests replace) with ``args``, then ``--cores`` unless None (a profile sets
    its own) and the config file (by default the smoke study's) unless None (then
    config.yaml alone)."""
    command = [*SNAKEMAKE, *args]
    if cores is not None:
        command += ["--cores", str(cores)]
    if configfile is not None:  # last: --configfile takes every value that follows it
        command += ["--configfile", str(configfile)]
    return command


class SnakemakeForks:
    """tests/snakemake_forks.py, started on first use in this process: it imported
    Snakemake once and forks a child per run (the import is about 1 s of a 2 s dry run).
    Runs from several threads overlap."""

    _started: SnakemakeForks | None = None
    _starting = threading.Lock()

    @classmethod
    def get(cls) -> SnakemakeForks:
        with cls._starting:
            if cls._started is None or cls._started.ended:
                cls._started = cls()
            return cls._started

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).with_name(
            "snakemake_forks.py"))], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lock = threading.Lock()
        self.ids = itertools.count()
        self.replies: dict[int, queue.SimpleQueue] = {}
        self.ended = False  # its replies ended (it exited): a new run needs a new one
        threading.Thread(target=self._read_replies, daemon=True).start()
        atexit.register(self.close)

    def close(self) -> None:
        """End it once its runs have ended, and collect it (its CPU time then counts
        towards this process's children, as a subprocess's would)."""
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _read_replies(self) -> None:
        for line in self.process.stdout:
            reply = json.loads(line)
            self.replies[reply["id"]].put(reply)
        with self.lock:  # it ended: nobody waits forever, and no run is sent to it
            self.ended = True
            for replies in self.replies.values():
                replies.put({"ended": True})

    def run(self, command: list[str], cwd: Path, env: dict | None,
            timeout: float | None) -> subprocess.CompletedProcess:
        """``command`` (``python -m snakemake ARGS``) as subprocess.run(..., text=True,
        capture_output=True) would run it."""
        if not Path(cwd).is_dir():
            raise FileNotFoundError(f"no such directory: {cwd}")
        if tuple(command[:len(SNAKEMAKE)]) != SNAKEMAKE:
            raise ValueError(f"not a snakemake_command: {command}")
        with tempfile.TemporaryDirectory(prefix="snakemake-run-") as tmp:
            replies: queue.SimpleQueue = queue.SimpleQueue()
            with self.lock:
                if self.ended:
                    raise RuntimeError("tests/snakemake_forks.py ended before this run")
                run_id = next(self.ids)
                self.replies[run_id] = replies
                request = {"id": run_id, "args": command[len(SNAKEMAKE):], "cwd": str(cwd),
                           "env": dict(os.environ if env is None else env),
                           "stdout": f"{tmp}/stdout", "stderr": f"{tmp}/stderr"}
                try:
                    self.process.stdin.write((json.dumps(request) + "\n").encode())
                    self.process.stdin.flush()
                except BrokenPipeError as error:
                    self.replies.pop(run_id)
                    raise RuntimeError("tests/snakemake_forks.py ended before this run"
                                       ) from error
            try:
                started = replies.get()
                try:
                    ended = started if "ended" in started else replies.get(timeout=timeout)
                except queue.Empty:
                    os.kill(started["pid"], signal.SIGKILL)
                    replies.get()
                    raise subprocess.TimeoutExpired(command, timeout) from None
            finally:
                self.replies.pop(run_id)
            if "ended" in ended:
                raise RuntimeError("tests/snakemake_forks.py ended before its run did")
            return subprocess.CompletedProcess(command, ended["returncode"],
                                               Path(tmp, "stdout").read_text(),
                                               Path(tmp, "stderr").read_text())


def snakemake(workdir: Path, *args: str, configfile: str | Path | None = SMOKE,
              cores: int | None = 2, env: dict | None = None, check: bool = True,
              timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` (output captured): the one way the tests run it,
    through SnakemakeForks (the same command line as ``snakemake_command``'s, in a child
    that skips the import). ``check``: a failed run raises AssertionError with the end of
    its output."""
    result = SnakemakeForks.get().run(
        snakemake_command(*args, configfile=configfile, cores=cores), workdir, env, timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed in {workdir}:\n"
                             f"{(result.stdout + result.stderr)[-4000:]}")
    return result


@dataclass(frozen=True)
class PlannedJob:
    """One job of a dry run (``snakemake -n -p``), as Snakemake prints it."""

    rule: str
    local: bool  # a `localrule`: never submitted to a cluster
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]  # sorted: a job is named by its outputs
    script: str | None  # the workflow script its command runs (file name), if any
    model: str | None  # its --model, for the scripts whose code inputs depend on it
    reason: str
    resources: str


# The scripts whose code inputs are their imports plus the family of their --model
# (rules/common.smk's code_inputs(script, model)): their jobs load different files.
MODEL_SCRIPTS = frozenset({"train.py", "evaluate.py"})


def script_model(script: str | None, arguments: str) -> str | None:
    """The --model a job of ``script`` runs (None: a script not in MODEL_SCRIPTS, or no
    --model given), read from its command line's ``arguments``."""
    model = re.search(r"--model[ =](\w+)", arguments)
    return model[1] if script in MODEL_SCRIPTS and model else None


def parse_jobs(text: str) -> list[PlannedJob]:
    """The job blocks of Snakemake's output (``rule NAME:`` and its indented fields, then
    with ``-p`` the shell command), in the order printed. A block runs to the next ``rule``
    line: Snakemake 9 does not always leave a blank line between jobs."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:$)", text, flags=re.M):
        rule = re.search(r"^(local)?rule (\w+):$", block, flags=re.M)
        if not rule:
            continue
        field = {name: value for name, value in
                 re.findall(r"^\s+(\w+): (.*)$", block, flags=re.M)}.get
        script = re.search(rf"python (?:\S*/)?{SCRIPTS_FOLDER}/(\w+\.py)(.*)", block)
        jobs.append(PlannedJob(
            rule=rule[2], local=bool(rule[1]),
            inputs=tuple(field("input").split(", ")) if field("input") else (),
            outputs=tuple(sorted(field("output").split(", "))) if field("output") else (),
            script=script[1] if script else None,
            model=script_model(script[1], script[2]) if script else None,
            reason=field("reason", ""),
            resources=field("resources", "")))
    return jobs


def dry_run(workdir: Path, *args: str, **options) -> list[PlannedJob]:
    """The jobs ``snakemake -n`` plans in ``workdir`` (options as for ``snakemake``). A dry
    run writes no result and no record, only Snakemake's I/O cache
    (.snakemake/iocache), so it needs no copy of a shared study."""
    result = snakemake(workdir, "-n", "-p", *args, **options)
    return parse_jobs(result.stdout + result.stderr)


def planned_jobs(workdir: Path, *args: str, **options) -> Counter:
    """Rule -> number of jobs a dry run plans (empty: nothing to be done)."""
    return Counter(job.rule for job in dry_run(workdir, *args, **options))


# ---------------------------------------------------------------- the smoke study

# Installed through PYTHONPATH for the smoke study's jobs: at exit, a workflow script
# appends its arguments and the project files it loaded to $MSDRNN_LOADED_MODULES, one
# JSON line per process (test_code_inputs.py compares them with the code inputs the rules
# declare).
RECORDER = textwrap.dedent('''
    import atexit
    import json
    import os
    import sys


    def _record():
        scripts = os.path.realpath(os.environ["MSDRNN_SCRIPTS_DIR"])
        script = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        if os.path.dirname(script) != scripts:
            return
        loaded = sorted({
            os.path.relpath(os.path.realpath(module.__file__), os.path.dirname(scripts))
            for module in list(sys.modules.values())
            if getattr(module, "__file__", None)
            and os.path.realpath(module.__file__).startswith(scripts + os.sep)
        })
        line = json.dumps({"script": os.path.basename(script), "arguments": sys.argv[1:],
                           "loaded": loaded})
        with open(os.environ["MSDRNN_LOADED_MODULES"], "a") as f:
            f.write(line + "\\n")


    atexit.register(_record)
''')


@dataclass(frozen=True)
class SmokeStudy:
    """A finished smoke study, shared by every test that only reads it."""

    workdir: Path
    # (script, its --model for MODEL_SCRIPTS else None) -> project files its jobs loaded
    # (union): a training job loads its own model family only
    loaded: dict[tuple[str, str | None], frozenset[str]]
    state: dict[str, tuple[int, int]]  # study_state() when it finished


def study_state(workdir: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file of the study's workflow and results: what a test that
    changed the shared study would have changed."""
    files = [path for name in (*WORKFLOW_FILES, "results")
             for path in ([workdir / name] if (workdir / name).is_file()
                          else (workdir / name).rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts]
    return {path.relative_to(workdir).as_posix(): (path.stat().st_size,
                                                   path.stat().st_mtime_ns)
            for path in files}


def make_smoke_study(workdir: Path, recorder: Path) -> SmokeStudy:
    """The smoke study, run in a copy of the repository in two invocations (the first
    stopped after FIRST_INVOCATION_TARGET), every workflow script recording the project
    files it loaded (RECORDER, installed in ``recorder``)."""
    copy_repo(workdir)
    recorder.mkdir(parents=True, exist_ok=True)
    (recorder / "sitecustomize.py").write_text(RECORDER)
    record = recorder / "loaded.jsonl"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(recorder),
                                                       os.environ.get("PYTHONPATH")])),
           "MSDRNN_SCRIPTS_DIR": str(workdir / SCRIPTS_FOLDER),
           "MSDRNN_LOADED_MODULES": str(record)}
    snakemake(workdir, FIRST_INVOCATION_TARGET, env=env)
    assert not (workdir / FIRST_INVOCATION_TARGET).parent.with_name("trial_001").exists()
    snakemake(workdir, env=env)
    loaded: dict[tuple[str, str | None], set[str]] = {}
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        key = (entry["script"], script_model(entry["script"], " ".join(entry["arguments"])))
        loaded.setdefault(key, set()).update(entry["loaded"])
    return SmokeStudy(workdir, {key: frozenset(files) for key, files in loaded.items()},
                      study_state(workdir))


def copy_study(study: Path, dest: Path, linked: Iterable[str] = ("results",),
               copied: Iterable[str] = ()) -> Path:
    """A copy of a finished study that a test may change, in milliseconds: the workflow's
    files and Snakemake's records (.snakemake) copied, keeping their modification times;
    the ``linked`` folders hard-linked (``cp -al``: the same files, so the same mtimes,
    which is all Snakemake compares). A hard-linked file must never be rewritten in place
    (that would change the shared study): a job that runs truncates its log (``> {log}``),
    so leave the folders of the jobs a test runs out of ``linked``, and give them in
    ``copied`` (``cp -a``: files of their own, same mtimes; the smoke study's results/ is
    about 45 MB, a fifth of a second)."""
    copy_repo(dest, source=study)
    shutil.copytree(study / ".snakemake", dest / ".snakemake", symlinks=True,
                    ignore=shutil.ignore_patterns("locks", "incomplete"))
    for name, flags in [*((name, "-al") for name in linked),
                        *((name, "-a") for name in copied)]:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", flags, str(study / name), str(dest / name)], check=True)
    return dest


def run_script(name: str, *args: object, cwd: Path | None = None,
               check: bool = False) -> subprocess.CompletedProcess:
    """Run ``workflow_scripts/<name>`` with ``args`` as its command line, output captured."""
    return subprocess.run([sys.executable, SCRIPTS / name, *map(str, args)], cwd=cwd,
                          check=check, capture_output=True, text=True)


def run_main(name: str, *args: object, cwd: Path | None = None) -> tuple[int, str]:
    """Run workflow script ``name``'s ``main`` in this process, through ``cli.run`` as its
    command line does, in folder ``cwd``: its exit code (argparse's 2 included) and what it
    wrote to stderr. A script this process has imported once costs no interpreter start
    and no imports again (about 1 s a script); the smoke study runs every script through
    its real command line. Only for scripts that never import TensorFlow."""
    module = importlib.import_module(name.removesuffix(".py"))
    stderr = io.StringIO()
    with chdir(cwd or Path.cwd()), redirect_stderr(stderr):
        try:
            code = cli.run(module.main, [str(arg) for arg in args])
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
    return code, stderr.getvalue()


def msd_config(root: Path, genres: tuple[str, ...] | list[str], **changes) -> DataConfig:
    """The data settings of a small MSD tree made by ``msd_files.make_tree`` in ``root``
    (labels in ``root/labels.cls``): 4 train+valid and 1 test track per genre, one worker."""
    values = dict(source="msd_h5", msd_root=str(root), labels=str(root / "labels.cls"),
                  genres=tuple(genres), per_genre=4, per_genre_test=1, workers=1)
    return DataConfig(**(values | changes))


def npz_config(folder: Path, **changes) -> DataConfig:
    """The data settings that read the course's npz files from ``folder``."""
    return DataConfig(**({"source": "npz", "npz_dir": str(folder)} | changes))


def synthetic_dataset(folder: Path, per_genre: int, seed: int = 0,
                      order_only: bool = False) -> Path:
    """dataset.h5 built by the project's own generator and preparation (order-carrying).

    ``order_only``: no per-genre shift of the segment means, so only the order of a song's
    segments tells its genre.
    """
    tree = folder / "tree"
    signal = replace(SignalModel(), genre_shift=0.0) if order_only else SignalModel()
    generate_tree(tree, GENRES, per_genre + per_genre // 5 + 10, seed=seed, workers=2,
                  model=signal)
    out = folder / "dataset.h5"
    prepare_dataset(DataConfig(source="synthetic", msd_root=str(tree),
                               labels=str(tree / LABEL_FILE), genres=tuple(GENRES),
                               per_genre=per_genre, per_genre_test=per_genre // 5,
                               seed=seed, workers=2), out)
    return out


def write_dataset(path: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]],
                  label_map=GENRES) -> Path:
    """A dataset.h5 in the project layout from (inputs, targets) per split (no fingerprint)."""
    with h5py.File(path, "w") as f:
        for name, (inputs, targets) in splits.items():
            group = f.create_group(name)
            group["inputs"] = inputs
            group["targets"] = targets
            group["track_ids"] = np.array([f"TR{i:016d}" for i in range(len(targets))],
                                          dtype="S18")
        f["label_map"] = np.array([g.encode() for g in label_map])
        f["mean"] = np.zeros((120, 25), np.float32)
        f["std"] = np.ones((120, 25), np.float32)
    return path


def random_dataset(path: Path, train: int = 100, valid: int = 50, seed: int = 0) -> Path:
    """A tiny dataset.h5 of noise (for input checks and bookkeeping, not learning)."""
    rng = np.random.default_rng(seed)
    return write_dataset(path, {
        name: (rng.standard_normal((n, 120, 25)).astype(np.float32),
               rng.integers(0, 10, n).astype(np.int64))
        for name, n in (("train", train), ("valid", valid))})


def genre_mean_dataset(path: Path, songs: dict[str, int], seed: int = 0) -> Path:
    """A small dataset.h5 whose genre k raises the song mean of feature k (songs per split)."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        f.attrs["source"] = "test"
        f.attrs["fingerprint"] = "sha256:test"
        f.create_dataset("label_map", data=GENRES, dtype=h5py.string_dtype())
        f.create_dataset("mean", data=np.zeros((120, 25), np.float32))
        f.create_dataset("std", data=np.ones((120, 25), np.float32))
        for name, n in songs.items():
            targets = np.arange(n) % 10
            inputs = rng.normal(size=(n, 120, 25)).astype(np.float32)
            inputs[np.arange(n), :, targets] += 0.5
            group = f.create_group(name)
            group.create_dataset("inputs", data=inputs)
            group.create_dataset("targets", data=targets)
            group.create_dataset("track_ids", data=[f"T{i}" for i in range(n)],
                                 dtype=h5py.string_dtype())
    return path


def shuffled_segments(dataset: Path, out: Path, seed: int = 0) -> Path:
    """A copy of ``dataset`` with every song's segments in a random order: no order left."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name in ("train", "valid"):
        split = load_split(dataset, name)
        order = np.argsort(rng.random(split.inputs.shape[:2]), axis=1)
        splits[name] = (np.take_along_axis(split.inputs, order[:, :, None], axis=1),
                        split.targets)
    return write_dataset(out, splits)


def recomputed_fingerprint(path: Path) -> str:
    """The fingerprint of what a dataset.h5 holds, hashed again from the stored arrays
    (independently of the writer, to check the one it recorded)."""
    fingerprint = Fingerprint()
    with h5py.File(path) as f:
        fingerprint.texts("label_map", f["label_map"].asstr()[()])
        for key in ("mean", "std"):
            fingerprint.array(key, f[key][()])
        for split in (s for s in SPLITS if s in f):
            fingerprint.array(f"/{split}/inputs", f[split]["inputs"][()])
            fingerprint.array(f"/{split}/targets", f[split]["targets"][()])
            fingerprint.texts(f"/{split}/track_ids", f[split]["track_ids"].asstr()[()])
    return fingerprint.hexdigest()


# ---------------------------------------------------------------- the SLURM study

CLUSTER_SCRIPT = ROOT / "tools" / "local_slurm.sh"
SLURM_FIXTURE = "slurm_study_started"  # conftest.py's fixture: the SLURM study, started
SLURM_GROUP = "slurm"  # the xdist group of tests/test_slurm.py: one worker starts the cluster
# The profile checks a job's status 20 s after submission, then every 30, 40, ... s; the
# smoke study's jobs take 10-30 s, which a first check after 5 s (then 20, 45 s) suits.
FAST_STATUS = ("--slurm-init-seconds-before-status-checks", "5")
# a guard against a hung cluster, not a speed check: the smoke study's ~45 submitted jobs
# took about 7 minutes through the one-node cluster on 2 cores beside other tests
SLURM_RUN_TIMEOUT_S = 1200


def slurm_enabled() -> bool:
    """Whether this session starts a SLURM cluster on localhost (.ci/run sets it)."""
    return os.environ.get("MSDRNN_SLURM_TEST") == "1"


def output_text(result: subprocess.CompletedProcess) -> str:
    return (result.stdout or "") + (result.stderr or "")


@contextmanager
def with_local_slurm() -> Iterator[dict]:
    """A running one-node SLURM cluster with one placeholder GPU (tools/local_slurm.sh
    installs SLURM with apt-get if needed); stopped again on exit if started here."""
    if os.geteuid() != 0:
        raise AssertionError("MSDRNN_SLURM_TEST=1 needs root: tools/local_slurm.sh starts "
                             "munged, slurmctld and slurmd")
    state_dir = Path(os.environ.get("SLURM_LOCAL_DIR", "/tmp/msdrnn-slurm"))
    env = {**os.environ, "SLURM_LOCAL_DIR": str(state_dir), "SLURM_LOCAL_GPUS": "1"}

    def call(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(CLUSTER_SCRIPT), *args], env=env,
                              capture_output=True, text=True, timeout=timeout)

    if any(shutil.which(c) is None for c in ("munged", "slurmctld", "slurmd", "sbatch")):
        installed = call("install")
        assert installed.returncode == 0, f"installing SLURM failed:\n{output_text(installed)}"
    already_up = call("status").returncode == 0
    if not already_up:
        started = call("start", timeout=180)
        if started.returncode != 0:
            call("stop")
            raise AssertionError(f"could not start the SLURM cluster:\n{output_text(started)}")
    try:
        yield {"dir": state_dir, "conf": state_dir / "etc" / "slurm.conf"}
    finally:
        if not already_up:
            stopped = call("stop")
            assert stopped.returncode == 0, output_text(stopped)


class BackgroundSnakemake:
    """A Snakemake run started now and waited for later. Its output goes to a file (a
    pipe nobody reads would stop it once full); it runs in its own process group, which
    ``stop`` ends."""

    def __init__(self, workdir: Path, *args: str, log: Path, env: dict, timeout: float,
                 **options) -> None:
        self.workdir, self.log, self.env = workdir, log, env
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        with log.open("w") as out:
            self.process = subprocess.Popen(snakemake_command(*args, **options), cwd=workdir,
                                            env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def result(self) -> tuple[int, str]:
        """Its exit code and output, once it ends (AssertionError past the timeout)."""
        try:
            self.process.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"snakemake in {self.workdir} still ran at its timeout; "
                                 f"output:\n{self.log.read_text()[-4000:]}") from None
        return self.process.returncode, self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_slurm_study(workdir: Path, cluster: dict) -> BackgroundSnakemake:
    """The smoke study through ``--profile profiles/slurm`` in a copy of the repository,
    started in the background."""
    copy_repo(workdir)
    env = {**os.environ, "SLURM_CONF": str(cluster["conf"]), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("MSDRNN_SLURM_TEST", None)
    return BackgroundSnakemake(workdir, "--profile", "profiles/slurm", *FAST_STATUS,
                               log=workdir.parent / "slurm-run.log", env=env,
                               timeout=SLURM_RUN_TIMEOUT_S, cores=None)

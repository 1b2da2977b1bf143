"""What several test files share: the repository root, copies of the workflow, script
runners, DataConfig builders and small dataset.h5 files. Test files import this module
(and ``msd_files``, the MSD-file builders), never each other."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import yaml

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


def copy_repo(dest: Path) -> Path:
    """The workflow's files (no results, no .snakemake) in `dest`, for a Snakemake run whose
    results are never shared with another test."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def run_script(name: str, *args: object, cwd: Path | None = None,
               check: bool = False) -> subprocess.CompletedProcess:
    """Run ``workflow_scripts/<name>`` with ``args`` as its command line, output captured."""
    return subprocess.run([sys.executable, SCRIPTS / name, *map(str, args)], cwd=cwd,
                          check=check, capture_output=True, text=True)


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

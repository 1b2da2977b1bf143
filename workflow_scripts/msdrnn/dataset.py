"""Build ``dataset.h5`` (the MSD-10 data set of SPEC section 2) and the per-step files.

``dataset.h5`` holds groups ``train``, ``valid`` and optionally ``test`` (``inputs``
(N, segments, 25) float32, ``targets`` (N,) int64, ``track_ids`` (N,) strings), plus
``label_map``, ``mean`` and ``std`` (segments, 25) of the train split, and attributes
``source``, ``config`` (JSON), ``counts`` (JSON: tracks per genre per split),
``standardized`` (whether this build standardised the inputs) and ``selection`` (JSON).

From MSD track files (sources ``msd_h5`` and ``synthetic``): every labelled track of a
kept genre is put in a per-genre order that depends only on ``seed``; files are read in
that order (in a worker pool, only the central crop) until each genre has ``per_genre``
train+valid tracks and ``per_genre_test`` test tracks; the last ``valid_fraction`` of a
genre's train+valid tracks are its validation tracks. Inputs are standardised per
dimension with the train split's mean and (population) standard deviation.

Every file is written under a temporary name and renamed when complete, so a failed run
leaves no partial output and earlier results untouched. No TensorFlow here.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import h5py
import numpy as np

from msdrnn.dataset_io import SPLITS, DataError
from msdrnn.msd import N_FEATURES, Location, locate_tracks, read_labels, read_task
from msdrnn.synthetic import MARKER

log = logging.getLogger(__name__)

GENRES = ("Rap", "Rock", "RnB", "Electronic", "Metal", "Blues", "Pop", "Jazz", "Country",
          "Reggae")
SOURCES = ("synthetic", "msd_h5", "npz")
_CHUNK = 2048  # rows per write: bounds the temporary copies while writing


@dataclass(frozen=True)
class DataConfig:
    """The ``data`` section of the study config (key names are the contract)."""

    source: str = "synthetic"
    msd_root: str = ""
    labels: str = ""
    npz_dir: str = ""
    genres: tuple[str, ...] = GENRES
    segments: int = 120
    per_genre: int = 5000
    per_genre_test: int = 1000
    valid_fraction: float = 0.2
    seed: int = 0
    on_bad_file: str = "stop"
    allow_short_genres: bool = False
    standardize_npz: bool = False
    workers: int = 2

    def validate(self) -> None:
        """Check every value and the inputs' existence before any expensive work."""
        if self.source not in SOURCES:
            raise DataError(f"data.source {self.source!r}: expected one of {list(SOURCES)}")
        if not self.genres or len(set(self.genres)) != len(self.genres):
            raise DataError(f"data.genres {list(self.genres)}: expected distinct names")
        for name in ("segments", "per_genre", "workers"):
            if getattr(self, name) < 1:
                raise DataError(f"data.{name} {getattr(self, name)}: expected >= 1")
        if self.per_genre_test < 0:
            raise DataError(f"data.per_genre_test {self.per_genre_test}: expected >= 0")
        n_valid = round(self.valid_fraction * self.per_genre)
        if not 0 < self.valid_fraction < 1 or not 0 < n_valid < self.per_genre:
            raise DataError(f"data.valid_fraction {self.valid_fraction}: expected a fraction "
                            f"leaving train and valid tracks of per_genre {self.per_genre}")
        if self.on_bad_file not in ("stop", "skip"):
            raise DataError(f"data.on_bad_file {self.on_bad_file!r}: expected stop or skip")
        if self.source == "npz":
            if not Path(self.npz_dir).is_dir():
                raise DataError(f"{self.npz_dir}: data.npz_dir not found (expected the "
                                "folder of the course's .npz files)")
            return
        if not Path(self.msd_root).is_dir():
            raise DataError(f"{self.msd_root}: data.msd_root not found (expected the MSD "
                            "folder of .h5 track files)")
        if not Path(self.labels).is_file():
            raise DataError(f"{self.labels}: data.labels not found (expected a tagtraum "
                            ".cls label file)")
        if self.source == "synthetic" and not (Path(self.msd_root) / MARKER).is_file():
            raise DataError(f"{self.msd_root}: no {MARKER} file (expected a tree written "
                            "completely by generate_synthetic.py)")


@dataclass
class _Split:
    """Rows ``index`` of ``inputs`` (all rows if None) with their targets and IDs."""

    inputs: np.ndarray
    targets: np.ndarray
    track_ids: list[str]
    index: np.ndarray | None = None

    def rows(self, start: int, stop: int) -> np.ndarray:
        if self.index is None:
            return self.inputs[start:stop]
        return self.inputs[self.index[start:stop]]

    def __len__(self) -> int:
        return len(self.targets)


@dataclass
class _Collected:
    """Crops read from track files: ``inputs`` rows and, per genre, (track_id, row)."""

    inputs: np.ndarray
    kept: dict[str, list[tuple[str, int]]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    short: int = 0
    files_read: int = 0
    rows: int = 0  # rows of ``inputs`` filled


def prepare_dataset(cfg: DataConfig, out: str | Path) -> dict:
    """Build ``out`` (dataset.h5) and ``dataset.skipped.tsv`` beside it; returns counts."""
    cfg.validate()
    out = Path(out)
    if cfg.source == "npz":
        splits, label_map, standardize, selection = _load_npz(cfg)
        skipped: list[tuple[str, str]] = []
    else:
        splits, label_map, selection, skipped = _load_msd(cfg)
        standardize = True
    mean, std = _train_stats(splits["train"])
    if standardize and np.any(std == 0):
        log.warning("%d input dimension(s) constant over train; their std is set to 1",
                    int(np.sum(std == 0)))
    std = np.where(std == 0, 1.0, std)
    counts = {name: {g: int(np.sum(s.targets == i)) for i, g in enumerate(label_map)}
              for name, s in splits.items()}
    with _atomic(out) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["source"] = cfg.source
        f.attrs["config"] = json.dumps(asdict(cfg))
        f.attrs["counts"] = json.dumps(counts)
        f.attrs["standardized"] = standardize
        f.attrs["selection"] = json.dumps(selection)
        f.create_dataset("label_map", data=label_map, dtype=h5py.string_dtype())
        f.create_dataset("mean", data=mean)
        f.create_dataset("std", data=std)
        for name, split in splits.items():
            _write_split(f.create_group(name), split, mean if standardize else None, std)
        with _atomic(_skipped_path(out)) as tsv_tmp:
            tsv_tmp.write_text("path\treason\n" + "".join(
                f"{path}\t{reason}\n" for path, reason in skipped))
    log.info("wrote %s: %s", out, ", ".join(f"{n} {len(s)}" for n, s in splits.items()))
    return counts


def make_steps(dataset: str | Path, steps: int, out: str | Path) -> None:
    """Write ``out`` with every split's inputs as (N, parts, steps, features) float32.

    The inputs are an HDF5 virtual dataset that maps each part onto its segments in
    ``dataset``: the file holds no copy of the data (a few kB instead of the dataset's
    size), so a grid over 14 steps values never keeps 14 copies on disk, and the file can
    stay in place instead of being remade (and rerunning its consumers) for every job.
    """
    dataset, out = Path(dataset), Path(out)
    if not dataset.is_file():
        raise DataError(f"{dataset}: no such file (expected dataset.h5)")
    try:
        src = h5py.File(dataset, "r")
    except OSError as err:
        raise DataError(f"{dataset}: not a readable HDF5 file ({err})") from None
    with src, _atomic(out) as tmp:
        splits = [s for s in SPLITS if s in src]
        for key in ["label_map", "train/inputs"] + [f"{s}/{field}" for s in splits
                                                    for field in ("targets", "track_ids")]:
            if key not in src:
                raise DataError(f"{dataset}: '{key}' is missing (expected a dataset.h5)")
        segments = src["train/inputs"].shape[1]
        if steps < 1 or segments % steps:
            divisors = [k for k in range(1, segments + 1) if segments % k == 0]
            raise DataError(f"steps {steps}: does not divide the {segments} segments of "
                            f"{dataset}; expected one of {divisors}")
        parts = segments // steps
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"steps": steps, "parts": parts, "dataset": str(dataset)})
            src.copy(src["label_map"], f, "label_map")
            source_file = os.path.relpath(dataset.resolve(), out.resolve().parent)
            for name in splits:
                group, inputs = f.create_group(name), src[name]["inputs"]
                n, _, features = inputs.shape
                if inputs.dtype != np.float32:
                    raise DataError(f"{dataset}: '{name}/inputs' is {inputs.dtype}; "
                                    "expected float32")
                layout = h5py.VirtualLayout((n, parts, steps, features), np.float32)
                source = h5py.VirtualSource(source_file, inputs.name, shape=inputs.shape)
                for part in range(parts):
                    layout[:, part] = source[:, part * steps:(part + 1) * steps]
                group.create_virtual_dataset("inputs", layout)
                for key in ("targets", "track_ids"):
                    src.copy(src[name][key], group, key)
    log.info("wrote %s: steps %d, parts %d", out, steps, parts)


def _load_msd(cfg: DataConfig) -> tuple[dict[str, _Split], list[str], dict, list]:
    """Select, read and split the labelled MSD tracks (SPEC section 2)."""
    labels = read_labels(cfg.labels)
    wanted = {t: g for t, g in labels.items() if g in cfg.genres}
    log.info("%s: %d labelled tracks, %d in the %d genres kept", cfg.labels, len(labels),
             len(wanted), len(cfg.genres))
    skipped: list[tuple[str, str]] = []
    locations, scanned = locate_tracks(cfg.msd_root, sorted(wanted),
                                       skipped if cfg.on_bad_file == "skip" else None)
    if not locations:
        raise DataError(f"{cfg.msd_root}: no track files found for the {len(wanted)} "
                        f"tracks labelled in {cfg.labels} with the genres {list(cfg.genres)}; "
                        "expected data/A/B/C/TRACKID.h5 files or aggregate files")
    log.info("found %d track files (%d labelled tracks have no file, normal for the MSD; "
             "%d other .h5 files scanned)", len(locations), len(wanted) - len(locations),
             scanned)
    order = {}
    for genre in cfg.genres:
        ids = sorted(t for t in locations if wanted[t] == genre)
        rng = np.random.default_rng([cfg.seed, zlib.crc32(genre.encode())])
        order[genre] = [ids[i] for i in rng.permutation(len(ids))]
    collected = _collect(order, locations, cfg, skipped)
    available = {g: len(ids) for g, ids in order.items()}
    _check_counts(cfg, wanted, available, collected)
    splits = _split(cfg, collected)
    selection = {
        "labelled": len(labels), "labelled_in_genres": len(wanted),
        "files_found": len(locations), "files_read": collected.files_read,
        "short_tracks": collected.short, "skipped_files": len(skipped),
    }
    return splits, list(cfg.genres), selection, skipped


def _collect(order: dict[str, list[str]], locations: dict[str, Location], cfg: DataConfig,
             skipped: list[tuple[str, str]]) -> _Collected:
    """Read crops in each genre's order until every genre has enough (or runs out).

    Files are read in blocks slightly larger than what each genre still needs; results
    are taken in task order, so the outcome does not depend on the number of workers.
    """
    target = cfg.per_genre + cfg.per_genre_test
    total = sum(min(target, len(ids)) for ids in order.values())
    genre_of = {t: g for g, ids in order.items() for t in ids}
    with _mapper(cfg.workers) as mapper:
        got = _Collected(np.empty((total, cfg.segments, N_FEATURES), np.float32),
                         {g: [] for g in order}, skipped)
        progress = _Progress(total)
        position = dict.fromkeys(order, 0)
        while True:
            block = []
            for genre, ids in order.items():
                need = target - len(got.kept[genre])
                if need > 0:
                    block += ids[position[genre]:position[genre] + need + need // 20 + 4]
                    position[genre] = min(len(ids), position[genre] + need + need // 20 + 4)
            if not block:
                progress.finish(got.rows, got.files_read)
                return got
            for result in mapper(read_task, _tasks(block, locations, cfg.segments)):
                got.files_read += 1
                if result.error:
                    if cfg.on_bad_file == "stop":
                        raise DataError(f"{result.path}: {result.error} (set data.on_bad_file:"
                                        " skip to leave bad files out)")
                    log.warning("skipping %s: %s", result.path, result.error)
                    skipped.append((result.path, result.error))
                for track in result.tracks:
                    kept = got.kept[genre_of[track.track_id]]
                    if track.crop is None:
                        got.short += 1
                    elif len(kept) < target:
                        got.inputs[got.rows] = track.crop
                        kept.append((track.track_id, got.rows))
                        got.rows += 1
                progress.update(got.rows, got.files_read)


def _tasks(block: list[str], locations: dict[str, Location],
           segments: int) -> list[tuple[str, list[tuple[str, int | None]], int]]:
    """One task per single-track file, one per aggregate file (its tracks in the block)."""
    tasks: list[tuple[str, list[tuple[str, int | None]], int]] = []
    aggregate: dict[str, list[tuple[str, int | None]]] = {}
    for track_id in block:
        location = locations[track_id]
        if location.row is None:
            tasks.append((location.path, [(track_id, None)], segments))
        else:
            if location.path not in aggregate:
                aggregate[location.path] = []
                tasks.append((location.path, aggregate[location.path], segments))
            aggregate[location.path].append((track_id, location.row))
    return tasks


def _check_counts(cfg: DataConfig, wanted: dict[str, str], available: dict[str, int],
                  got: _Collected) -> None:
    """Fail (or warn, with allow_short_genres) when a genre has too few usable tracks."""
    labelled = {g: sum(1 for x in wanted.values() if x == g) for g in cfg.genres}
    usable = {g: len(k) for g, k in got.kept.items()}
    rows = [f"{'genre':<12}{'labelled':>10}{'files':>10}{'usable':>10}{'needed':>10}"]
    rows += [f"{g:<12}{labelled[g]:>10}{available[g]:>10}{usable[g]:>10}"
             f"{cfg.per_genre + cfg.per_genre_test:>10}" for g in cfg.genres]
    table = "\n".join(rows)
    short = [g for g in cfg.genres if usable[g] < cfg.per_genre]
    if short and not cfg.allow_short_genres:
        raise DataError(f"{cfg.labels}: fewer usable tracks than data.per_genre "
                        f"({cfg.per_genre}) in {', '.join(short)}:\n{table}\n"
                        "set data.allow_short_genres: true (--allow-short-genres) to "
                        "proceed with what there is")
    log.info("tracks per genre:\n%s", table)
    if short or any(u < cfg.per_genre + cfg.per_genre_test for u in usable.values()):
        log.warning("some genres have fewer tracks than asked for; proceeding with what "
                    "there is (see the table above)")


def _split(cfg: DataConfig, got: _Collected) -> dict[str, _Split]:
    """Per genre: first per_genre tracks to train+valid (last valid_fraction valid), rest
    test. Rows within a split are shuffled with ``seed``."""
    members: dict[str, list[tuple[str, int, int]]] = {s: [] for s in SPLITS}
    for label, genre in enumerate(cfg.genres):
        kept = got.kept[genre]
        train_valid = kept[:cfg.per_genre]
        n_train = len(train_valid) - round(cfg.valid_fraction * len(train_valid))
        for name, part in (("train", train_valid[:n_train]), ("valid", train_valid[n_train:]),
                           ("test", kept[cfg.per_genre:])):
            members[name] += [(track_id, row, label) for track_id, row in part]
    rng = np.random.default_rng([cfg.seed, 7])
    splits = {}
    for name, items in members.items():
        if name == "test" and cfg.per_genre_test == 0:
            continue
        items = [items[i] for i in rng.permutation(len(items))]
        splits[name] = _Split(got.inputs, np.array([x[2] for x in items], dtype=np.int64),
                              [x[0] for x in items], np.array([x[1] for x in items], np.int64))
    if not len(splits["train"]) or not len(splits["valid"]):
        raise DataError(f"{cfg.msd_root}: no usable tracks for the train or valid split")
    return splits


def _load_npz(cfg: DataConfig) -> tuple[dict[str, _Split], list[str], bool, dict]:
    """Load the course's npz files (SPEC section 2), checking shapes, values and targets."""
    folder = Path(cfg.npz_dir)
    prefix = f"msd-{len(cfg.genres)}-genre"
    label_map = None
    splits = {}
    for name in ("train", "valid"):
        path = folder / f"{prefix}-{name}.npz"
        with _open_npz(path) as f:
            inputs = _npz_inputs(path, f, cfg.segments)
            targets = _npz_field(path, f, "targets")
            names = _npz_label_map(path, f)
        if names is not None and label_map is not None and names != label_map:
            raise DataError(f"{path}: 'label_map' {names} differs from the train file's "
                            f"{label_map}; expected the same genres in the same order")
        label_map = label_map or names
        splits[name] = (inputs, targets)
    test_inputs = folder / f"{prefix}-test-inputs.npz"
    test_targets = folder / f"{prefix}-test-targets.npz"
    if cfg.per_genre_test and (test_inputs.is_file() or test_targets.is_file()):
        for path in (test_inputs, test_targets):
            if not path.is_file():
                raise DataError(f"{path}: not found (expected beside {test_inputs.name} "
                                f"and {test_targets.name})")
        with _open_npz(test_inputs) as f:
            inputs = _npz_inputs(test_inputs, f, cfg.segments)
        with _open_npz(test_targets) as f:
            splits["test"] = (inputs, _npz_field(test_targets, f, "targets"))
    elif cfg.per_genre_test:
        log.info("%s: no %s-test-*.npz files; no test split", folder, prefix)
    if label_map is None:
        log.warning("%s: label_map unreadable without unpickling or absent; using "
                    "data.genres %s", folder, list(cfg.genres))
        label_map = list(cfg.genres)
    result = {}
    for name, (inputs, targets) in splits.items():
        path = folder / (f"{prefix}-{name}.npz" if name != "test" else test_targets.name)
        if len(targets) != len(inputs) or targets.ndim != 1:
            raise DataError(f"{path}: 'targets' has shape {targets.shape}; expected "
                            f"({len(inputs)},), one per input row")
        if targets.dtype.kind not in "iu" or (len(targets) and (
                targets.min() < 0 or targets.max() >= len(label_map))):
            raise DataError(f"{path}: 'targets' are {targets.dtype} in "
                            f"{targets.min()}..{targets.max()}; expected integers in "
                            f"0..{len(label_map) - 1} (one per genre of the label map)")
        result[name] = _Split(inputs, targets.astype(np.int64),
                              [f"{name}-{i:06d}" for i in range(len(targets))])
    mean = result["train"].inputs.mean(axis=0)
    looks_standard = bool(np.abs(mean).mean() < 0.05 and abs(
        result["train"].inputs.std(axis=0).mean() - 1) < 0.05)
    log.info("npz inputs %s standardised per dimension%s", "look" if looks_standard
             else "do not look", "; standardising them" if cfg.standardize_npz else
             "; kept as they are (data.standardize_npz: false)")
    return result, label_map, cfg.standardize_npz, {"npz_dir": str(folder), "prefix": prefix,
                                                    "looked_standardized": looks_standard}


@contextmanager
def _open_npz(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    if not path.is_file():
        raise DataError(f"{path}: not found (expected a course .npz file)")
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"{path}: not a readable .npz file ({err})") from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: a single .npy array; expected an .npz archive")
    with f:
        yield f


def _npz_field(path: Path, f: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    if key not in f.files:
        raise DataError(f"{path}: no '{key}' array (found: {f.files})")
    try:
        return f[key]
    except ValueError as err:  # object arrays need unpickling
        raise DataError(f"{path}: '{key}' cannot be read without unpickling ({err}); "
                        "expected a numeric array") from None
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: '{key}' is unreadable ({err})") from None


def _npz_inputs(path: Path, f: np.lib.npyio.NpzFile, segments: int) -> np.ndarray:
    """``inputs`` as (N, segments, 25) float32: from (N, segments*25) or as stored."""
    inputs = _npz_field(path, f, "inputs")
    flat = segments * N_FEATURES
    if inputs.dtype.kind not in "fiu" or not (
            (inputs.ndim == 2 and inputs.shape[1] == flat)
            or inputs.shape[1:] == (segments, N_FEATURES)):
        raise DataError(f"{path}: 'inputs' has shape {inputs.shape}, dtype {inputs.dtype}; "
                        f"expected (N, {flat}) or (N, {segments}, {N_FEATURES}) numbers")
    inputs = inputs.reshape(len(inputs), segments, N_FEATURES).astype(np.float32, copy=False)
    finite = np.isfinite(inputs).all(axis=(1, 2))
    if not finite.all():
        raise DataError(f"{path}: 'inputs' holds NaN or inf (first at row "
                        f"{int(np.flatnonzero(~finite)[0])}); expected finite numbers")
    return inputs


def _npz_label_map(path: Path, f: np.lib.npyio.NpzFile) -> list[str] | None:
    if "label_map" not in f.files:
        return None
    try:
        return [str(name) for name in f["label_map"]]
    except ValueError:
        log.warning("%s: 'label_map' cannot be read without unpickling; not unpickled", path)
        return None


def _train_stats(train: _Split) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and population std of the train rows, in float64 chunks."""
    total = np.zeros(train.inputs.shape[1:])
    for start in range(0, len(train), _CHUNK):
        total += train.rows(start, start + _CHUNK).sum(axis=0, dtype=np.float64)
    mean = total / len(train)
    squares = np.zeros_like(mean)
    for start in range(0, len(train), _CHUNK):
        squares += ((train.rows(start, start + _CHUNK) - mean) ** 2).sum(axis=0)
    return mean, np.sqrt(squares / len(train))


def _write_split(group: h5py.Group, split: _Split, mean: np.ndarray | None,
                 std: np.ndarray) -> None:
    """Write one split, standardising chunk by chunk when ``mean`` is given."""
    n = len(split)
    inputs = group.create_dataset("inputs", (n,) + split.inputs.shape[1:], "f4")
    for start in range(0, n, _CHUNK):
        block = split.rows(start, start + _CHUNK)
        inputs[start:start + len(block)] = block if mean is None else (block - mean) / std
    group.create_dataset("targets", data=split.targets)
    group.create_dataset("track_ids", data=split.track_ids, dtype=h5py.string_dtype())


def _skipped_path(out: Path) -> Path:
    return out.with_name(out.stem + ".skipped.tsv")


@contextmanager
def _atomic(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; rename it to ``out`` if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _mapper(workers: int) -> Iterator[Callable]:
    """An ordered ``map``: a pool of ``workers`` processes, or plain ``map`` for one."""
    if workers == 1:
        yield map
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield lambda function, tasks: pool.imap(function, tasks, chunksize=16)


class _Progress:
    """Log tracks kept, files read, rate and time left every few seconds."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.start = self.last = time.monotonic()

    def update(self, kept: int, files: int) -> None:
        now = time.monotonic()
        if now - self.last >= 5:
            self.last = now
            rate = files / (now - self.start)
            log.info("%d/%d tracks kept, %d files read (%.0f files/s, about %.0f s left)",
                     kept, self.total, files, rate, (self.total - kept) / max(rate, 1e-9))

    def finish(self, kept: int, files: int) -> None:
        seconds = time.monotonic() - self.start
        log.info("read %d files in %.1f s (%.0f files/s), kept %d tracks", files, seconds,
                 files / max(seconds, 1e-9), kept)


"""Build ``dataset.h5``, the original study's MSD-10 data set.

``dataset.h5`` holds groups ``train``, ``valid`` and optionally ``test`` (``inputs``
(N, segments, 25) float32, ``targets`` (N,) int64, ``track_ids`` (N,) strings), plus
``label_map``, ``mean`` and ``std`` (segments, 25) of the train split, and attributes
``source``, ``config`` (JSON), ``counts`` (JSON: tracks per genre per split),
``standardized`` (whether this build standardised the inputs), ``selection`` (JSON) and
``fingerprint`` (a hash of the content, see ``msdrnn.dataset_io.Fingerprint``).

From MSD track files (sources ``msd_h5`` and ``synthetic``): every labelled track of a
kept genre is put in a per-genre order that depends only on (track ID, genre, seed).
Each genre keeps the first ``per_genre + per_genre_test`` usable tracks in its order (a
short or bad track is replaced by the next one); the first ``per_genre`` of them are
train+valid, the rest test, and the last ``valid_fraction`` of the train+valid tracks are
validation. How the files are stored (single-track or aggregate files) and the number of
workers change which files are opened when, never this outcome. Inputs are standardised
per dimension with the train split's mean and (population) standard deviation.

Every file is written under a temporary name and renamed when complete, so a failed run
leaves no partial output and earlier results untouched. No TensorFlow here.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from msdrnn.dataset_io import SPLITS
from msdrnn.dataset_writer import CHUNK, Rows, write_dataset
from msdrnn.errors import DataError
from msdrnn.files import atomic_path, ordered_map
from msdrnn.msd import Location, locate_tracks, read_labels, read_task
from msdrnn.npz import load_npz
from msdrnn.study import FEATURES, GENRES
from msdrnn.synthetic import MARKER

log = logging.getLogger(__name__)

SOURCES = ("synthetic", "msd_h5", "npz")


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
class _Collected:
    """Crops read from track files: ``inputs`` rows and, per genre, (track_id, row) in the
    genre's order."""

    inputs: np.ndarray
    kept: dict[str, list[tuple[str, int]]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    short: int = 0
    files_read: int = 0


def genre_order(track_ids: list[str], genre: str, seed: int) -> list[str]:
    """The order in which a genre's tracks are taken: a permutation of the sorted IDs drawn
    from (seed, genre), so it depends on nothing but the IDs, the genre and the seed."""
    ids = sorted(track_ids)
    rng = np.random.default_rng([seed, zlib.crc32(genre.encode())])
    return [ids[i] for i in rng.permutation(len(ids))]


def prepare_dataset(cfg: DataConfig, out: str | Path, skipped_out: str | Path | None = None
                    ) -> dict:
    """Build ``out`` (dataset.h5) and the list of skipped files ``skipped_out`` (default:
    ``dataset.skipped.tsv`` beside ``out``); returns the tracks per genre per split."""
    cfg.validate()
    out = Path(out)
    skipped_out = Path(skipped_out) if skipped_out else out.with_name(out.stem + ".skipped.tsv")
    if cfg.source == "npz":
        loaded, label_map, selection = load_npz(Path(cfg.npz_dir), list(cfg.genres),
                                                cfg.segments, cfg.per_genre_test > 0,
                                                cfg.standardize_npz)
        splits = {name: Rows(*arrays) for name, arrays in loaded.items()}
        standardize = cfg.standardize_npz
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
    attrs = {"source": cfg.source, "config": json.dumps(asdict(cfg)),
             "counts": json.dumps(counts), "standardized": standardize,
             "selection": json.dumps(selection)}
    write_dataset(out, splits, label_map, mean, std, standardize, attrs)
    with atomic_path(skipped_out) as tsv_tmp:
        tsv_tmp.write_text("path\treason\n" + "".join(
            f"{path}\t{reason}\n" for path, reason in skipped))
    log.info("wrote %s: %s", out, ", ".join(f"{n} {len(s)}" for n, s in splits.items()))
    return counts


def _load_msd(cfg: DataConfig) -> tuple[dict[str, Rows], list[str], dict, list]:
    """Select, read and split the labelled MSD tracks as the original study did."""
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
    order = {genre: genre_order([t for t in locations if wanted[t] == genre], genre, cfg.seed)
             for genre in cfg.genres}
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
    """Keep, per genre, the first ``per_genre + per_genre_test`` usable tracks in its order.

    Files are read in blocks: per genre, the next tracks of its order, a few more than it
    still needs. Each block's files are read in a worker pool (an aggregate file once, for
    all its tracks in the block); then each genre walks its order over the tracks read and
    keeps the usable ones until it has enough, skipping short and bad ones. The tracks kept,
    and their order, depend only on the genre orders: never on how the tracks are stored,
    on the order in which files are read, nor on the number of workers. Crops of tracks
    read but not kept free their rows for the next block.
    """
    target = cfg.per_genre + cfg.per_genre_test
    total = sum(min(target, len(ids)) for ids in order.values())
    # At any moment a genre holds at most its kept tracks plus one block's reads: this many
    # rows, never more than the genre has tracks.
    capacity = sum(min(len(ids), target + _margin(target)) for ids in order.values())
    got = _Collected(np.empty((capacity, cfg.segments, FEATURES), np.float32),
                     {g: [] for g in order}, skipped)
    free_rows = list(range(capacity - 1, -1, -1))
    read_until = dict.fromkeys(order, 0)  # tracks of each genre's order read so far
    decided = dict.fromkeys(order, 0)  # tracks of each genre's order kept or passed over
    progress = _Progress(total)
    skipped_paths = {path for path, _ in skipped}
    with ordered_map(cfg.workers) as mapper:
        while True:
            block = []
            for genre, ids in order.items():
                need = target - len(got.kept[genre])
                if need > 0:
                    end = min(len(ids), read_until[genre] + need + _margin(need))
                    block += ids[read_until[genre]:end]
                    read_until[genre] = end
            if not block:
                progress.finish(sum(map(len, got.kept.values())), got.files_read)
                return got
            rows: dict[str, int] = {}  # usable tracks of this block -> their row
            for result in mapper(read_task, _tasks(block, locations, cfg.segments)):
                got.files_read += 1
                if result.error:
                    if cfg.on_bad_file == "stop":
                        raise DataError(f"{result.path}: {result.error} (set data.on_bad_file:"
                                        " skip to leave bad files out)")
                    if result.path not in skipped_paths:  # an aggregate file: once
                        log.warning("skipping %s: %s", result.path, result.error)
                        skipped.append((result.path, result.error))
                        skipped_paths.add(result.path)
                for track in result.tracks:
                    if track.crop is None:
                        got.short += 1
                    else:
                        rows[track.track_id] = row = free_rows.pop()
                        got.inputs[row] = track.crop
                progress.update(sum(map(len, got.kept.values())) + len(rows),
                                got.files_read)
            for genre, ids in order.items():
                kept = got.kept[genre]
                for track_id in ids[decided[genre]:read_until[genre]]:
                    row = rows.pop(track_id, None)  # None: short, or in a bad file
                    if row is None:
                        continue
                    if len(kept) < target:
                        kept.append((track_id, row))
                    else:
                        free_rows.append(row)
                decided[genre] = read_until[genre]


def _margin(need: int) -> int:
    """Tracks read beyond what a genre still needs, so short or bad ones rarely cost
    another block."""
    return need // 20 + 4


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


def _split(cfg: DataConfig, got: _Collected) -> dict[str, Rows]:
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
        splits[name] = Rows(got.inputs, np.array([x[2] for x in items], dtype=np.int64),
                              [x[0] for x in items], np.array([x[1] for x in items], np.int64))
    if not len(splits["train"]) or not len(splits["valid"]):
        raise DataError(f"{cfg.msd_root}: no usable tracks for the train or valid split")
    return splits


def _train_stats(train: Rows) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and population std of the train rows, in float64 chunks."""
    total = np.zeros(train.inputs.shape[1:])
    for start in range(0, len(train), CHUNK):
        total += train.rows(start, start + CHUNK).sum(axis=0, dtype=np.float64)
    mean = total / len(train)
    squares = np.zeros_like(mean)
    for start in range(0, len(train), CHUNK):
        squares += ((train.rows(start, start + CHUNK) - mean) ** 2).sum(axis=0)
    return mean, np.sqrt(squares / len(train))


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


"""Write a synthetic Million Song Dataset tree and tagtraum label file (not real music).

The data are random numbers shaped like MSD segments, made so that the order of a song's
segments tells its genre much better than their statistics do:

* There are ``K`` segment *types*, each a random mean vector in the 25-d feature space.
* A song is a Markov chain over types. Genre g moves with the transition matrix
  ``T_g = a * P_g + (1 - a) / K``, where ``P_g`` is a genre-specific permutation. Every
  ``T_g`` is doubly stochastic, so all genres share the uniform stationary distribution:
  type counts say nothing about the genre. The type transitions tell it to a model that
  counts them, but a small tanh RNN hardly picks them up.
* The main signal is a genre-specific *build-up*: up to the middle of the song the
  segments carry no genre drift; from the middle on they drift linearly along a
  genre-specific unit direction in feature space, reaching ``drift`` noise units
  ``drift_span`` segments later (the end of the central 120-segment crop the data set
  takes, with the default 60) and staying there. Where a segment stands in the song is
  what carries it: the last segments of the crop sit ``drift`` away from the first ones in
  the genre's direction, while the song mean moves only a quarter of that, blurred by the
  per-song offset below. Shuffling a song's segments leaves only that quarter.
* Each segment is its type mean plus the drift plus a weak genre mean shift plus Gaussian
  noise, mapped to MSD scales (timbre around 0 with tens of units, pitches clipped to
  [0, 1], loudness in dB around -30). A random per-song offset blurs the mean shift and
  the drift's share of the song mean, so averaging a song's segments (what an order-blind
  model can do) recovers the genre only weakly.

The tree has the real layout (``data/A/B/C/TRACKID.h5`` single-track files in the
PyTables layout, aggregate files in ``data/aggregate/``) and the nuisances of the real
data: tracks shorter than 120 segments, tracks labelled with other genres, files without
a label, and label lines without a file. Everything follows from ``seed``. No TensorFlow.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np

from msdrnn.errors import DataError
from msdrnn.files import ordered_map
from msdrnn.msd import track_path

log = logging.getLogger(__name__)

LABEL_FILE = "msd_tagtraum_cd2c.cls"
MARKER = "COMPLETE"
_OWNED = ".generated_by_generate_synthetic"  # survives a workflow deleting MARKER
_ID_CHARS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
_LETTERS = _ID_CHARS[:26]


@dataclass(frozen=True)
class SignalModel:
    """How strongly genre shows in the segments (see the module docstring)."""

    n_types: int = 8
    order_strength: float = 0.5  # a: weight of the genre permutation in T_g
    type_scale: float = 0.8  # spread of the type means (noise units)
    genre_shift: float = 0.03  # spread of the per-genre mean shift (noise units)
    song_spread: float = 0.5  # spread of a per-song mean offset that hides the song means
    drift: float = 1.75  # length of the genre drift at the end of the build-up (noise units)
    drift_span: int = 60  # segments from the middle of the song to the end of the build-up
    min_segments: int = 120
    max_segments: int = 400


@dataclass(frozen=True)
class TrackSpec:
    """One generated track: its ID, the genre its signal follows, its label, its file."""

    index: int
    track_id: str
    genre: int  # index into the model's genres (signal)
    label: str | None  # label line written, or None (unlabelled)
    n_segments: int
    aggregate: int | None = None  # aggregate file number, or None for a single file
    has_file: bool = True


def generate_tree(out_dir: str | Path, genres: Sequence[str], tracks_per_genre: int,
                  seed: int, aggregate_files: int = 1,
                  extra_genres: Sequence[str] = ("Folk", "Latin"), workers: int = 2,
                  model: SignalModel = SignalModel()) -> dict:
    """Write the synthetic MSD tree to ``out_dir`` atomically; returns its summary.

    ``tracks_per_genre`` track files are written per genre (a few of them short); the
    tree is written into ``out_dir.tmp`` and renamed when complete, ending with the
    ``COMPLETE`` marker. An existing ``out_dir`` is replaced only if it is empty or was
    written by this generator.
    """
    out_dir = Path(out_dir)
    _check_args(genres, tracks_per_genre, aggregate_files, extra_genres, workers)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / _OWNED).is_file():
        raise DataError(f"{out_dir}: exists and is not a generated tree (no {_OWNED} file); "
                        "expected an empty or previously generated folder")
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    all_genres = list(genres) + [g for g in extra_genres if g not in genres]
    specs = plan_tracks(all_genres, len(genres), tracks_per_genre, seed, aggregate_files)
    params = _model_params(len(all_genres), seed, model)
    start = time.monotonic()
    try:
        singles = [s for s in specs if s.has_file and s.aggregate is None]
        tasks = [(str(tmp / "data"), s, seed, params, model) for s in singles]
        pool_workers = workers if len(tasks) >= 100 else 1  # a pool costs more than it saves
        with ordered_map(pool_workers, chunksize=64) as mapper:
            for done, _ in enumerate(mapper(_write_single, tasks), start=1):
                if done % 5000 == 0:
                    log.info("generated %d/%d track files (%.0f files/s)", done, len(tasks),
                             done / (time.monotonic() - start))
        for k in range(aggregate_files):
            members = [s for s in specs if s.aggregate == k]
            write_aggregate_file(tmp / "data" / "aggregate" / f"aggregate_{k:02d}.h5",
                                 [_track_arrays(s, seed, params, model) for s in members])
        _write_labels(tmp / LABEL_FILE, specs)
        summary = {
            "seed": seed, "genres": list(genres), "extra_genres": all_genres[len(genres):],
            "tracks_per_genre": tracks_per_genre, "aggregate_files": aggregate_files,
            "model": asdict(model), "counts": _counts(specs, model.min_segments),
        }
        (tmp / _OWNED).write_text("written by generate_synthetic.py; replaced on rerun\n")
        (tmp / MARKER).write_text(json.dumps(summary, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %s: %d track files, %d aggregate file(s) in %.1f s", out_dir,
             len(singles), aggregate_files, time.monotonic() - start)
    return summary


def plan_tracks(all_genres: Sequence[str], n_main: int, tracks_per_genre: int, seed: int,
                aggregate_files: int) -> list[TrackSpec]:
    """Decide every track: genre, label, length, file kind, and the nuisances."""
    rng = np.random.default_rng([seed, 1])
    n_nuisance = max(2, n_main * tracks_per_genre // 200)
    n_short = max(1, tracks_per_genre // 100)
    n_aggregate = max(1, tracks_per_genre // 20) if aggregate_files else 0
    rows: list[dict] = []
    for g in range(n_main):
        for i in range(tracks_per_genre):
            rows.append({"genre": g, "label": all_genres[g], "short": i < n_short,
                         "aggregate": i % aggregate_files if i >= tracks_per_genre
                         - n_aggregate else None})
    for i in range(n_nuisance):
        extra = n_main + i % (len(all_genres) - n_main) if len(all_genres) > n_main else None
        if extra is not None:  # labelled with a genre outside `genres`
            rows.append({"genre": extra, "label": all_genres[extra]})
        rows.append({"genre": i % n_main, "label": None})  # file without a label
        rows.append({"genre": i % n_main, "label": all_genres[i % n_main],
                     "has_file": False})  # label line without a file
    ids = _track_ids(rng, len(rows))
    specs = []
    for index, (row, track_id) in enumerate(zip(rows, ids, strict=True)):
        short = row.get("short", False)
        n = int(rng.integers(40, 120) if short else rng.integers(120, 401))
        specs.append(TrackSpec(index, track_id, row["genre"], row["label"], n,
                               row.get("aggregate"), row.get("has_file", True)))
    return specs


def write_track_file(path: str | Path, track: dict) -> None:
    """Write one track as an MSD single-track file (PyTables layout, one songs row)."""
    write_aggregate_file(path, [track])


def write_aggregate_file(path: str | Path, tracks: list[dict]) -> None:
    """Write tracks as one MSD file: segment arrays concatenated, ``idx_*`` offsets.

    Each track is a dict with ``track_id``, ``title``, ``artist_name``, ``song_id`` and the
    ``segments_*`` arrays (timbre and pitches (n, 12), the others (n,)).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [k for k in tracks[0] if k.startswith("segments_")] if tracks else []
    lengths = [len(t["segments_timbre"]) for t in tracks]
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    analysis = np.zeros(len(tracks), dtype=[
        ("analysis_sample_rate", "<i4"), ("duration", "<f8"), ("key", "<i4"),
        ("loudness", "<f8"), ("mode", "<i4"), ("tempo", "<f8"), ("time_signature", "<i4"),
        *[(f"idx_{name}", "<i4") for name in names], ("track_id", "S32")])
    metadata = np.zeros(len(tracks), dtype=[
        ("artist_id", "S32"), ("artist_name", "S64"), ("release", "S64"),
        ("song_id", "S32"), ("title", "S64")])
    for i, track in enumerate(tracks):
        starts = track["segments_start"]
        analysis[i] = (22050, float(starts[-1]) + 0.5, i % 12, float(
            np.mean(track["segments_loudness_max"])), i % 2, 120.0, 4,
            *[offsets[i]] * len(names), track["track_id"].encode())
        metadata[i] = (b"AR" + track["track_id"][2:18].encode(), track["artist_name"].encode(),
                       b"Synthetic", track["song_id"].encode(), track["title"].encode())
    with h5py.File(path, "w") as f:
        f.attrs["TITLE"] = "H5 Song File"
        group = f.create_group("analysis")
        group.create_dataset("songs", data=analysis)
        for name in names:
            group.create_dataset(name, data=np.concatenate([t[name] for t in tracks]))
        f.create_group("metadata").create_dataset("songs", data=metadata)
        f.create_group("musicbrainz").create_dataset(
            "songs", data=np.zeros(len(tracks), dtype=[("year", "<i4")]))


def _check_args(genres: Sequence[str], tracks_per_genre: int, aggregate_files: int,
                extra_genres: Sequence[str], workers: int) -> None:
    if not genres or len(set(genres)) != len(genres):
        raise DataError(f"genres {list(genres)}: expected a non-empty list without repeats")
    if tracks_per_genre < 2:
        raise DataError(f"tracks_per_genre {tracks_per_genre}: expected at least 2")
    if aggregate_files < 0 or workers < 1:
        raise DataError(f"aggregate_files {aggregate_files}, workers {workers}: expected "
                        ">= 0 and >= 1")
    if any(not g or "\t" in g or "\n" in g for g in [*genres, *extra_genres]):
        raise DataError("genre names: expected non-empty names without tabs or newlines")


def _track_ids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` unique MSD-style IDs: 'TR', three letters (the A/B/C folders), 13 more."""
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < n:
        letters = rng.choice(_LETTERS, size=(n, 3))
        rest = rng.choice(_ID_CHARS, size=(n, 13))
        for row in np.concatenate([letters, rest], axis=1):
            track_id = "TR" + "".join(row)
            if track_id not in seen and len(ids) < n:
                seen.add(track_id)
                ids.append(track_id)
    return ids


def _model_params(n_genres: int, seed: int, model: SignalModel) -> dict:
    """Type means, per-genre permutations (all distinct), mean shifts, drift directions."""
    rng = np.random.default_rng([seed, 2])
    perms: list[np.ndarray] = []
    while len(perms) < n_genres:
        perm = rng.permutation(model.n_types)
        if not any(np.array_equal(perm, p) for p in perms):
            perms.append(perm)
    powers = np.empty((n_genres, model.max_segments, model.n_types), dtype=np.int64)
    for g, perm in enumerate(perms):
        powers[g, 0] = np.arange(model.n_types)
        for k in range(1, model.max_segments):
            powers[g, k] = perm[powers[g, k - 1]]
    means = rng.normal(0.0, model.type_scale, (model.n_types, 25))
    shifts = rng.normal(0.0, model.genre_shift, (n_genres, 25))
    directions = rng.normal(0.0, 1.0, (n_genres, 25))
    return {
        "means": means, "shifts": shifts,
        "directions": directions / np.linalg.norm(directions, axis=1, keepdims=True),
        "powers": powers,  # powers[g, k, t]: type reached from t after k permutation moves
    }


def _track_arrays(spec: TrackSpec, seed: int, params: dict, model: SignalModel) -> dict:
    """Segments of one track: the Markov type chain, then features at MSD scales."""
    rng = np.random.default_rng([seed, 3, spec.index])
    n = spec.n_segments
    # T_g = a P_g + (1 - a) U: at each step either follow P_g or jump to a uniform type.
    jump = rng.random(n) >= model.order_strength
    jump[0] = True
    jump_types = rng.integers(0, model.n_types, n)
    last_jump = np.maximum.accumulate(np.where(jump, np.arange(n), 0))
    types = params["powers"][spec.genre, np.arange(n) - last_jump, jump_types[last_jump]]
    offset = params["shifts"][spec.genre] + rng.normal(0.0, model.song_spread, 25)
    # The build-up: 0 up to the middle of the song, then rising to 1 over drift_span segments.
    build = np.clip((np.arange(n) - (n - 1) / 2) / model.drift_span, 0.0, 1.0)
    drift = model.drift * build[:, None] * params["directions"][spec.genre]
    z = params["means"][types] + offset + drift + rng.normal(0.0, 1.0, (n, 25))
    timbre = 20.0 * z[:, :12]
    timbre[:, 0] += 45.0
    starts = np.cumsum(rng.uniform(0.1, 0.5, n)) - 0.1
    loudness_start = -30.0 + 6.0 * z[:, 24]
    return {
        "track_id": spec.track_id,
        "title": f"Synthetic song {spec.index}",
        "artist_name": f"Synthetic artist {spec.index % 997}",
        "song_id": "SO" + spec.track_id[2:],
        "segments_start": starts,
        "segments_timbre": timbre,
        "segments_pitches": np.clip(0.45 + 0.2 * z[:, 12:24], 0.0, 1.0),
        "segments_loudness_start": loudness_start,
        "segments_loudness_max": loudness_start + rng.uniform(0.0, 10.0, n),
    }


def _write_single(task: tuple[str, TrackSpec, int, dict, SignalModel]) -> None:
    data_dir, spec, seed, params, model = task
    write_track_file(track_path(data_dir, spec.track_id),
                     _track_arrays(spec, seed, params, model))


def _write_labels(path: Path, specs: list[TrackSpec]) -> None:
    lines = sorted(f"{s.track_id}\t{s.label}\n" for s in specs if s.label is not None)
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Synthetic genre labels in the tagtraum CD2C format (not real music)\n")
        f.write("# TRACKID<TAB>Genre\n")
        f.writelines(lines)


def _counts(specs: list[TrackSpec], min_segments: int) -> dict:
    return {
        "track_files": sum(s.has_file and s.aggregate is None for s in specs),
        "aggregate_tracks": sum(s.aggregate is not None for s in specs),
        "short_tracks": sum(s.has_file and s.n_segments < min_segments for s in specs),
        "unlabelled_files": sum(s.has_file and s.label is None for s in specs),
        "labels_without_file": sum(not s.has_file for s in specs),
    }

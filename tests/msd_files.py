"""Write small MSD trees in the real layouts, independently of the library's generator.

Track files follow the Million Song Dataset's PyTables layout as h5py sees it:
``/analysis/songs`` (compound table with ``track_id`` and ``idx_segments_*`` offsets),
``/analysis/segments_*`` arrays, ``/metadata/songs`` (artist_name, title, song_id, ...),
``/musicbrainz/songs``. Segment values encode (track number, segment index, feature), so a
test can tell exactly which rows and columns a reader returned.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

SEGMENT_ARRAYS = ("segments_timbre", "segments_pitches", "segments_loudness_start",
                  "segments_start", "segments_loudness_max")


def segments(number: int, n: int) -> dict[str, np.ndarray]:
    """Arrays of track ``number``: feature f of segment i is 1000*number + i + f/100."""
    base = 1000.0 * number + np.arange(n, dtype=np.float64)[:, None]
    features = base + np.arange(25) / 100
    return {
        "segments_timbre": features[:, :12],
        "segments_pitches": features[:, 12:24],
        "segments_loudness_start": features[:, 24],
        "segments_start": np.arange(n) * 0.25,
        "segments_loudness_max": features[:, 24] + 3.0,
    }


def expected_crop(number: int, n: int, length: int = 120) -> np.ndarray:
    """The crop a reader must return: rows (n - length) // 2 onwards, 25 features."""
    start = (n - length) // 2
    return (1000.0 * number + np.arange(start, start + length)[:, None]
            + np.arange(25) / 100).astype(np.float32)


def track_file(root: Path, track_id: str) -> Path:
    return root / "data" / track_id[2] / track_id[3] / track_id[4] / f"{track_id}.h5"


def write_msd_file(path: Path, tracks: list[tuple[str, dict[str, np.ndarray]]],
                   drop: tuple[str, ...] = ()) -> Path:
    """One MSD file holding ``tracks`` [(track_id, arrays)]; one track = single-track file.

    ``drop`` leaves the named segment arrays out (to write broken files).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = [len(arrays["segments_timbre"]) for _, arrays in tracks]
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    songs = np.zeros(len(tracks), dtype=[
        ("analysis_sample_rate", "<i4"), ("duration", "<f8"),
        *[(f"idx_{name}", "<i4") for name in SEGMENT_ARRAYS],
        ("idx_sections_start", "<i4"), ("key", "<i4"), ("tempo", "<f8"),
        ("track_id", "S32")])
    for i, (track_id, _) in enumerate(tracks):
        songs[i] = (22050, 200.0, *[offsets[i]] * len(SEGMENT_ARRAYS), 0, 5, 120.0,
                    track_id.encode())
    metadata = np.zeros(len(tracks), dtype=[("artist_name", "S64"), ("song_id", "S32"),
                                            ("title", "S64")])
    for i, (track_id, _) in enumerate(tracks):
        metadata[i] = (b"Test artist", b"SO" + track_id[2:].encode(), f"Song {i}".encode())
    with h5py.File(path, "w") as f:
        analysis = f.create_group("analysis")
        analysis.create_dataset("songs", data=songs)
        for name in SEGMENT_ARRAYS:
            if name not in drop:
                analysis.create_dataset(name, data=np.concatenate([a[name] for _, a in tracks]))
        analysis.create_dataset("sections_start", data=np.zeros(0))
        f.create_group("metadata").create_dataset("songs", data=metadata)
        f.create_group("musicbrainz").create_dataset(
            "songs", data=np.zeros(len(tracks), dtype=[("year", "<i4")]))
    return path


def write_labels(path: Path, labels: dict[str, str], extra_lines: tuple[str, ...] = ()) -> Path:
    """A tagtraum .cls file: a comment header, then TRACKID<TAB>Genre lines."""
    lines = ["# Genre labels in the tagtraum CD2C format", "#"]
    lines += [f"{track_id}\t{genre}" for track_id, genre in labels.items()]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n")
    return path


def track_id(number: int) -> str:
    """A valid, unique MSD-style track ID for ``number`` (folders vary with it)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    a, b, c = (letters[(number // 26**k) % 26] for k in range(3))
    return f"TR{a}{b}{c}{number:013d}"


def make_tree(root: Path, genres: dict[str, int], aggregate: int = 0,
              lengths: tuple[int, ...] = (120, 121, 125, 160, 301),
              aggregate_files: int = 1) -> dict[str, tuple]:
    """A tree with ``genres[g]`` tracks per genre; returns {track_id: (genre, number, n)}.

    Track k has ``lengths[k % len(lengths)]`` segments (all usable by default). The last
    ``aggregate`` tracks of every genre go into aggregate files (``tracks.h5``, then
    ``tracks_1.h5`` ..., dealt round-robin over ``aggregate_files``); a short track, an
    unlabelled file, another genre and a label without a file are added too. The tracks,
    their IDs and their segments do not depend on ``aggregate``: only where they are stored.
    """
    tracks: dict[str, tuple] = {}
    number = 0
    grouped: list[tuple[str, dict]] = []
    for genre, count in genres.items():
        for i in range(count):
            number += 1
            tid, n = track_id(number), lengths[number % len(lengths)]
            tracks[tid] = (genre, number, n)
            if i >= count - aggregate:
                grouped.append((tid, segments(number, n)))
            else:
                write_msd_file(track_file(root, tid), [(tid, segments(number, n))])
    for k in range(aggregate_files if grouped else 0):
        name = "tracks.h5" if k == 0 else f"tracks_{k}.h5"
        write_msd_file(root / "data" / "aggregate" / name, grouped[k::aggregate_files])
    short, unlabelled, other, absent = (track_id(number + k) for k in range(1, 5))
    write_msd_file(track_file(root, short), [(short, segments(number + 1, 100))])
    write_msd_file(track_file(root, unlabelled), [(unlabelled, segments(number + 2, 150))])
    write_msd_file(track_file(root, other), [(other, segments(number + 3, 150))])
    labels = {tid: genre for tid, (genre, _, _) in tracks.items()}
    labels.update({short: next(iter(genres)), other: "Folk", absent: next(iter(genres))})
    write_labels(root / "labels.cls", labels)
    return tracks

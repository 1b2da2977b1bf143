"""Read Million Song Dataset track files and tagtraum genre labels.

MSD files are HDF5 in the PyTables layout: ``/analysis/segments_timbre`` (n, 12),
``/analysis/segments_pitches`` (n, 12), ``/analysis/segments_loudness_start`` (n,) and a
``/analysis/songs`` table with one row per track (``track_id`` and ``idx_*`` offsets into
the segment arrays; aggregate files hold many tracks back to back). Single-track files sit
at ``data/A/B/C/TRACKID.h5`` (3rd, 4th, 5th letters of the ID).

Files are found from the labelled track IDs with one ``os.path`` check each, so the
million-file tree is never listed; only tracks not found that way trigger a scan, which
skips the ``A/B/C`` hierarchy and looks for aggregate (or misplaced) files elsewhere.
No TensorFlow here.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from msdrnn.errors import DataError
from msdrnn.study import FEATURES

log = logging.getLogger(__name__)

#: The 25 features of a segment, in this order (as in the original study's MSD-10).
ARRAYS = (
    ("segments_timbre", 12),
    ("segments_pitches", 12),
    ("segments_loudness_start", None),
)

TRACK_ID = re.compile(r"TR[A-Z0-9]{16}")
_HIERARCHY_DIR = re.compile(r"[A-Z]")


@dataclass(frozen=True)
class Location:
    """Where a track's segments are: a file, and its row in ``/analysis/songs``.

    ``row`` is None for a single-track file found at its ``A/B/C`` path (whole arrays).
    """

    path: str
    row: int | None = None


@dataclass(frozen=True)
class TrackResult:
    """Outcome of reading one track: ``crop`` (segments, 25) or ``n_segments`` if short."""

    track_id: str
    crop: np.ndarray | None
    n_segments: int


@dataclass(frozen=True)
class FileResult:
    """Outcome of reading one file: its tracks, or ``error`` if the file is bad."""

    path: str
    tracks: list[TrackResult]
    error: str | None = None


def read_labels(path: str | Path) -> dict[str, str]:
    """Parse a tagtraum ``.cls`` file into {track_id: genre}.

    ``#`` lines are comments, blank lines are ignored, every other line must be
    ``TRACKID<TAB>Genre``. A malformed line or a track given two genres is a DataError
    naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: label file not found (expected a tagtraum .cls file)")
    labels: dict[str, str] = {}
    first_line: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 2 or not fields[1].strip():
                raise DataError(
                    f"{path}, line {number}: {line[:80]!r}; expected TRACKID<TAB>Genre"
                )
            track_id, genre = fields[0].strip(), fields[1].strip()
            if not TRACK_ID.fullmatch(track_id):
                raise DataError(
                    f"{path}, line {number}: track ID {track_id[:40]!r}; expected 'TR' "
                    "followed by 16 upper-case letters or digits"
                )
            if labels.get(track_id, genre) != genre:
                raise DataError(
                    f"{path}, line {number}: {track_id} labelled {genre!r}, but "
                    f"{labels[track_id]!r} on line {first_line[track_id]}"
                )
            labels[track_id] = genre
            first_line.setdefault(track_id, number)
    return labels


def track_path(base: str | Path, track_id: str) -> Path:
    """The single-track file of ``track_id`` under a ``data`` folder: ``A/B/C/ID.h5``."""
    return Path(base, track_id[2], track_id[3], track_id[4], f"{track_id}.h5")


def locate_tracks(root: str | Path, track_ids: list[str],
                  skipped: list[tuple[str, str]] | None = None
                  ) -> tuple[dict[str, Location], int]:
    """Find the files of ``track_ids`` under an MSD ``root``; returns (locations, scanned).

    ``root`` may be the MSD folder (holding ``data/``) or its ``data`` folder. Tracks not at
    their ``A/B/C`` path are looked for in the other ``.h5`` files (aggregate files);
    ``scanned`` is how many such files were opened. Tracks found nowhere are left out.
    An unreadable scanned file is a DataError, or appended to ``skipped`` as (path, reason)
    when a list is given.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: MSD folder not found (expected a directory of .h5 files)")
    bases = [b for b in (root / "data", root) if b.is_dir()]
    found: dict[str, Location] = {}
    for track_id in track_ids:
        for base in bases:
            candidate = track_path(base, track_id)
            if os.path.isfile(candidate):
                found[track_id] = Location(str(candidate))
                break
    missing = set(track_ids) - found.keys()
    if not missing:
        return found, 0
    scanned = 0
    for path in _scan_outside_hierarchy(root):
        scanned += 1
        try:
            ids = _song_track_ids(path)
        except DataError as err:
            if skipped is None:
                raise
            skipped.append((str(path), str(err).removeprefix(f"{path}: ")))
            continue
        for row, track_id in enumerate(ids):
            if track_id in missing:
                found[track_id] = Location(str(path), row)
                missing.discard(track_id)
    return found, scanned


def _scan_outside_hierarchy(root: Path) -> list[Path]:
    """All ``.h5`` files under ``root`` except inside one-letter (A/B/C) folders."""
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _HIERARCHY_DIR.fullmatch(d))
        paths.extend(Path(folder, name) for name in sorted(files) if name.endswith(".h5"))
    return paths


def _song_track_ids(path: Path) -> list[str]:
    """Track IDs in a scanned file's ``/analysis/songs``; [] for files without segments.

    A file without segment arrays (such as the MSD summary file) holds no usable tracks.
    Unreadable files raise DataError: they may be the file a labelled track lives in.
    """
    try:
        with h5py.File(path, "r") as f:
            if "analysis/songs" not in f or "analysis/segments_timbre" not in f:
                log.info("%s: no /analysis/songs or segment arrays; not a track file, ignored",
                         path)
                return []
            return [_text(t) for t in f["analysis/songs"]["track_id"]]
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path}: not a readable MSD HDF5 file ({_reason(err)})") from None


def read_file(path: str, tracks: list[tuple[str, int | None]], segments: int) -> FileResult:
    """Read the central ``segments``-long crop of each (track_id, row) in one file.

    The crop starts at ``(n - segments) // 2``; only those rows are read. Tracks shorter
    than ``segments`` come back without a crop. A corrupt file, missing arrays, wrong
    shapes, non-finite values, or a single-track file (row None) whose ``/analysis/songs``
    does not hold exactly that one track make ``error`` say what is wrong (and nothing is
    returned). HDF5's low-level API is used: opening files is the cost, and it is 4x
    cheaper so.
    """
    try:
        fid = h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDONLY, fapl=_strong_close())
    except OSError as err:
        return FileResult(path, [], f"not a readable MSD HDF5 file ({_reason(err)})")
    try:
        for track_id, row in tracks:
            if row is None:
                _check_single_track(fid, track_id)
        arrays = [_segment_array(fid, name, width) for name, width in ARRAYS]
        lengths = [array.shape[0] for array in arrays]
        if len(set(lengths)) != 1:
            raise _BadFile(f"segment arrays {[name for name, _ in ARRAYS]} have lengths "
                           f"{lengths}; expected equal lengths")
        rows = [row for _, row in tracks if row is not None]
        bounds = _song_bounds(h5py.File(fid), rows, lengths[0]) if rows else {}
        results = []
        for track_id, row in tracks:
            starts, n = ((0,) * len(arrays), lengths[0]) if row is None else bounds[row]
            if n < segments:
                results.append(TrackResult(track_id, None, n))
                continue
            crop = np.empty((segments, FEATURES), dtype=np.float32)
            column = 0
            for (_, width), array, start in zip(ARRAYS, arrays, starts, strict=True):
                part = _read_rows(array, start + (n - segments) // 2, segments, width)
                crop[:, column:column + (width or 1)] = part.reshape(segments, -1)
                column += width or 1
            if not np.isfinite(crop).all():
                raise _BadFile(f"segments of {track_id} hold NaN or inf; expected finite")
            results.append(TrackResult(track_id, crop, n))
        return FileResult(path, results)
    except _BadFile as err:
        return FileResult(path, [], str(err))
    except (OSError, KeyError, ValueError, TypeError) as err:
        return FileResult(path, [], f"not a readable MSD HDF5 file ({_reason(err)})")
    finally:
        fid.close()


def read_task(task: tuple[str, list[tuple[str, int | None]], int]) -> FileResult:
    """``read_file`` for one (path, tracks, segments) tuple: the worker-pool entry point."""
    return read_file(*task)


class _BadFile(Exception):
    """A track file that opens but does not hold what an MSD track file must."""


@dataclass(frozen=True)
class _Array:
    dataset: h5py.h5d.DatasetID
    shape: tuple[int, ...]


@functools.cache
def _strong_close() -> h5py.h5p.PropFAID:
    """File access properties that close the file with its last handle, as h5py.File does."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_fclose_degree(h5py.h5f.CLOSE_STRONG)
    return fapl


def _segment_array(fid: h5py.h5f.FileID, name: str, width: int | None) -> _Array:
    key = f"/analysis/{name}"
    expected = f"(n, {width})" if width else "(n,)"
    try:
        dataset = h5py.h5d.open(fid, key.encode())
    except KeyError:
        raise _BadFile(f"{key} is missing; expected a {expected} float array") from None
    shape = dataset.get_space().shape
    kind = dataset.get_type().get_class()
    ok = len(shape) == 2 and shape[1] == width if width else len(shape) == 1
    if not ok or kind not in (h5py.h5t.FLOAT, h5py.h5t.INTEGER):
        raise _BadFile(f"{key} has shape {shape}, type class {kind}; expected a {expected} "
                       "float array")
    return _Array(dataset, shape)


def _check_single_track(fid: h5py.h5f.FileID, track_id: str) -> None:
    """A file found at ``A/B/C/TRACKID.h5`` must hold that one track and no other.

    Only the ``track_id`` bytes of ``/analysis/songs`` are taken, from its one row read
    in the file's own type (no conversion: this runs for every file read).
    """
    try:
        songs = h5py.h5d.open(fid, b"/analysis/songs")
    except KeyError:
        raise _BadFile("/analysis/songs is missing; expected the per-track table") from None
    file_type = songs.get_type()
    shape = songs.get_space().shape
    if file_type.get_class() != h5py.h5t.COMPOUND or len(shape) != 1:
        raise _BadFile("/analysis/songs is not a table; expected one row per track")
    try:
        member = file_type.get_member_index(b"track_id")
    except ValueError:
        raise _BadFile("/analysis/songs has no 'track_id' column; expected the track's "
                       "ID") from None
    if file_type.get_member_class(member) != h5py.h5t.STRING or shape[0] != 1:
        raise _BadFile(f"/analysis/songs has {shape[0]} row(s), 'track_id' of type class "
                       f"{file_type.get_member_class(member)}; expected one row with the "
                       f"string {track_id} (a single-track file)")
    row = np.empty(file_type.get_size(), np.uint8)
    songs.read(h5py.h5s.ALL, h5py.h5s.ALL, row, mtype=file_type)
    start = file_type.get_member_offset(member)
    stored = row[start:start + file_type.get_member_type(member).get_size()].tobytes()
    found = stored.rstrip(b"\0 ").decode("utf-8", "replace")
    if found != track_id:
        raise _BadFile(f"/analysis/songs 'track_id' is {found!r}; expected {track_id}, the "
                       "ID in the file's path")


def _read_rows(array: _Array, start: int, count: int, width: int | None) -> np.ndarray:
    """Rows ``start .. start + count`` of a segment array, as float32."""
    out = np.empty((count, width) if width else (count,), dtype=np.float32)
    space = array.dataset.get_space()
    space.select_hyperslab((start, 0) if width else (start,), out.shape)
    array.dataset.read(h5py.h5s.create_simple(out.shape), space, out)
    return out


def _song_bounds(f: h5py.File, rows: list[int],
                 n_total: int) -> dict[int, tuple[tuple[int, ...], int]]:
    """Per requested row: the start of its segments in each array, and its length."""
    if "analysis/songs" not in f:
        raise _BadFile("/analysis/songs is missing; expected the per-track table")
    songs = f["analysis/songs"][()]
    names = songs.dtype.names or ()
    bounds = {}
    for row in rows:
        if not 0 <= row < len(songs):
            raise _BadFile(f"/analysis/songs has {len(songs)} rows; expected row {row}")
        starts, lengths = [], []
        for name, _ in ARRAYS:
            column = f"idx_{name}"
            if column not in names:
                raise _BadFile(f"/analysis/songs has no '{column}' column; expected "
                               "segment offsets")
            start = int(songs[column][row])
            end = int(songs[column][row + 1]) if row + 1 < len(songs) else n_total
            if not 0 <= start <= end <= n_total:
                raise _BadFile(f"/analysis/songs '{column}' row {row} gives segments "
                               f"{start}..{end}; expected within 0..{n_total}")
            starts.append(start)
            lengths.append(end - start)
        if len(set(lengths)) != 1:
            raise _BadFile(f"/analysis/songs row {row}: segment counts {lengths} differ; "
                           "expected equal")
        bounds[row] = (tuple(starts), lengths[0])
    return bounds


def _reason(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

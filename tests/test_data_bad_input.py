"""Every bad input stops with one clear message, no partial output, earlier results kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import ROOT, msd_config
from msd_files import make_tree, segments, track_file, track_id, write_labels, write_msd_file

from msdrnn.dataset import DataConfig, prepare_dataset
from msdrnn.dataset_io import load_split
from msdrnn.errors import DataError
from msdrnn.steps import make_steps

GENRES = {"Rap": 6, "Rock": 6}
OLD = b"earlier results"




def fails(cfg: DataConfig, out_dir: Path, *parts: str) -> str:
    """Run the build expecting a DataError naming ``parts``; check nothing was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "dataset.h5"
    out.write_bytes(OLD)
    with pytest.raises(DataError) as error:
        prepare_dataset(cfg, out)
    message = str(error.value)
    for part in parts:
        assert part in message
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in out_dir.iterdir()) == ["dataset.h5"]  # no temp, no TSV
    return message


@pytest.fixture
def tree(tmp_path) -> tuple[Path, dict]:
    root = tmp_path / "msd"
    return root, make_tree(root, GENRES)


def test_missing_msd_folder(tmp_path):
    write_labels(tmp_path / "labels.cls", {})
    fails(msd_config(tmp_path / "absent", GENRES, labels=str(tmp_path / "labels.cls")),
          tmp_path / "o", str(tmp_path / "absent"), "msd_root")


def test_missing_label_file(tree, tmp_path):
    root, _ = tree
    fails(msd_config(root, GENRES, labels=str(root / "nope.cls")), tmp_path / "o", "nope.cls",
          "labels")


def test_no_track_files_found(tmp_path):
    (tmp_path / "msd").mkdir()
    write_labels(tmp_path / "msd" / "labels.cls", {track_id(1): "Rap"})
    fails(msd_config(tmp_path / "msd", GENRES), tmp_path / "o", "no track files found",
          str(tmp_path / "msd"))


@pytest.mark.parametrize("line, field", [
    ("TRAAAAK128F9318786 Rock", "expected TRACKID<TAB>Genre"),
    ("TRAAAAK128F9318786\tRock\tPop", "expected TRACKID<TAB>Genre"),
    ("XX123\tRock", "track ID"),
    ("TRAAAAK128F9318786\t", "expected TRACKID<TAB>Genre"),
])
def test_malformed_label_line_names_the_line(tree, tmp_path, line, field):
    root, tracks = tree
    labels = {t: g for t, (g, _, _) in tracks.items()}
    write_labels(root / "labels.cls", labels, extra_lines=(line,))
    fails(msd_config(root, GENRES), tmp_path / "o", str(root / "labels.cls"),
          f"line {len(labels) + 3}", field)


def test_conflicting_labels_name_both_lines(tree, tmp_path):
    root, tracks = tree
    first = next(iter(tracks))
    write_labels(root / "labels.cls", {t: g for t, (g, _, _) in tracks.items()},
                 extra_lines=(f"{first}\tJazz",))
    fails(msd_config(root, GENRES), tmp_path / "o", "line 3", "'Jazz'")


def corrupt(path: Path) -> None:
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 4)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def drop_pitches(path: Path) -> None:
    tid = path.stem
    write_msd_file(path, [(tid, segments(99, 150))], drop=("segments_pitches",))


def narrow_pitches(path: Path) -> None:
    tid, arrays = path.stem, segments(99, 150)
    arrays["segments_pitches"] = arrays["segments_pitches"][:, :11]
    write_msd_file(path, [(tid, arrays)])


def nan_timbre(path: Path) -> None:
    tid, arrays = path.stem, segments(99, 150)
    arrays["segments_timbre"][70, 3] = np.nan
    write_msd_file(path, [(tid, arrays)])


def other_track(path: Path) -> None:
    """A well-formed track file at this path, holding another track."""
    write_msd_file(path, [(track_id(9999), segments(99, 150))])


def two_tracks(path: Path) -> None:
    """The path's track and another one in a file at a single-track path."""
    write_msd_file(path, [(path.stem, segments(98, 150)), (track_id(9999), segments(99, 150))])


BREAKERS = {
    "corrupt": (corrupt, "not a readable MSD HDF5 file"),
    "truncated": (truncate, "not a readable MSD HDF5 file"),
    "missing array": (drop_pitches, "/analysis/segments_pitches is missing"),
    "wrong shape": (narrow_pitches, "/analysis/segments_pitches has shape (150, 11)"),
    "non-finite": (nan_timbre, "NaN or inf"),
    "other track": (other_track, f"'track_id' is '{track_id(9999)}'; expected TR"),
    "two tracks": (two_tracks, "/analysis/songs has 2 row(s)"),
}


@pytest.mark.parametrize("kind", BREAKERS)
def test_bad_track_file_stops_and_names_it(tree, tmp_path, kind):
    root, tracks = tree
    bad = track_file(root, next(iter(tracks)))
    breaker, field = BREAKERS[kind]
    breaker(bad)
    fails(msd_config(root, GENRES), tmp_path / "o", str(bad), field, "on_bad_file")


@pytest.mark.parametrize("kind", BREAKERS)
def test_bad_track_file_skipped_and_listed(tree, tmp_path, kind):
    root, tracks = tree
    bad = [track_file(root, t) for t in list(tracks)[:2]]
    breaker, field = BREAKERS[kind]
    for path in bad:
        breaker(path)
    out = tmp_path / "o" / "dataset.h5"
    prepare_dataset(msd_config(root, GENRES, on_bad_file="skip"), out)
    rows = (tmp_path / "o" / "dataset.skipped.tsv").read_text().splitlines()
    assert rows[0] == "path\treason"
    assert sorted(r.split("\t")[0] for r in rows[1:]) == sorted(map(str, bad))
    assert all(field in r for r in rows[1:])
    assert load_split(out, "train").size == 6


def test_bad_aggregate_offsets_name_the_column(tmp_path):
    root = tmp_path / "msd"
    tracks = make_tree(root, GENRES, aggregate=2)
    path = root / "data" / "aggregate" / "tracks.h5"
    with h5py.File(path, "a") as f:
        songs = f["analysis/songs"][()]
        songs["idx_segments_pitches"][1] = 10**6
        f["analysis/songs"][...] = songs
    assert len(tracks) == 12
    fails(msd_config(root, GENRES, per_genre=5, per_genre_test=1), tmp_path / "o", str(path),
          "idx_segments_pitches")


def test_too_few_tracks_gives_a_table_and_can_proceed(tree, tmp_path):
    root, _ = tree
    message = fails(msd_config(root, GENRES, per_genre=8, per_genre_test=0), tmp_path / "o",
                    "per_genre", "allow_short_genres", "genre", "usable")
    assert "Rap" in message and "Rock" in message
    out = tmp_path / "ok" / "dataset.h5"
    counts = prepare_dataset(msd_config(root, GENRES, per_genre=8, per_genre_test=0,
                                    allow_short_genres=True), out)
    assert counts["train"]["Rap"] + counts["valid"]["Rap"] == 6


@pytest.mark.parametrize("change, field", [
    ({"source": "msd"}, "data.source"),
    ({"per_genre": 0}, "data.per_genre"),
    ({"valid_fraction": 1.0}, "data.valid_fraction"),
    ({"on_bad_file": "ignore"}, "data.on_bad_file"),
    ({"genres": ("Rap", "Rap")}, "data.genres"),
])
def test_bad_config_values(tree, tmp_path, change, field):
    root, _ = tree
    genres = change.pop("genres", GENRES)
    fails(msd_config(root, genres, **change), tmp_path / "o", field)


def test_cli_exit_code_and_single_line_message(tree, tmp_path):
    root, tracks = tree
    bad = track_file(root, next(iter(tracks)))
    corrupt(bad)
    out = tmp_path / "dataset.h5"
    out.write_bytes(OLD)
    result = subprocess.run(
        [sys.executable, ROOT / "workflow_scripts" / "prepare_dataset.py", "--source",
         "msd_h5", "--msd-root", root, "--labels", root / "labels.cls", "--genres",
         "Rap,Rock", "--per-genre", "4", "--per-genre-test", "1", "--workers", "1", "--out",
         out], capture_output=True, text=True)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(bad) in errors[0]
    assert out.read_bytes() == OLD


def test_steps_must_divide_segments(tree, tmp_path):
    root, _ = tree
    folder = tmp_path / "o"
    dataset = folder / "dataset.h5"
    prepare_dataset(msd_config(root, GENRES), dataset)
    out = folder / "steps_7.h5"
    out.write_bytes(OLD)
    with pytest.raises(DataError, match=r"steps 7 does not divide the 120 segments"):
        make_steps(dataset, 7, out)
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in folder.iterdir()) == ["dataset.h5", "dataset.skipped.tsv",
                                                        "steps_7.h5"]
    result = subprocess.run(
        [sys.executable, ROOT / "workflow_scripts" / "make_steps.py", "--dataset", dataset,
         "--steps", "0", "--out", out], capture_output=True, text=True)
    assert result.returncode == 2 and "steps 0 does not divide" in result.stderr


def test_corrupt_aggregate_file_stops_or_is_skipped(tmp_path):
    root = tmp_path / "msd"
    make_tree(root, GENRES, aggregate=1)
    path = root / "data" / "aggregate" / "tracks.h5"
    truncate(path)
    fails(msd_config(root, GENRES), tmp_path / "o", str(path), "not a readable MSD HDF5 file")
    out = tmp_path / "skip" / "dataset.h5"
    prepare_dataset(msd_config(root, GENRES, on_bad_file="skip"), out)
    rows = (tmp_path / "skip" / "dataset.skipped.tsv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith(f"{path}\t")


def test_script_writes_the_skipped_list_where_told(tree, tmp_path):
    """The rule declares dataset.skipped.tsv as an output and passes it as --skipped."""
    root, tracks = tree
    bad = track_file(root, next(iter(tracks)))
    truncate(bad)
    listed = tmp_path / "elsewhere" / "bad_files.tsv"
    listed.parent.mkdir()
    result = subprocess.run(
        [sys.executable, ROOT / "workflow_scripts" / "prepare_dataset.py", "--source", "msd_h5",
         "--msd-root", root, "--labels", root / "labels.cls", "--genres", ",".join(GENRES),
         "--per-genre", "4", "--per-genre-test", "1", "--workers", "1",
         "--on-bad-file", "skip", "--out", tmp_path / "o" / "dataset.h5", "--skipped", listed],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = listed.read_text().splitlines()
    assert rows[0] == "path\treason" and [r.split("\t")[0] for r in rows[1:]] == [str(bad)]
    assert not (tmp_path / "o" / "dataset.skipped.tsv").exists()

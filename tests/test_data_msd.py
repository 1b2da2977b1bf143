"""MSD readers and the msd_h5 build: labels, crop, aggregate files, split, standardisation."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from helpers import msd_config
from msd_files import (
    expected_crop,
    make_tree,
    segments,
    track_file,
    track_id,
    write_labels,
    write_msd_file,
)

from msdrnn.dataset import genre_order, prepare_dataset
from msdrnn.dataset_io import dataset_fingerprint, load_split, read_label_map
from msdrnn.msd import Location, locate_tracks, read_file, read_labels

GENRES = {"Rap": 10, "Rock": 10, "Jazz": 10}
SIZES = {"per_genre": 5, "per_genre_test": 2}




def test_labels_skip_comments_and_blank_lines(tmp_path):
    path = tmp_path / "l.cls"
    path.write_text("# header\n\nTRAAAAK128F9318786\tRock\nTRAAAAV128F421A322\tPop\r\n")
    assert read_labels(path) == {"TRAAAAK128F9318786": "Rock", "TRAAAAV128F421A322": "Pop"}


@pytest.mark.parametrize("n", [120, 121, 122, 125, 200, 301])
def test_crop_is_central_and_in_feature_order(tmp_path, n):
    path = write_msd_file(tmp_path / "t.h5", [(track_id(1), segments(7, n))])
    result = read_file(str(path), [(track_id(1), None)], 120)
    assert result.error is None
    crop = result.tracks[0].crop
    assert crop.shape == (120, 25) and crop.dtype == np.float32
    np.testing.assert_array_equal(crop, expected_crop(7, n))
    assert crop[0, 0] == 7000 + (n - 120) // 2  # timbre 0 of the first cropped segment
    assert crop[0, 12] == pytest.approx(7000 + (n - 120) // 2 + 0.12)  # pitches come next


def test_short_track_returns_no_crop(tmp_path):
    path = write_msd_file(tmp_path / "t.h5", [(track_id(1), segments(1, 119))])
    track = read_file(str(path), [(track_id(1), None)], 120).tracks[0]
    assert track.crop is None and track.n_segments == 119


def test_aggregate_file_rows_use_idx_offsets(tmp_path):
    lengths = [130, 119, 250, 120]
    tracks = [(track_id(k), segments(k, n)) for k, n in enumerate(lengths, start=1)]
    path = write_msd_file(tmp_path / "agg.h5", tracks)
    result = read_file(str(path), [(track_id(3), 2), (track_id(1), 0), (track_id(2), 1),
                                   (track_id(4), 3)], 120)
    got = {t.track_id: t for t in result.tracks}
    np.testing.assert_array_equal(got[track_id(3)].crop, expected_crop(3, 250))
    np.testing.assert_array_equal(got[track_id(1)].crop, expected_crop(1, 130))
    np.testing.assert_array_equal(got[track_id(4)].crop, expected_crop(4, 120))
    assert got[track_id(2)].crop is None


def test_locate_by_path_without_scanning(tmp_path):
    tracks = make_tree(tmp_path, GENRES)
    (tmp_path / "data" / "A" / "junk.h5").write_bytes(b"not hdf5")  # never opened
    locations, scanned = locate_tracks(tmp_path, sorted(tracks))
    assert scanned == 0
    assert all(locations[t] == Location(str(track_file(tmp_path, t))) for t in tracks)


def test_locate_scans_only_outside_the_letter_folders(tmp_path):
    tracks = make_tree(tmp_path, GENRES, aggregate=3)
    (tmp_path / "data" / "A" / "junk.h5").write_bytes(b"not hdf5")  # inside A/: skipped
    locations, scanned = locate_tracks(tmp_path / "data", sorted(tracks))
    assert scanned == 1 and len(locations) == len(tracks)
    rows = sorted(loc.row for loc in locations.values() if loc.row is not None)
    assert rows == list(range(9))


def test_build_counts_crop_and_standardisation(tmp_path):
    tracks = make_tree(tmp_path, GENRES, aggregate=2)
    out = tmp_path / "out" / "dataset.h5"
    counts = prepare_dataset(msd_config(tmp_path, GENRES, **SIZES), out)
    assert counts["train"] == {"Rap": 4, "Rock": 4, "Jazz": 4}
    assert counts["valid"] == {"Rap": 1, "Rock": 1, "Jazz": 1}
    assert counts["test"] == {"Rap": 2, "Rock": 2, "Jazz": 2}
    assert read_label_map(out) == list(GENRES)
    with h5py.File(out) as f:
        ids = {s: [t.decode() for t in f[s]["track_ids"][()]] for s in ("train", "valid",
                                                                       "test")}
        mean, std = f["mean"][()], f["std"][()]
        assert f.attrs["source"] == "msd_h5"
        assert json.loads(f.attrs["config"])["per_genre"] == 5
        selection = json.loads(f.attrs["selection"])
    assert selection["short_tracks"] == 1 and selection["files_found"] == 31
    raw = {s: np.stack([expected_crop(tracks[t][1], tracks[t][2]) for t in ids[s]])
           for s in ids}
    np.testing.assert_allclose(mean, raw["train"].astype(np.float64).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, raw["train"].astype(np.float64).std(axis=0), rtol=1e-6)
    for split in ids:
        data = load_split(out, split)
        assert data.inputs.shape == (len(ids[split]), 120, 25)
        np.testing.assert_allclose(data.inputs, (raw[split] - mean) / std, atol=1e-4)
        genres = [list(GENRES).index(tracks[t][0]) for t in ids[split]]
        np.testing.assert_array_equal(data.targets, genres)
    assert np.abs(load_split(out, "train").inputs.mean(axis=0)).max() < 1e-4
    assert (tmp_path / "out" / "dataset.skipped.tsv").read_text() == "path\treason\n"


def test_split_depends_only_on_seed(tmp_path):
    make_tree(tmp_path, GENRES, aggregate=2)

    def split_ids(name, **changes):
        out = tmp_path / name / "dataset.h5"
        prepare_dataset(msd_config(tmp_path, GENRES, **(SIZES | changes)), out)
        with h5py.File(out) as f:
            return {s: list(f[s]["track_ids"][()]) for s in ("train", "valid", "test")}

    first = split_ids("a")
    assert split_ids("b", workers=2) == first
    assert split_ids("c") == first
    assert split_ids("d", seed=1) != first


def test_no_test_split_when_per_genre_test_is_zero(tmp_path):
    make_tree(tmp_path, GENRES)
    out = tmp_path / "dataset.h5"
    prepare_dataset(msd_config(tmp_path, GENRES, per_genre=5, per_genre_test=0), out)
    with h5py.File(out) as f:
        assert sorted(f) == ["label_map", "mean", "std", "train", "valid"]


def test_unusable_tracks_are_left_out(tmp_path):
    tracks = make_tree(tmp_path, {"Rap": 3, "Rock": 3})
    labels = {t: g for t, (g, _, _) in tracks.items()}
    write_labels(tmp_path / "labels.cls", labels | {track_id(7): "Rap", track_id(9): "Folk"})
    out = tmp_path / "dataset.h5"
    prepare_dataset(msd_config(tmp_path, ("Rap", "Rock"), per_genre=3, per_genre_test=0,
                           valid_fraction=0.34), out)
    with h5py.File(out) as f:
        kept = {t.decode() for s in ("train", "valid") for t in f[s]["track_ids"][()]}
    assert kept == set(tracks)


def test_a_track_file_must_hold_the_track_of_its_path(tmp_path):
    """The ID in ``/analysis/songs`` is checked against the one in the path."""
    path = write_msd_file(track_file(tmp_path, track_id(1)), [(track_id(2), segments(2, 150))])
    result = read_file(str(path), [(track_id(1), None)], 120)
    assert result.tracks == []
    assert result.error == (f"/analysis/songs 'track_id' is '{track_id(2)}'; expected "
                            f"{track_id(1)}, the ID in the file's path")
    good = read_file(str(path), [(track_id(2), None)], 120)
    assert good.error is None and good.tracks[0].track_id == track_id(2)


def read_splits(path) -> dict[str, dict[str, bytes]]:
    """Every split's arrays as stored, as bytes (byte-identical means equal here)."""
    with h5py.File(path) as f:
        return {s: {key: f[s][key][()].tobytes() if key != "track_ids"
                    else b"\n".join(f[s][key][()]) for key in ("inputs", "targets", "track_ids")}
                for s in ("train", "valid", "test")} | {
            "stats": {key: f[key][()].tobytes() for key in ("mean", "std")}}


SHORT_EVERY_THIRD = (120, 100, 301, 125, 119, 160)  # two in six tracks are too short


@pytest.mark.parametrize("workers", [1, 2])
def test_split_does_not_depend_on_how_tracks_are_stored(tmp_path, workers):
    """The same tracks, all in single-track files or a third of them in two aggregate
    files, give byte-identical splits; short tracks are replaced in both the same way."""
    genres = {"Rap": 15, "Rock": 15, "Jazz": 15}
    singles, mixed = tmp_path / "singles", tmp_path / "mixed"
    tracks = make_tree(singles, genres, lengths=SHORT_EVERY_THIRD)
    assert make_tree(mixed, genres, aggregate=5, aggregate_files=2,
                     lengths=SHORT_EVERY_THIRD) == tracks
    built = {}
    for root in (singles, mixed):
        out = root / "out" / "dataset.h5"
        prepare_dataset(msd_config(root, GENRES, **SIZES, workers=workers), out)
        built[root] = out
    assert read_splits(built[singles]) == read_splits(built[mixed])
    assert dataset_fingerprint(built[singles]) == dataset_fingerprint(built[mixed])
    with h5py.File(built[mixed]) as f:
        used = {t.decode() for s in ("train", "valid", "test") for t in f[s]["track_ids"]}
    assert any(not track_file(mixed, t).is_file() for t in used)  # aggregates were used


def test_each_genre_keeps_its_first_usable_tracks_in_its_order(tmp_path):
    """Per genre: the first per_genre usable tracks of the seed's order are train+valid
    (the last valid_fraction valid), the next per_genre_test test, short ones passed over."""
    genres = {"Rap": 15, "Rock": 15, "Jazz": 15}
    tracks = make_tree(tmp_path, genres, aggregate=6, aggregate_files=2,
                       lengths=SHORT_EVERY_THIRD)
    out = tmp_path / "out" / "dataset.h5"
    prepare_dataset(msd_config(tmp_path, GENRES, **SIZES, seed=3), out)
    with h5py.File(out) as f:
        split_of = {t.decode(): s for s in ("train", "valid", "test")
                    for t in f[s]["track_ids"]}
    labels = read_labels(tmp_path / "labels.cls")
    aggregated = {t for i, t in enumerate(tracks) if i % 15 >= 15 - 6}
    for genre in genres:
        located = [t for t, g in labels.items() if g == genre
                   and (t in aggregated or track_file(tmp_path, t).is_file())]
        order = genre_order(located, genre, seed=3)
        usable = [t for t in order if t in tracks and tracks[t][2] >= 120]
        assert len(usable) > 7  # some usable tracks are left over: the choice matters
        assert [split_of.get(t) for t in usable[:8]] == ["train"] * 4 + ["valid"] + ["test"] * 2 \
            + [None]
        assert not any(t in split_of for t in order if t not in usable[:7])

"""The synthetic generator: real layouts, nuisances, determinism, and the msd_h5 path."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
from helpers import SCRIPTS

from msdrnn.dataset import DataConfig, prepare_dataset
from msdrnn.dataset_io import load_split
from msdrnn.errors import DataError
from msdrnn.msd import read_labels, track_path
from msdrnn.synthetic import LABEL_FILE, generate_tree

GENRES = ["Rap", "Rock", "Jazz"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "tree"
    generate_tree(out, GENRES, 40, seed=3, aggregate_files=2, workers=1)
    return out


def test_layout_and_nuisances(tree):
    summary = json.loads((tree / "COMPLETE").read_text())
    assert not tree.with_name("tree.tmp").exists()
    labels = read_labels(tree / LABEL_FILE)
    singles = sorted(tree.glob("data/?/?/?/TR*.h5"))
    aggregates = sorted(tree.glob("data/aggregate/*.h5"))
    counts = summary["counts"]
    assert len(singles) == counts["track_files"] and len(aggregates) == 2
    assert counts["short_tracks"] >= 1 and counts["unlabelled_files"] >= 1
    assert counts["labels_without_file"] >= 1
    assert {"Folk", "Latin"} & set(labels.values())
    for path in singles[:5]:
        assert path == track_path(tree / "data", path.stem)
        with h5py.File(path) as f:
            assert f["analysis/songs"]["track_id"][0].decode() == path.stem
            n = f["analysis/segments_timbre"].shape[0]
            assert f["analysis/segments_pitches"].shape == (n, 12)
            assert f["analysis/segments_loudness_start"].shape == (n,)
            assert f["analysis/songs"]["idx_segments_timbre"][0] == 0
            assert "artist_name" in f["metadata/songs"].dtype.names
            assert 0 <= f["analysis/segments_pitches"][()].min() <= 1
    with h5py.File(aggregates[0]) as f:
        songs = f["analysis/songs"][()]
        assert len(songs) > 1 and np.all(np.diff(songs["idx_segments_timbre"]) >= 120 // 3)


def test_same_seed_same_tree(tree, tmp_path):
    again = tmp_path / "again"
    generate_tree(again, GENRES, 40, seed=3, aggregate_files=2, workers=2)
    assert (again / LABEL_FILE).read_bytes() == (tree / LABEL_FILE).read_bytes()
    path = next(iter(sorted(tree.glob("data/?/?/?/TR*.h5"))))
    with h5py.File(path) as a, h5py.File(again / path.relative_to(tree)) as b:
        np.testing.assert_array_equal(a["analysis/segments_timbre"][()],
                                      b["analysis/segments_timbre"][()])
    (again / "COMPLETE").unlink()  # as a workflow does before rerunning the rule
    generate_tree(again, GENRES, 40, seed=4, aggregate_files=2, workers=1)
    assert (again / LABEL_FILE).read_bytes() != (tree / LABEL_FILE).read_bytes()


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(DataError, match="not a generated tree"):
        generate_tree(tmp_path / "mine", GENRES, 10, seed=0)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_goes_through_the_msd_path(tree, tmp_path):
    out = tmp_path / "dataset.h5"
    counts = prepare_dataset(DataConfig(source="synthetic", msd_root=str(tree),
                                        labels=str(tree / LABEL_FILE), genres=tuple(GENRES),
                                        per_genre=30, per_genre_test=5, workers=1), out)
    assert counts["train"] == dict.fromkeys(GENRES, 24)
    with h5py.File(out) as f:
        assert f.attrs["source"] == "synthetic"
        ids = {t.decode() for s in ("train", "valid", "test") for t in f[s]["track_ids"][()]}
    aggregate_ids = set()
    for path in tree.glob("data/aggregate/*.h5"):
        with h5py.File(path) as f:
            aggregate_ids |= {t.decode() for t in f["analysis/songs"]["track_id"]}
    assert ids & aggregate_ids  # tracks from aggregate files were used
    assert load_split(out, "train").inputs.shape == (72, 120, 25)


def test_order_carries_more_than_the_segment_bag(tree, tmp_path):
    """Type bigrams (order) separate genres better than type counts (no order)."""
    out = tmp_path / "dataset.h5"
    prepare_dataset(DataConfig(source="synthetic", msd_root=str(tree),
                               labels=str(tree / LABEL_FILE), genres=tuple(GENRES),
                               per_genre=30, per_genre_test=0, workers=1), out)
    split = load_split(out, "train")
    x = split.inputs.reshape(-1, 25)
    centres = x[np.random.default_rng(0).choice(len(x), 8, replace=False)]
    for _ in range(20):  # k-means: recover the segment types
        types = ((x[:, None] - centres) ** 2).sum(-1).argmin(1)
        centres = np.stack([x[types == k].mean(0) if (types == k).any() else centres[k]
                            for k in range(8)])
    types = types.reshape(len(split.targets), 120)
    pairs = types[:, :-1] * 8 + types[:, 1:]

    def spread(features):  # between-genre variance / within-genre variance
        by_genre = [features[split.targets == g].mean(0) for g in range(3)]
        within = np.mean([features[split.targets == g].var(0) for g in range(3)], axis=0)
        return float((np.var(by_genre, axis=0) / (within + 1e-9)).mean())

    bag = np.stack([np.bincount(t, minlength=8) for t in types])
    order = np.stack([np.bincount(p, minlength=64) for p in pairs])
    assert spread(order) > 3 * spread(bag)


def test_genre_shows_in_the_order_not_in_the_song_means(tmp_path):
    """Per-song means tell the genre poorly; where the song goes (its build-up) tells it well.

    Nearest-centroid accuracy, fitted on train and scored on valid (chance 1/6): per-song
    means stay weak, the difference between the end and the first half of the crop (which
    shuffling a song's segments destroys) separates the genres.
    """
    genres = [f"G{i}" for i in range(6)]
    tree, out = tmp_path / "tree", tmp_path / "dataset.h5"
    generate_tree(tree, genres, 64, seed=0, aggregate_files=0, workers=1)
    prepare_dataset(DataConfig(source="synthetic", msd_root=str(tree),
                               labels=str(tree / LABEL_FILE), genres=tuple(genres),
                               per_genre=60, per_genre_test=0, workers=1), out)
    train, valid = load_split(out, "train"), load_split(out, "valid")

    def accuracy(statistic):
        a, b = statistic(train.inputs), statistic(valid.inputs)
        centres = np.stack([a[train.targets == g].mean(0) for g in range(len(genres))])
        nearest = ((b[:, None] - centres) ** 2).sum(-1).argmin(1)
        return float((nearest == valid.targets).mean())

    def end_minus_start(x):
        return x[:, -30:].mean(1) - x[:, :60].mean(1)

    def shuffle(x):  # segments permuted within each song
        order = np.argsort(np.random.default_rng(0).random(x.shape[:2]), axis=1)
        return np.take_along_axis(x, order[..., None], axis=1)

    song_means = accuracy(lambda x: x.mean(1))
    build_up = accuracy(end_minus_start)
    shuffled = accuracy(lambda x: end_minus_start(shuffle(x)))
    assert song_means < 0.6
    assert build_up > 0.9
    assert shuffled < 0.5 and build_up - song_means > 0.35


def test_command_line_round_trip(tmp_path):
    scripts = SCRIPTS
    tree, out = tmp_path / "tree", tmp_path / "data" / "dataset.h5"
    subprocess.run([sys.executable, scripts / "generate_synthetic.py", "--out-dir", tree,
                    "--genres", "Rap,Rock", "--tracks-per-genre", "20", "--seed", "1"],
                   check=True, capture_output=True)
    assert (tree / "COMPLETE").is_file()
    result = subprocess.run([sys.executable, scripts / "prepare_dataset.py", "--source",
                             "synthetic", "--msd-root", tree, "--genres", "Rap,Rock",
                             "--per-genre", "15", "--per-genre-test", "2", "--out", out],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "files/s" in result.stderr and load_split(out, "test").size == 4
    (tree / "COMPLETE").unlink()
    result = subprocess.run([sys.executable, scripts / "prepare_dataset.py", "--source",
                             "synthetic", "--msd-root", tree, "--genres", "Rap,Rock",
                             "--per-genre", "15", "--out", out], capture_output=True, text=True)
    assert result.returncode == 2 and "no COMPLETE file" in result.stderr


def test_split_is_the_same_with_or_without_aggregate_files(tree, tmp_path):
    """The generator writes the same tracks in either layout; the data set built from them
    is byte-identical (the default tree's aggregate tracks once all landed in train)."""
    singles = tmp_path / "singles"
    generate_tree(singles, GENRES, 40, seed=3, aggregate_files=0, workers=1)
    assert not list(singles.glob("data/aggregate/*.h5"))
    built = []
    for root in (tree, singles):
        out = tmp_path / root.name / "dataset.h5"
        prepare_dataset(DataConfig(source="synthetic", msd_root=str(root),
                                   labels=str(root / LABEL_FILE), genres=tuple(GENRES),
                                   per_genre=30, per_genre_test=5, workers=2), out)
        with h5py.File(out) as f:
            built.append({f"{s}/{key}": f[s][key][()].tobytes() if key != "track_ids"
                          else list(f[s][key][()]) for s in ("train", "valid", "test")
                          for key in ("inputs", "targets", "track_ids")})
    assert built[0] == built[1]

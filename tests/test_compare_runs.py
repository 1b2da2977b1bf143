"""compare_runs.py and aa_check.py on hand-made test metrics (evaluate.py's format)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from test_result_scripts import assert_refused

from msdrnn import cli, stats

SONGS = 200
TRACKS = [f"TR{i:05d}" for i in range(SONGS)]
TARGETS = [i % 10 for i in range(SONGS)]


def invoke(name: str, argv: list, capsys) -> tuple[int, str, str]:
    """Run a script's main in this process: exit code, stdout, stderr."""
    code = cli.run(importlib.import_module(name).main, [str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_metrics(path: Path, right: np.ndarray, tracks: list[str] = TRACKS) -> Path:
    """A test_metrics.json whose best-epoch predictions are right where ``right`` is 1."""
    predicted = [t if ok else (t + 1) % 10 for t, ok in zip(TARGETS, right, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    section = {"accuracy": float(np.mean(right)), "predicted": predicted}
    path.write_text(json.dumps({"split": "test", "songs": SONGS, "track_ids": tracks,
                                "targets": TARGETS, "best_epoch": section,
                                "final": section}))
    return path


def seed_runs(folder: Path, rights: list[np.ndarray]) -> Path:
    for seed, right in enumerate(rights, start=1):
        write_metrics(folder / f"seed_{seed}/test_metrics.json", right)
    return folder


def draws(level: float, seeds: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.random(SONGS) < level).astype(int) for _ in range(seeds)]


def test_compare_runs_gives_the_summary_s_interval(tmp_path, capsys):
    strong, weak = draws(0.8, 3, 0), draws(0.4, 2, 1)
    first, second = seed_runs(tmp_path / "a", strong), seed_runs(tmp_path / "b", weak)
    code, out, err = invoke("compare_runs", [first, second, "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    expected = stats.test_interval(np.array(strong), np.array(weak))
    assert result["difference"] == pytest.approx(np.mean(strong) - np.mean(weak))
    assert (result["low"], result["high"]) == pytest.approx((expected.low, expected.high))
    assert result["verdict"] == "first higher"
    assert result["seeds"] == {"first": 3, "second": 2} and result["songs"] == SONGS
    code, out, _ = invoke("compare_runs", [second, first, "--json"], capsys)
    assert json.loads(out)["verdict"] == "second higher"
    code, out, _ = invoke("compare_runs", [second, first], capsys)
    assert code == 0
    assert f"{100 * (np.mean(weak) - np.mean(strong)):+.2f} points" in out
    assert "verdict: second higher" in out and "method: t interval" in out


def test_one_run_per_folder_covers_the_songs_only(tmp_path, capsys):
    rights = draws(0.6, 2, 2)
    first = write_metrics(tmp_path / "a/test_metrics.json", rights[0]).parent
    second = write_metrics(tmp_path / "b/test_metrics.json", rights[1]).parent
    code, out, _ = invoke("compare_runs", [first, second, "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and result["seeds"] == {"first": 1, "second": 1}
    assert "covers the songs only" in result["method"]
    assert result["verdict"] == "no clear difference"  # the same level: 200 songs cannot tell


def test_compare_runs_refuses_bad_input_with_one_line(tmp_path, capsys):
    rights = draws(0.6, 2, 3)
    good = seed_runs(tmp_path / "good", rights)
    other = tmp_path / "other"
    write_metrics(other / "seed_1/test_metrics.json", rights[0],
                  tracks=TRACKS[:7] + ["TRELSE"] + TRACKS[8:])
    code, out, err = invoke("compare_runs", [good, other], capsys)
    assert_refused(code, err, "good/seed_1/test_metrics.json",
                   "other/seed_1/test_metrics.json", "first difference at song 7")
    assert out == ""
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("compare_runs", [good, tmp_path / "empty"], capsys)
    assert_refused(code, err, "empty", "no runs")
    (tmp_path / "gap/seed_1").mkdir(parents=True)
    code, _, err = invoke("compare_runs", [good, tmp_path / "gap"], capsys)
    assert_refused(code, err, "gap/seed_1/test_metrics.json", "missing")
    code, _, err = invoke("compare_runs", [good, tmp_path / "nowhere"], capsys)
    assert_refused(code, err, "nowhere", "no such folder")
    broken = tmp_path / "broken/test_metrics.json"
    broken.parent.mkdir()
    broken.write_text(json.dumps({"track_ids": TRACKS, "targets": TARGETS}))
    code, _, err = invoke("compare_runs", [good, broken.parent], capsys)
    assert_refused(code, err, "broken/test_metrics.json", "best_epoch")


def test_aa_check_counts_verdicts_between_runs_of_one_model(tmp_path, capsys):
    """Six runs of one model: every split of two groups of two; runs far off the others
    make verdicts appear; the seed sd is the runs' sd."""
    rng = np.random.default_rng(4)
    ease = rng.random(SONGS)
    rights = [(ease < 0.7 + 0.1 * rng.standard_normal(SONGS)).astype(int) for _ in range(6)]
    files = [write_metrics(tmp_path / f"calibration/seed_{s}/test_metrics.json", r)
             for s, r in enumerate(rights)]
    out = tmp_path / "aa_check.json"
    argv = ["--group", 2, "--max-splits", 1000, "--seed", 0, "--out", out,
            "--out-markdown", tmp_path / "aa_check.md", *files]
    code, _, err = invoke("aa_check", argv, capsys)
    assert code == 0, err
    record = json.loads(out.read_text())
    assert record["splits"] == 45 and record["all_splits"]  # C(6,2) x C(4,2) / 2
    assert record["seed_sd"] == pytest.approx(np.std([r.mean() for r in rights], ddof=1))
    assert record["verdict_share"] == record["verdicts"] / 45
    assert "45 splits (all of them)" in (tmp_path / "aa_check.md").read_text()

    for index in (0, 1):  # two runs get every song right: the split {0, 1} vs 2 others
        write_metrics(files[index], np.ones(SONGS, dtype=int))
    code, _, _ = invoke("aa_check", argv[:3] + [10] + argv[4:], capsys)
    record = json.loads(out.read_text())
    assert record["splits"] == 10 and not record["all_splits"]
    assert record["possible_splits"] == 45
    code, _, _ = invoke("aa_check", argv, capsys)
    assert json.loads(out.read_text())["verdicts"] > 0


def test_aa_check_needs_two_groups_of_runs(tmp_path, capsys):
    files = [write_metrics(tmp_path / f"seed_{s}/test_metrics.json", r)
             for s, r in enumerate(draws(0.6, 3, 5))]
    code, _, err = invoke("aa_check", ["--group", 2, "--out", tmp_path / "a.json",
                                       "--out-markdown", tmp_path / "a.md", *files], capsys)
    assert_refused(code, err, "3 runs given; two groups of 2 need at least 4")
    assert not (tmp_path / "a.json").exists()

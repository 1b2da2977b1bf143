"""The documentation holds together: every relative link in the README and the pages
under docs/ and perf/ reaches a file of the repository (and, with a ``#anchor``, one of its
headings), the README stays short enough to read in one sitting, and
``tools/readme_results.py`` copies the summary's tables into the README without the notes
that ``results/summary.md`` keeps."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200
PAGES = sorted({ROOT / "README.md", ROOT / "perf" / "README.md", ROOT / "results" / "README.md",
                *(ROOT / "docs").rglob("*.md")})
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines of a Markdown page outside fenced code blocks, with their numbers."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str, seen: dict[str, int]) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as
    hyphens, a repeated heading numbered -1, -2, ..."""
    text = re.sub(r"[`*]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    base = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def anchors(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings."""
    seen: dict[str, int] = {}
    return {slug(line.lstrip("#"), seen) for _, line in prose_lines(page.read_text())
            if re.match(r"#{1,6} ", line)}


def relative_links(page: Path) -> list[tuple[int, str]]:
    """The links of a page that point into the repository (not to a web address)."""
    return [(number, target) for number, line in prose_lines(page.read_text())
            for target in LINK.findall(line)
            if not re.match(r"[a-z][a-z0-9+.-]*:", target, flags=re.I)]


def test_the_slug_of_a_heading_is_githubs():
    seen: dict[str, int] = {}
    assert slug("Resources at paper scale", seen) == "resources-at-paper-scale"
    assert slug("The grid's best steps value (2, selected)", seen) == (
        "the-grids-best-steps-value-2-selected")
    assert slug("`snakemake aa_check`: an A/A check", seen) == "snakemake-aa_check-an-aa-check"
    assert slug("Resources at paper scale", seen) == "resources-at-paper-scale-1"


def test_the_link_checker_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# Here\n")
    page.write_text("[ok](there.md#here) [web](https://example.org) [gone](missing.md)\n"
                    "```\n[in code](ignored.md)\n```\n")
    assert relative_links(page) == [(1, "there.md#here"), (1, "missing.md")]
    assert anchors(tmp_path / "there.md") == {"here"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_heading(page):
    broken = []
    for number, target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"line {number}: {target} (no such file)")
        elif not file.resolve().is_relative_to(ROOT):
            broken.append(f"line {number}: {target} (outside the repository)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"line {number}: {target} (no heading with that anchor)")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_readme_is_read_in_one_sitting():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines, at most {README_MAX_LINES}: move detail to docs/")


def test_the_readme_has_one_results_block():
    text = (ROOT / "README.md").read_text()
    assert text.count("<!-- results:start -->") == 1
    assert text.count("<!-- results:end -->") == 1
    assert text.index("<!-- results:start -->") < text.index("<!-- results:end -->")


def readme_results():
    """tools/readme_results.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("readme_results",
                                                  ROOT / "tools" / "readme_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SUMMARY = """\
# Can a basic RNN classify MSD-10 genres better than non-recurrent models?

Data: source `synthetic` (results/data/dataset.h5): 8 train, 2 valid, 3 test songs.
The synthetic data is generated so that the order of a song's segments carries its genre.

| Experiment | Test accuracy |
|---|---|
| RNN, best parameters | 81.33% ± 0.47% (2 seeds) |

Several seeds: mean ± sd over seeds. A NOTE ON THE METHOD.

## Differences from the RNN, with 95% intervals

| Comparison | Test |
|---|---|
| RNN vs MLP | +24.50 [+18.67, +30.50] |

Test: ANOTHER NOTE ON THE INTERVAL.
Validation: A THIRD NOTE.

## The grid's best steps value (2, selected) against the others

| Comparison | Difference |
|---|---|
| steps 2 (selected) vs steps 3 | +0.00 [-17.93, +17.93] |
"""


def finished_study(results: Path) -> None:
    """The files readme_results reads: a summary, the figures, a trial's and a run's record."""
    (results / "figures").mkdir(parents=True)
    (results / "summary.md").write_text(SUMMARY)
    for name in readme_results().FIGURES:
        (results / "figures" / name).write_bytes(b"png")
    for folder, threads in (("rnn_search/trial_000", 2), ("rnn/seed_1", 1)):
        (results / folder).mkdir(parents=True)
        (results / folder / "run.json").write_text(json.dumps({
            "device": "CPU: Some CPU", "versions": {"python": "3.11.7"},
            "hyperparameters": {"threads": threads}}))


def test_readme_results_copies_the_tables_and_leaves_the_notes_in_the_summary(tmp_path):
    finished_study(tmp_path / "results")
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\n<!-- results:start -->\nold\n<!-- results:end -->\n\nAfter.\n")
    figures = tmp_path / "figures"
    assert readme_results().main(["--results", str(tmp_path / "results"), "--readme",
                                  str(readme), "--figures-dir", str(figures)]) == 0
    text = readme.read_text()
    assert "old" not in text and text.startswith("# Title\n") and text.endswith("After.\n")
    assert "| RNN, best parameters | 81.33% ± 0.47% (2 seeds) |" in text
    assert "| RNN vs MLP | +24.50 [+18.67, +30.50] |" in text
    assert "#### Differences from the RNN, with 95% intervals" in text
    assert "Data: source `synthetic`" in text and "order of a song's segments" in text
    assert "NOTE" not in text, "the summary's notes were copied into the README"
    assert "Can a basic RNN" not in text, "the summary's title was copied"
    assert "best steps value" not in text and "steps 3" not in text, "the grid's section was copied"
    assert "`results/summary.md`" in text
    assert "CPU: Some CPU" in text and "threads 2 per search trial and 1 per other" in text
    assert sorted(path.name for path in figures.iterdir()) == sorted(readme_results().FIGURES)


def test_readme_results_refuses_a_readme_without_the_block(tmp_path, capsys):
    finished_study(tmp_path / "results")
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    assert readme_results().main(["--results", str(tmp_path / "results"), "--readme",
                                  str(readme), "--figures-dir", str(tmp_path / "f")]) == 2
    assert "no <!-- results:start -->" in capsys.readouterr().err
    assert readme.read_text() == "# Title\n" and not (tmp_path / "f").exists()


def test_readme_results_names_what_is_missing_before_writing(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- results:start -->\n<!-- results:end -->\n")
    assert readme_results().main(["--results", str(tmp_path / "results"), "--readme",
                                  str(readme), "--figures-dir", str(tmp_path / "f")]) == 2
    assert "summary.md" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()

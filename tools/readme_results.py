"""Refresh the README's "Results of the default run" from a finished study: the summary's
tables and three figures, copied in by this command instead of pasted by hand.

    python tools/readme_results.py   # after `snakemake --cores all`

Only the summary's headings, its tables and its data line are copied, and not the grid's
comparisons (LEFT_OUT): the notes under the tables (what ± means, how each interval is
computed, which verdicts form a family) stay in results/summary.md, their one home, and the
block ends with a line pointing there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

START, END = "<!-- results:start -->", "<!-- results:end -->"
FIGURES = ("controls_accuracy.png", "grid_max_valid_accuracy.png", "rnn_accuracy.png")
# Sections of the summary that stay there only: the grid's comparisons of every steps value
# with the selected one answer the original study's question about steps, not this study's;
# the primary comparison is a paragraph (its row is marked "primary" in the table), and the
# order question's rows are rows of the differences table again.
LEFT_OUT = ("The grid's", "The primary comparison", "Recurrence or only order?")
POINTER = ("What ± means, how each interval is computed and which comparisons form a family: "
           "the notes under each table in `results/summary.md`.")


def machine(results: Path) -> str:
    """Where the numbers were computed, read from the runs' own records (run.json).

    A search trial's run.json sits in a ``trial_NNN`` folder, whichever model's search it
    belongs to; the grouping of songs per thread and what is verified bitwise are described
    in docs/trainer.md, not here.
    """
    records = {path: json.loads(path.read_text()) for path in sorted(results.rglob("run.json"))}
    if not records:
        return ""
    runs = list(records.values())
    devices = sorted({run["device"] for run in runs})

    def threads(search: bool) -> str:
        chosen = [run for path, run in records.items()
                  if path.parent.name.startswith("trial_") == search]
        return "/".join(sorted({str(run["hyperparameters"]["threads"]) for run in chosen})) or "-"

    versions = ", ".join(f"{k} {v}" for k, v in runs[0]["versions"].items())
    return (f"Computed on {', '.join(devices)} ({os.cpu_count()} cores), TensorFlow threads "
            f"{threads(True)} per search trial and {threads(False)} per other training job, "
            f"with {versions}.\n")


def tables(summary: list[str]) -> list[str]:
    """The summary's headings (one level down), tables and data line, without the title,
    without the notes between them and without the sections of LEFT_OUT."""
    paragraphs: list[list[str]] = [[]]
    for line in summary[1:]:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    kept, skipping = [], False
    for paragraph in filter(None, paragraphs):
        if paragraph[0].startswith("#"):
            heading = paragraph[0].lstrip("#").strip()
            skipping = heading.startswith(LEFT_OUT)
            if not skipping:
                kept.append([f"#### {heading}"])
        elif skipping:
            continue
        elif all(line.startswith("|") for line in paragraph) or paragraph[0].startswith("Data:"):
            kept.append(paragraph)
    return ["\n".join(paragraph) for paragraph in kept]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--figures-dir", type=Path, default=Path("docs/figures"))
    args = parser.parse_args(argv)

    readme = args.readme.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), flags=re.S)
    if not pattern.search(readme):
        print(f"error: {args.readme}: no {START} ... {END} block", file=sys.stderr)
        return 2
    wanted = [args.results / "summary.md", *(args.results / "figures" / name for name in FIGURES)]
    missing = [path.as_posix() for path in wanted if not path.is_file()]
    if missing:
        print(f"error: {', '.join(missing)}: not found; run `snakemake --cores all` first",
              file=sys.stderr)
        return 2

    summary = wanted[0].read_text().splitlines()
    args.figures_dir.mkdir(parents=True, exist_ok=True)
    for name in FIGURES:
        shutil.copy2(args.results / "figures" / name, args.figures_dir / name)
    block = "\n".join([
        START, "", machine(args.results), "\n\n".join(tables(summary)), "", POINTER, "",
        *[f"![{name[:-4]}]({(args.figures_dir / name).as_posix()})" for name in FIGURES],
        "", END,
    ])
    args.readme.write_text(pattern.sub(lambda _: block, readme))
    print(f"updated {args.readme} and {args.figures_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

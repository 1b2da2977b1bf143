"""Refresh the README's "Results of the default run" from a finished study: the summary
table and two figures, copied in by this command instead of pasted by hand.

    python tools/readme_results.py   # after `snakemake --cores all`
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow_scripts"
SEARCH_SUFFIX = "_search"  # results/<model>_search/trial_*/: every model's search trials
sys.path.insert(0, str(SCRIPTS))
from msdrnn.code_inputs import literal  # noqa: E402 (after the path)

GROUPED_FROM_STATE_SIZE = literal(SCRIPTS / "msdrnn/models/rnn.py", "GROUPED_FROM_STATE_SIZE")
START, END = "<!-- results:start -->", "<!-- results:end -->"
FIGURES = ("controls_accuracy.png", "grid_max_valid_accuracy.png", "rnn_accuracy.png")


def machine(results: Path) -> str:
    """Where the numbers were computed, read from the runs' own records (run.json)."""
    records = {path: json.loads(path.read_text()) for path in sorted(results.rglob("run.json"))}
    runs = list(records.values())
    if not runs:
        return ""
    devices = sorted({run["device"] for run in runs})

    def threads(search: bool) -> str:
        chosen = [run for path, run in records.items()
                  if path.parent.parent.name.endswith(SEARCH_SUFFIX) == search]
        counts = "/".join(sorted({str(run["hyperparameters"]["threads"]) for run in chosen}))
        if any(run.get("threads", {}).get("groups", 1) > 1 for run in chosen):
            counts += (f" (from state size {GROUPED_FROM_STATE_SIZE} on, one group of songs "
                       "per thread)")
        return counts or "-"

    versions = ", ".join(f"{k} {v}" for k, v in runs[0]["versions"].items())
    return (f"Computed on {', '.join(devices)} ({os.cpu_count()} cores), "
            f"TensorFlow threads {threads(True)} per search trial (both searches) and "
            f"{threads(False)} per other training job, with {versions}. What is "
            "verified bitwise: the same config with the same package versions on the same "
            "CPU model gives identical histories and weights (`tests/test_train.py`: a rerun "
            "and a killed-and-resumed run; `tests/test_slurm.py`: the smoke study through "
            "SLURM and locally). Another CPU model or thread count may change the last "
            "digits and, through the search, which parameters win.\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--figures-dir", type=Path, default=Path("docs/figures"))
    parser.add_argument("--seconds", type=float, help="wall time of the run, to quote")
    args = parser.parse_args(argv)

    summary = (args.results / "summary.md").read_text().splitlines()
    body = [f"#### {line.lstrip('#').strip()}" if line.startswith("#") else line
            for line in summary[1:]]
    args.figures_dir.mkdir(parents=True, exist_ok=True)
    for name in FIGURES:
        shutil.copy2(args.results / "figures" / name, args.figures_dir / name)
    timing = (f"The default study took {args.seconds / 60:.1f} minutes "
              "(`snakemake --cores all`, from a fresh clone). " if args.seconds else "")
    block = "\n".join([
        START, "", timing + machine(args.results) + "\n", "\n".join(body).strip(), "",
        *[f"![{name[:-4]}]({(args.figures_dir / name).as_posix()})" for name in FIGURES],
        "", END,
    ])
    readme = args.readme.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), flags=re.S)
    if not pattern.search(readme):
        print(f"error: {args.readme}: no {START} ... {END} block", file=sys.stderr)
        return 2
    args.readme.write_text(pattern.sub(lambda _: block, readme))
    print(f"updated {args.readme} and {args.figures_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

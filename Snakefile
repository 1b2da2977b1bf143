"""Can a basic RNN trained with truncated BPTT classify MSD-10 genres better than
non-recurrent models? The study of README.md (facts of the original study: docs/study.md)
as a workflow:

data -> per-step arrays -> baseline -> steps grid (the RNN) -> for every model of the
config's `models:`, a Bayesian search and confirmation runs of its best parameters under
fresh seeds (or fixed hyperparameters), and order-shuffled runs -> song-statistics control
-> test evaluation -> runs.csv, figures, summary with intervals.
"""

import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "schemas/config.schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/baseline.smk"
include: "rules/grid.smk"
include: "rules/searches.smk"
include: "rules/models.smk"
include: "rules/controls.smk"
include: "rules/evaluate.smk"
include: "rules/figures.smk"
include: "rules/calibration.smk"


# Cluster checks (a plain Python module beside the rules): they need the executor, which
# Snakemake knows only once the workflow starts.
sys.path.insert(0, str(Path(workflow.basedir) / "rules"))
import executor_checks  # noqa: E402


onstart:
    executor_checks.check_executor(workflow)


rule all:
    default_target: True
    input:
        final_outputs(),
    localrule: True


rule figures:
    """Rebuild every figure and the summary, nothing else."""
    input:
        figure_outputs(),
        "results/summary.md",
    localrule: True

"""Can a basic RNN trained with truncated BPTT classify MSD-10 genres better than
non-recurrent models? The study of ../README.md as a workflow:

data -> per-step arrays -> baseline -> steps grid -> Bayesian search -> best run -> figures.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "schemas/config.schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/executor_checks.smk"
include: "rules/data.smk"
include: "rules/baseline.smk"
include: "rules/grid.smk"
include: "rules/bayes.smk"
include: "rules/best.smk"
include: "rules/mlp.smk"
include: "rules/controls.smk"
include: "rules/evaluate.smk"
include: "rules/figures.smk"


localrules:
    all,
    figures,


rule all:
    input:
        final_outputs(),
    default_target: True


rule figures:
    """Rebuild every figure and the summary, nothing else."""
    input:
        figure_outputs(),
        "results/summary.md",

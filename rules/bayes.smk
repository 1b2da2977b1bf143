"""Bayesian search over state size and steps with scikit-optimize (seed plots 31-35).
Each trial is its own job: proposed from the results of the earlier rounds, then trained,
so that trials are cached, rerun one by one and sent to a cluster."""


rule bayes_propose:
    input:
        earlier=proposal_inputs,
        code=["workflow_scripts/bayes_propose.py", "workflow_scripts/msdrnn/search.py"],
    output:
        "results/bayes/trial_{trial}/proposal.json",
    wildcard_constraints:
        trial=r"\d{3}",
    params:
        search=proposal_args,
        earlier=lambda wildcards, input: " ".join(
            f"--earlier {p}" for p in input.earlier if p.endswith("proposal.json")
        ),
    conda:
        "../envs/search.yaml"
    log:
        "results/logs/bayes/propose_{trial}.log",
    benchmark:
        "results/benchmarks/bayes/propose_{trial}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    shell:
        "python workflow_scripts/bayes_propose.py --trial {wildcards.trial} {params.search}"
        " {params.earlier} --out {output} > {log} 2>&1"


rule bayes_trial:
    input:
        dataset=DATASET,
        proposal="results/bayes/trial_{trial}/proposal.json",
        code=TRAIN_CODE,
    output:
        **train_outputs("results/bayes/trial_{trial}"),
    wildcard_constraints:
        trial=r"\d{3}",
    params:
        epochs=config["bayes"]["epochs"],
        seed=config["bayes"]["seed"],
        train=train_params(),
    conda:
        "../envs/train.yaml"
    log:
        "results/logs/bayes/trial_{trial}.log",
    benchmark:
        "results/benchmarks/bayes/trial_{trial}.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["bayes"]["epochs"]),
    shell:
        train_command("--hparams {input.proposal} --readout")


rule bayes_collect:
    """All trials in one table, and the best parameters by the search's objective."""
    input:
        proposals=expand("results/bayes/trial_{trial}/proposal.json", trial=trial_ids()),
        histories=expand("results/bayes/trial_{trial}/history.csv", trial=trial_ids()),
        code=["workflow_scripts/bayes_collect.py", "workflow_scripts/msdrnn/search.py"],
    output:
        trials="results/bayes/trials.csv",
        best="results/bayes/best.json",
    params:
        top_fraction=config["bayes"]["top_fraction"],
    conda:
        "../envs/search.yaml"
    log:
        "results/logs/bayes/collect.log",
    benchmark:
        "results/benchmarks/bayes/collect.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    shell:
        "python workflow_scripts/bayes_collect.py --top-fraction {params.top_fraction}"
        " --trials-out {output.trials} --best-out {output.best} {input.proposals}"
        " > {log} 2>&1"

"""Bayesian search over state size and steps with scikit-optimize (the original study's
figures 31-35). Each trial is its own job: proposed from the results of the earlier rounds
(replayed as gp_minimize would have made them, msdrnn/search.py), then trained, so that
trials are cached, rerun one by one and sent to a cluster. rules/mlp.smk reuses these rules
for the feedforward network's search."""


rule bayes_propose:
    input:
        unpack(search_proposal_inputs("bayes")),
        code=code_inputs("bayes_propose.py"),
    output:
        trial_file("proposal.json"),
    log:
        "results/logs/bayes/propose_{trial}.log",
    benchmark:
        "results/benchmarks/bayes/propose_{trial}.tsv"
    localrule: True
    conda:
        "../envs/search.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        search=search_proposal_args("bayes"),
    shell:
        logged(
            f"python {script('bayes_propose.py')} --trial {{wildcards.trial}}"
            " {params.search} --proposals {input.proposals} --histories {input.histories}"
            " --out {output}"
        )


rule bayes_trial:
    input:
        dataset=DATASET,
        proposal=trial_file("proposal.json"),
        code=code_inputs("train.py", "rnn"),
    output:
        **train_outputs(trial_dir()),
    log:
        "results/logs/bayes/trial_{trial}.log",
    benchmark:
        "results/benchmarks/bayes/trial_{trial}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["bayes"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["bayes"]["epochs"]),
    params:
        epochs=config["bayes"]["epochs"],
        seed=config["bayes"]["seed"],
        train=train_params(config["bayes"]["threads"]),
        model=SEARCH_MODEL_ARGS["bayes"],
    shell:
        train_command("--hparams {input.proposal} {params.model}")


rule bayes_collect:
    """All trials in one table, and the best parameters by the search's objective."""
    input:
        proposals=search_trials("bayes", "proposal.json"),
        histories=search_trials("bayes", "history.csv"),
        code=code_inputs("bayes_collect.py"),
    output:
        trials=search_file("bayes", "trials.csv"),
        best=search_file("bayes", "best.json"),
    log:
        "results/logs/bayes/collect.log",
    benchmark:
        "results/benchmarks/bayes/collect.tsv"
    localrule: True
    conda:
        "../envs/search.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        top_fraction=config["bayes"]["top_fraction"],
        names=search_names("bayes"),
    shell:
        logged(
            f"python {script('bayes_collect.py')} --top-fraction {{params.top_fraction}}"
            " --names {params.names}"
            " --proposals {input.proposals} --histories {input.histories}"
            " --trials-out {output.trials} --best-out {output.best}"
        )

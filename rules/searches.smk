"""Bayesian search of every model with a space (models.NAME.space), with scikit-optimize
(the original study's figures 31-35 for the RNN). Each trial is its own job: proposed from
the results of the earlier rounds (replayed as gp_minimize would have made them,
msdrnn/search.py), then trained, so that trials are cached, rerun one by one and sent to
a cluster. Every search shares the bayes.* settings; results/{model}_search/ holds its
trials, trials.csv and best.json."""


rule search_propose:
    input:
        unpack(search_proposal_inputs),
        code=code_inputs("bayes_propose.py"),
    output:
        f"{trial_dir()}/proposal.json",
    log:
        "results/logs/{model}_search/propose_{trial}.log",
    benchmark:
        "results/benchmarks/{model}_search/propose_{trial}.tsv"
    wildcard_constraints:
        model=name_pattern(searched_models()),
    priority: SEARCH_PRIORITY
    localrule: True
    conda:
        "../envs/search.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        search=search_proposal_args,
    shell:
        logged(
            f"python {script('bayes_propose.py')} --trial {{wildcards.trial}}"
            " {params.search} --proposals {input.proposals} --histories {input.histories}"
            " --out {output}"
        )


rule search_trial:
    input:
        unpack(search_trial_inputs),
    output:
        **train_outputs([trial_dir()]),
    log:
        "results/logs/{model}_search/trial_{trial}.log",
    benchmark:
        "results/benchmarks/{model}_search/trial_{trial}.tsv"
    wildcard_constraints:
        model=name_pattern(searched_models()),
    priority: SEARCH_PRIORITY
    conda:
        "../envs/train.yaml"
    threads: trial_threads
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["bayes"]["epochs"]),
    params:
        epochs=config["bayes"]["epochs"],
        seeds=[config["bayes"]["seed"]],
        train=lambda wildcards: train_params(trial_threads(wildcards)),
    shell:
        train_command("--model {wildcards.model} --hparams {input.proposal}")


rule search_collect:
    """All trials of a search in one table, and the best parameters by its objective."""
    input:
        proposals=search_trials("proposal.json"),
        histories=search_trials("history.csv"),
        code=code_inputs("bayes_collect.py"),
    output:
        trials=search_file("trials.csv"),
        best=search_file("best.json"),
    log:
        "results/logs/{model}_search/collect.log",
    benchmark:
        "results/benchmarks/{model}_search/collect.tsv"
    wildcard_constraints:
        model=name_pattern(searched_models()),
    priority: SEARCH_PRIORITY
    localrule: True
    conda:
        "../envs/search.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        top_fraction=config["bayes"]["top_fraction"],
        names=lambda wildcards: search_names(wildcards.model),
    shell:
        logged(
            f"python {script('bayes_collect.py')} --top-fraction {{params.top_fraction}}"
            " --names {params.names}"
            " --proposals {input.proposals} --histories {input.histories}"
            " --trials-out {output.trials} --best-out {output.best}"
        )

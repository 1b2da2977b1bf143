"""The non-recurrent comparison: a feedforward network on the flat 3000 inputs. Its width
and depth come from its own Bayesian search with the RNN's budget (bayes.*: trials, epochs,
objective, acquisition, seed), the same rules as the RNN's search; the best parameters are
then trained under mlp.seeds, one job per seed. With mlp.search: false the fixed
mlp.hidden layers are trained instead and the search does not run."""


use rule bayes_propose as mlp_propose with:
    input:
        unpack(search_proposal_inputs("mlp")),
        code=code_inputs("bayes_propose.py"),
    output:
        trial_file("proposal.json", search="mlp"),
    log:
        "results/logs/mlp_search/propose_{trial}.log",
    benchmark:
        "results/benchmarks/mlp_search/propose_{trial}.tsv"
    params:
        search=search_proposal_args("mlp"),


use rule bayes_trial as mlp_trial with:
    input:
        dataset=DATASET,
        proposal=trial_file("proposal.json", search="mlp"),
        code=code_inputs("train.py", "mlp"),
    output:
        **train_outputs(trial_dir(search="mlp")),
    log:
        "results/logs/mlp_search/trial_{trial}.log",
    benchmark:
        "results/benchmarks/mlp_search/trial_{trial}.tsv"
    params:
        epochs=config["bayes"]["epochs"],
        seed=config["bayes"]["seed"],
        train=train_params(config["bayes"]["threads"]),
        model=SEARCH_MODEL_ARGS["mlp"],


use rule bayes_collect as mlp_collect with:
    input:
        proposals=search_trials("mlp", "proposal.json"),
        histories=search_trials("mlp", "history.csv"),
        code=code_inputs("bayes_collect.py"),
    output:
        trials=search_file("mlp", "trials.csv"),
        best=search_file("mlp", "best.json"),
    log:
        "results/logs/mlp_search/collect.log",
    benchmark:
        "results/benchmarks/mlp_search/collect.tsv"
    params:
        top_fraction=config["bayes"]["top_fraction"],
        names=search_names("mlp"),


rule mlp_train:
    input:
        unpack(mlp_train_inputs),
    output:
        **train_outputs(seed_dir("mlp")),
    log:
        "results/logs/mlp/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/mlp/train_seed_{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["mlp"]["epochs"] or config["best"]["epochs"]),
    params:
        architecture=mlp_architecture,
        epochs=config["mlp"]["epochs"] or config["best"]["epochs"],
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    shell:
        train_command("--model mlp {params.architecture}")

"""Confirmation runs: the search's best parameters trained under seeds that no trial used
(best.seeds), one job per seed, so the summary can give their spread."""


rule best_train:
    input:
        dataset=DATASET,
        best=search_file("bayes", "best.json"),
        code=code_inputs("train.py", "rnn"),
    output:
        **train_outputs(seed_dir("best")),
    log:
        "results/logs/best/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/best/train_seed_{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["best"]["epochs"]),
    params:
        epochs=config["best"]["epochs"],
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    shell:
        train_command("--hparams {input.best} --readout")

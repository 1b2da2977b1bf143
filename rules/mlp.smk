"""The non-recurrent comparison: a feedforward network on the flat 3000 inputs, one job
per seed of mlp.seeds."""


rule mlp_train:
    input:
        dataset=DATASET,
        code=code_inputs("train.py"),
    output:
        **train_outputs("results/mlp/seed_{seed}"),
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
        hidden=",".join(str(h) for h in config["mlp"]["hidden"]),
        epochs=config["mlp"]["epochs"] or config["best"]["epochs"],
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    shell:
        train_command("--model mlp --hidden {params.hidden}")

"""The non-recurrent comparison: a feedforward network on the flat 3000 inputs, one job
per seed of mlp.seeds."""


rule mlp_train:
    input:
        dataset=DATASET,
        code=TRAIN_CODE,
    output:
        **train_outputs("results/mlp/seed_{seed}"),
    wildcard_constraints:
        seed=r"\d+",
    params:
        hidden=",".join(str(h) for h in config["mlp"]["hidden"]),
        epochs=config["mlp"]["epochs"] or config["best"]["epochs"],
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    conda:
        "../envs/train.yaml"
    log:
        "results/logs/mlp/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/mlp/train_seed_{seed}.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["mlp"]["epochs"] or config["best"]["epochs"]),
    shell:
        train_command("--model mlp --hidden {params.hidden}")

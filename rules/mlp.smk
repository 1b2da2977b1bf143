"""The non-recurrent comparison: a feedforward network on the flat 3000 inputs."""


rule mlp_train:
    input:
        dataset=DATASET,
        code=code_inputs("train.py"),
    output:
        **train_outputs("results/mlp"),
    params:
        hidden=",".join(str(h) for h in config["mlp"]["hidden"]),
        epochs=config["mlp"]["epochs"] or config["best"]["epochs"],
        seed=config["mlp"]["seed"],
        train=train_params(),
    conda:
        "../envs/train.yaml"
    log:
        "results/logs/mlp/train.log",
    benchmark:
        "results/benchmarks/mlp/train.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["mlp"]["epochs"] or config["best"]["epochs"]),
    shell:
        train_command("--model mlp --hidden {params.hidden}")

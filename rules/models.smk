"""The compared models' runs: each model of models.NAME trained under its seeds, one job
per seed, from its search's best parameters (confirmation runs under seeds no trial used)
or from its fixed models.NAME.hparams, so the summary can give their spread."""


rule model_train:
    input:
        unpack(model_train_inputs(DATASET)),
    output:
        **train_outputs(f"{MODEL_DIR}/seed_{{seed}}"),
    log:
        "results/logs/{model}/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/{model}/train_seed_{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(model_epochs),
    params:
        model=run_model,
        hparams=model_hparams_args,
        epochs=model_epochs,
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    shell:
        train_command("--model {params.model} {params.hparams}")

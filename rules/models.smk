"""The compared models' runs: each model of models.NAME trained under its seeds, from its
search's best parameters (confirmation runs under seeds no trial used) or from its fixed
models.NAME.hparams, so the summary can give their spread. One job per model trains all
its seeds one after the other in one process (results/NAME/seed_S/). Models with the same
seeds share the rule model_train; a model whose seeds differ from summary.primary's gets a
rule of its own, e.g. model_train_cnn (seed_groups in rules/common.smk)."""

for rule_name, group_seeds, group_models in seed_groups("model_train", MODELS):

    rule:
        name:
            rule_name
        input:
            unpack(model_train_inputs(DATASET)),
        output:
            **train_outputs([f"{MODEL_DIR}/seed_{seed}" for seed in group_seeds]),
        log:
            "results/logs/{model}/train.log",
        benchmark:
            "results/benchmarks/{model}/train.tsv"
        wildcard_constraints:
            model=name_pattern(group_models),
        priority: SEARCH_PRIORITY
        conda:
            "../envs/train.yaml"
        threads: config["train"]["threads"]
        resources:
            mem_mb=train_mem_mb,
            runtime=train_runtime(model_epochs, len(group_seeds)),
        params:
            model=run_model,
            hparams=model_hparams_args,
            epochs=model_epochs,
            seeds=list(group_seeds),
            train=train_params(),
        shell:
            train_command("--model {params.model} {params.hparams}")

"""The controls: does a model use the order of the segments (each model with `shuffled:
true`, trained as its model_train runs are but on songs with shuffled segments), and what
do per-song statistics alone reach (logistic regression)? Neither scores the test split
(shuffle_segments rewrites its segments in the copy, as of every split); evaluate.smk
does."""


rule shuffle_segments:
    """A copy of dataset.h5 (all splits) with every song's segments in a fixed random order."""
    input:
        dataset=DATASET,
        code=code_inputs("shuffle_segments.py"),
    output:
        SHUFFLED_DATASET,
    log:
        "results/logs/controls/shuffle_segments.log",
    benchmark:
        "results/benchmarks/controls/shuffle_segments.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=data_mem_mb("shuffle_segments"),
        runtime=30,
    params:
        seed=config["controls"]["shuffle_seed"],
    shell:
        logged(
            f"python {script('shuffle_segments.py')} --dataset {{input.dataset}}"
            " --seed {params.seed} --out {output}"
        )


for rule_name, group_seeds, group_models in seed_groups(
    "shuffled_train", shuffled_models()
):

    rule:
        """A model with `shuffled: true` trained on the shuffled songs, under its own
        seeds, all in one job: model_train's runs with only the data (and the folders)
        changed. Models whose seeds differ get a rule of their own, as model_train's do
        (seed_groups in rules/common.smk)."""
        name:
            rule_name
        input:
            unpack(model_train_inputs(SHUFFLED_DATASET)),
        output:
            **train_outputs([f"{SHUFFLED_DIR}/seed_{seed}" for seed in group_seeds]),
        log:
            "results/logs/controls/shuffled_{model}.log",
        benchmark:
            "results/benchmarks/controls/shuffled_{model}.tsv"
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
            hparams=model_hparams_args,
            epochs=model_epochs,
            seeds=list(group_seeds),
            train=train_params(),
        shell:
            train_command("--model {wildcards.model} {params.hparams}")


rule song_stats:
    """Logistic regression on per-song means and standard deviations, C chosen on valid."""
    input:
        dataset=DATASET,
        code=code_inputs("song_stats.py"),
    output:
        weights=f"{SONG_STATS_DIR}/weights.npz",
        fit=f"{SONG_STATS_DIR}/fit.json",
    log:
        "results/logs/controls/song_stats.log",
    benchmark:
        "results/benchmarks/controls/song_stats.tsv"
    conda:
        "../envs/search.yaml"
    threads: 1
    resources:
        mem_mb=data_mem_mb("song_stats"),
        runtime=30,
    params:
        c_values=",".join(str(c) for c in config["controls"]["song_stats_c"]),
    shell:
        logged(
            f"python {script('song_stats.py')} --dataset {{input.dataset}}"
            " --c-values {params.c_values} --weights {output.weights} --fit {output.fit}"
        )

"""The A/A check (target `aa_check`, not part of `all`): the primary model's
(summary.primary) best parameters trained under calibration.seeds, extra seeds no other run
uses, each evaluated on test by evaluate_test; then aa_check.py splits those runs into two
disjoint groups of the study's size (len(models.<primary>.seeds)) many ways and applies
the verdict rule to each split. Two groups of the same procedure differ by seed alone, so
a verdict other than "no clear difference" there is a false positive; the share should be
at most 5%.

The training rule is model_train's (its folder has no {model} wildcard, so run_model in
rules/common.smk names the primary model), and the runs' folder (CALIBRATION_DIR in
rules/common.smk) is spelled once. Unlike every other seeded training rule, it keeps one
job per seed: its many seeds (10 by default), trained one after the other in one job,
would take that many times one run's time where the jobs run side by side, and the A/A
check runs alone (its own target), with nothing else to fill the other cores."""


use rule model_train as calibration_train with:
    output:
        **train_outputs([calibration_dir()]),
    log:
        "results/logs/calibration/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/calibration/train_seed_{seed}.tsv"
    resources:  # replaces model_train's whole list: one run's time
        mem_mb=train_mem_mb,
        runtime=train_runtime(model_epochs),
    params:  # merged into model_train's params
        seeds=lambda wildcards: [int(wildcards.seed)],


rule aa_check:
    """Share of A/A splits with a verdict, and the seed sd of test accuracy."""
    input:
        tests=calibration_tests(),
        code=code_inputs("aa_check.py"),
    output:
        **AA_CHECK,
    log:
        "results/logs/calibration/aa_check.log",
    benchmark:
        "results/benchmarks/calibration/aa_check.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        group=len(config["models"][PRIMARY]["seeds"]),
        max_splits=config["calibration"]["max_splits"],
        seed=config["calibration"]["split_seed"],
    shell:
        logged(
            f"python {script('aa_check.py')} --group {{params.group}}"
            " --max-splits {params.max_splits} --seed {params.seed}"
            " --out {output.numbers} --out-markdown {output.markdown} {input.tests}"
        )

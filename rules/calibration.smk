"""The A/A check (target `aa_check`, not part of `all`): the RNN's best parameters trained
under calibration.seeds, extra seeds no other run uses, each evaluated on test by
evaluate_test; then aa_check.py splits those runs into two disjoint groups of the study's
size (len(best.seeds)) many ways and applies the verdict rule to each split. Two groups of
the same procedure differ by seed alone, so a verdict other than "no clear difference"
there is a false positive; the share should be at most 5%.

The rule reused for training (best_train) and the runs' folder (CALIBRATION_DIR in
rules/common.smk) are each spelled once."""


use rule best_train as calibration_train with:
    output:
        **train_outputs(calibration_dir()),
    log:
        "results/logs/calibration/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/calibration/train_seed_{seed}.tsv"


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
        group=len(config["best"]["seeds"]),
        max_splits=config["calibration"]["max_splits"],
        seed=config["calibration"]["split_seed"],
    shell:
        logged(
            f"python {script('aa_check.py')} --group {{params.group}}"
            " --max-splits {params.max_splits} --seed {params.seed}"
            " --out {output.numbers} --out-markdown {output.markdown} {input.tests}"
        )

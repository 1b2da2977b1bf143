"""Figures (PNG for the report, PDF for print) and the summary table. Plotting jobs read
CSV/JSON results only and never import TensorFlow."""


rule plot_run:
    """Training and validation error and accuracy of one run (the original study's figures
    23-24 and 36-37): the first seed of the baseline or of a model."""
    input:
        history=lambda wildcards: f"{first_run_dir(wildcards.run)}/history.csv",
        run=lambda wildcards: f"{first_run_dir(wildcards.run)}/run.json",
        code=code_inputs("plot_run.py"),
    output:
        error=figure("{run}_error", "run_curves", "Single runs", "{run}"),
        accuracy=figure("{run}_accuracy", "run_curves", "Single runs", "{run}"),
    log:
        "results/logs/figures/{run}.log",
    benchmark:
        "results/benchmarks/figures/{run}.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        dpi=config["plots"]["dpi"],
        title=run_title,
    shell:
        logged(
            f"python {script('plot_run.py')} --history {{input.history}} --run {{input.run}}"
            " --title {params.title} --dpi {params.dpi}"
            " --error {output.error} --accuracy {output.accuracy}"
        )


rule plot_grid:
    """Max valid accuracy per steps value (the original study's figure 25) and curves of the
    best steps values (its figures 26-29)."""
    input:
        summary="results/grid/summary.csv",
        histories=grid_histories(),
        code=code_inputs("plot_grid.py"),
    output:
        max_valid_accuracy=figure("grid_max_valid_accuracy", "grid_bar", "Steps grid"),
        train_error=figure("grid_train_error", "grid_curves", "Steps grid"),
        valid_error=figure("grid_valid_error", "grid_curves", "Steps grid"),
        train_accuracy=figure("grid_train_accuracy", "grid_curves", "Steps grid"),
        valid_accuracy=figure("grid_valid_accuracy", "grid_curves", "Steps grid"),
    log:
        "results/logs/figures/grid.log",
    benchmark:
        "results/benchmarks/figures/grid.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        dpi=config["plots"]["dpi"],
        top_steps=config["plots"]["top_steps"],
        state_size=config["grid"]["state_size"],
        epochs=config["grid"]["epochs"],
    shell:
        logged(
            f"python {script('plot_grid.py')} --summary {{input.summary}}"
            " --histories {input.histories}"
            " --top-steps {params.top_steps} --state-size {params.state_size}"
            " --epochs {params.epochs} --dpi {params.dpi}"
            " --max-valid-accuracy {output.max_valid_accuracy}"
            " --train-error {output.train_error} --valid-error {output.valid_error}"
            " --train-accuracy {output.train_accuracy}"
            " --valid-accuracy {output.valid_accuracy}"
        )


rule plot_search:
    """A model's search: objective per trial and its running best (the original study's
    figure 31 for the RNN), the explored space (its first dimension against its second,
    coloured by objective), curves of every trial (its figures 32-35)."""
    input:
        trials=search_file("trials.csv"),
        histories=search_trials("history.csv"),
        code=code_inputs("plot_bayes.py"),
    output:
        objective=figure(
            "{model}_search_objective",
            "search_objective",
            "Bayesian searches",
            "{model}",
        ),
        space=figure(
            "{model}_search_space", "search_space", "Bayesian searches", "{model}"
        ),
        train_error=figure(
            "{model}_search_train_error",
            "search_curves",
            "Bayesian searches",
            "{model}",
        ),
        valid_error=figure(
            "{model}_search_valid_error",
            "search_curves",
            "Bayesian searches",
            "{model}",
        ),
        train_accuracy=figure(
            "{model}_search_train_accuracy",
            "search_curves",
            "Bayesian searches",
            "{model}",
        ),
        valid_accuracy=figure(
            "{model}_search_valid_accuracy",
            "search_curves",
            "Bayesian searches",
            "{model}",
        ),
    log:
        "results/logs/figures/{model}_search.log",
    benchmark:
        "results/benchmarks/figures/{model}_search.tsv"
    wildcard_constraints:
        model=name_pattern(searched_models()),
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        dpi=config["plots"]["dpi"],
        epochs=config["bayes"]["epochs"],
        top_fraction=config["bayes"]["top_fraction"],
        names=lambda wildcards: search_names(wildcards.model),
        title=lambda wildcards: shlex.quote(config["models"][wildcards.model]["label"]),
    shell:
        logged(
            f"python {script('plot_bayes.py')} --trials {{input.trials}}"
            " --histories {input.histories} --names {params.names} --title {params.title}"
            " --epochs {params.epochs} --top-fraction {params.top_fraction} --dpi {params.dpi}"
            " --objective {output.objective} --space {output.space}"
            " --train-error {output.train_error} --valid-error {output.valid_error}"
            " --train-accuracy {output.train_accuracy} --valid-accuracy {output.valid_accuracy}"
        )


rule plot_confusion:
    """Confusion matrix of a model on the test split, best-epoch weights, summed over its
    seeds."""
    input:
        metrics=lambda wildcards: test_metrics(wildcards.model),
        run=lambda wildcards: f"{first_run_dir(wildcards.model)}/run.json",
        code=code_inputs("plot_confusion.py"),
    output:
        figure("{model}_test_confusion", "confusion", "Test confusion", "{model}"),
    log:
        "results/logs/figures/{model}_confusion.log",
    benchmark:
        "results/benchmarks/figures/{model}_confusion.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        dpi=config["plots"]["dpi"],
        title=lambda wildcards: shlex.quote(config["models"][wildcards.model]["label"]),
    shell:
        logged(
            f"python {script('plot_confusion.py')} --metrics {{input.metrics}}"
            " --run {input.run} --title {params.title} --dpi {params.dpi} --out {output}"
        )


rule plot_controls:
    """Accuracy of every model beside the controls, and the RNN's differences from each
    with their 95% intervals."""
    input:
        summary="results/summary.json",
        code=code_inputs("plot_controls.py"),
    output:
        figure("controls_accuracy", "controls", "Summary"),
    log:
        "results/logs/figures/controls.log",
    benchmark:
        "results/benchmarks/figures/controls.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        dpi=config["plots"]["dpi"],
    shell:
        logged(
            f"python {script('plot_controls.py')} --summary {{input.summary}}"
            " --dpi {params.dpi} --out {output}"
        )


rule write_summary:
    """The answer to the research question: results/summary.md, and its numbers in
    results/summary.json."""
    input:
        unpack(summary_inputs),
    output:
        markdown=report(
            "results/summary.md", caption="../report/summary.rst", category="Summary"
        ),
        numbers="results/summary.json",
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        n_classes=len(config["data"]["genres"]),
        primary=PRIMARY,
        models=summary_models(),
    shell:
        summary_command()


rule collect_runs:
    """results/runs.csv: one row per training run and epoch, for analysis with pandas."""
    input:
        histories=[f"{folder}/history.csv" for _, folder in training_runs().values()],
        runs=[f"{folder}/run.json" for _, folder in training_runs().values()],
        code=code_inputs("collect_runs.py"),
    output:
        "results/runs.csv",
    log:
        "results/logs/collect_runs.log",
    benchmark:
        "results/benchmarks/collect_runs.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    params:
        names=list(training_runs()),
        kinds=[kind for kind, _ in training_runs().values()],
    shell:
        logged(
            f"python {script('collect_runs.py')} --names {{params.names}}"
            " --kinds {params.kinds} --histories {input.histories} --runs {input.runs}"
            " --out {output}"
        )

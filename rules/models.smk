# Analytic sample -> tidy estimates of every equation in every subsample.


rule fit_models:
    input:
        analytic="data/analytic/{study}.parquet",
        code=code("estimation.py", "expressions.py", "stats/models.py", "stats/margins.py",
                  "stats/design.py", "stats/twopart.py", "stats/odds_ratios.py", "stats/inference.py",
                  "stats/mixed.py"),
    output:
        estimates="results/{study}/estimates.csv",
        flow="results/{study}/model_flow.csv",
        messages="results/{study}/model_messages.txt",
    params:
        study=lambda w: {"models": config["studies"][w.study]["models"]},
    log:
        "logs/fit_{study}.log",
    message:
        "Fitting the {wildcards.study} models"
    run:
        run_step(log[0], "fit_study", wildcards.study, params.study, input.analytic, output.estimates,
                 output.flow, output.messages)

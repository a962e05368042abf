"""A study's models from config: every equation in every subsample, as tidy estimates.

Config (studies.<study>.models):
  covariates   default right-hand side (see stats/design.py for the forms)
  vce, cluster, weights   variance and weights (Stata's conventions, stats/models.py)
  samples      name -> filter (expressions.py; null: the whole analytic sample)
  equations    name -> outcome, kind, family, link, keep/reason (the equation's own sample),
               scale and estimand of its marginal effects, report (coef, ame, odds_ratio);
               kind melogit: a random-intercept logit by `group` (nagq: 1 Laplace, >1 adaptive
               quadrature), reported as coefficients, odds ratios, group variance and ICC
  two_part     {first, second}: combined effects on E[y] = P(y>0) x E[y|y>0]
Rows an equation's `keep` drops are counted, with the reason, in model_flow.csv.
"""
import warnings
from pathlib import Path

import pandas as pd

from .sample import evaluate
from .stats import ModelSpec, fit, fit_two_part, margins, odds_ratios
from .stats.mixed import fit_mixed_logit, mixed_tidy
from .stats.inference import TIDY_COLUMNS

FLOW_COLUMNS = ["sample", "model", "n_sample", "keep", "n_dropped", "n_obs", "reason"]


def equation_spec(name: str, eq: dict, models: dict) -> ModelSpec:
    # A random-intercept logit is a logit for the fixed part of its specification.
    return ModelSpec(outcome=eq["outcome"], covariates=eq.get("covariates", models["covariates"]),
                     kind="logit" if eq["kind"] == "melogit" else eq["kind"], family=eq.get("family"), link=eq.get("link"),
                     vce=eq.get("vce", models.get("vce", "oim")), cluster=models.get("cluster"),
                     weights=models.get("weights"), name=name)


def equation_sample(df: pd.DataFrame, eq: dict, where: str) -> pd.DataFrame:
    return df[evaluate(df, eq["keep"], where)[0]] if eq.get("keep") else df


def fit_models(df: pd.DataFrame, models: dict, study: str):
    """(estimates, model flow, messages) for every sample x equation, and the two-part combination."""
    frames, flow, messages = [], [], []
    for sample_name, keep in (models.get("samples") or {"total": None}).items():
        where = f"config.yaml: studies.{study}.models.samples.{sample_name}"
        sub = df[evaluate(df, keep, where)[0]] if keep else df
        fits = {}
        for name, eq in models["equations"].items():
            rows = equation_sample(sub, eq, f"config.yaml: studies.{study}.models.equations.{name}.keep")
            flow.append({"sample": sample_name, "model": name, "n_sample": len(sub), "keep": eq.get("keep", ""),
                         "n_dropped": len(sub) - len(rows), "n_obs": len(rows), "reason": eq.get("reason", "")})
            spec = equation_spec(name, eq, models)
            if eq["kind"] == "melogit":
                mixed = fit_mixed_logit(spec, rows, eq["group"], eq.get("nagq", 1))
                messages += [f"{sample_name}: {m}" for m in mixed.notes]
                frames.append(mixed_tidy(mixed, study, sample_name, name, eq["outcome"], eq["group"]))
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fits[name] = fitted = fit(spec, rows)
            messages += [f"{sample_name}: {m}" for m in fitted.messages] + [
                str(c.message) for c in caught if _from_estimation(c) and str(c.message) not in fitted.messages]
            frames.append(_report(fitted, eq, study, sample_name))
        if models.get("two_part"):
            tp = models["two_part"]
            first, second = models["equations"][tp["first"]], models["equations"][tp["second"]]
            # The second part's sample is its own `keep` (e.g. reimbursed with an amount recorded).
            positive = (evaluate(sub, second["keep"], f"two_part {tp['second']}")[0] if second.get("keep")
                        else sub[second["outcome"]] > 0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # the parts' messages are collected above
                combined = fit_two_part(equation_spec(tp["first"], first, models),
                                        equation_spec(tp["second"], second, models), sub, positive)
            frames.append(combined.combined_margins().tidy(study, sample_name, equation="combined")
                          .assign(model="two_part", estimand="ame"))
    estimates = pd.concat(frames, ignore_index=True)[TIDY_COLUMNS]
    return estimates, pd.DataFrame(flow, columns=FLOW_COLUMNS), list(dict.fromkeys(messages))


# Workflow jobs share one process (threads), and catch_warnings records every thread's
# warnings, and those the garbage collector raises (an unclosed file) wherever it runs: keep
# the numerical code's warnings about the fit, so that a model's notes are its own.
NUMERICAL_PACKAGES = ("statsmodels", "numpy", "scipy", "migrant_health")
NOT_ABOUT_THE_FIT = (ResourceWarning, DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning)


def _from_estimation(caught) -> bool:
    parts = Path(caught.filename).parts
    return (not issubclass(caught.category, NOT_ABOUT_THE_FIT)
            and any(name in parts for name in NUMERICAL_PACKAGES))


def _report(fitted, eq: dict, study: str, sample: str) -> pd.DataFrame:
    out = []
    for item in eq.get("report", ["coef", "ame"]):
        if item == "coef":
            out.append(fitted.tidy(study, sample))
        elif item == "ame":
            out.append(margins(fitted, scale=eq.get("scale", "response"),
                               estimand=eq.get("estimand")).tidy(study, sample))
        elif item == "odds_ratio":
            out.append(odds_ratios(fitted, study, sample))
        else:
            raise ValueError(f"report item '{item}' is not one of coef, ame, odds_ratio")
    return pd.concat(out, ignore_index=True)

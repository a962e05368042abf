"""A study's models from config: every equation in every subsample, as tidy estimates.

Config (studies.<study>.models; schemas/config.schema.yaml documents each key):
  covariates   default right-hand side (see stats/design.py for the forms)
  vce, cluster, weights   variance and weights (stats/variance.py: Stata's conventions); vce survey
               linearises over the study's (or dataset's) `survey` design, the whole file's, each
               (sub)sample a subpopulation of it (Stata's svy, subpop())
  samples      name -> filter (expressions.py; null: the whole analytic sample)
  equations    name -> outcome, kind (stats/estimators.py), family, link, keep/reason (the
               equation's own sample), scale and estimand of its marginal effects, report
               (coef, ame, odds_ratio), `margins` (further margins requests: at, over, predict,
               elasticity, contrast); kind melogit: a random-intercept logit by `group`
  two_part     {first, second}: combined effects on E[y] = P(y>0) x E[y|y>0]

The work is cut into units that can run as separate jobs: each equation alone, except the
two parts of a two-part model, which are fitted once and combined in one unit named
`two_part`. `gather` puts the units' rows back in config order (sample, then equation,
the combination last). Rows an equation's `keep` drops are counted, with the reason, in
model_flow.csv.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import fit_statistics
from .errors import InputError
from .outputs import TWO_PART, model_units
from .sample import evaluate
from .stats import ModelSpec, fit, margins, odds_ratios
from .stats.inference import TIDY_COLUMNS
from .stats.survey import SurveyDesign
from .stats.twopart import TwoPartFit

FLOW_COLUMNS = ["sample", "model", "n_sample", "keep", "n_dropped", "n_obs", "reason"]
MESSAGE_COLUMNS = ["sample", "model", "message"]
# What an equation reports when config does not say (a random-intercept logit has no margins).
DEFAULT_REPORT = {"melogit": ["coef", "odds_ratio"]}
STANDARD_REPORT = ["coef", "ame"]
# What a job's log shows of each fit (steps/__init__.py writes the records of this package's loggers).
log = logging.getLogger(__name__)


@dataclass
class UnitResult:
    """What fitting one unit gives: tidy estimates, model flow rows, messages (each keyed by
    sample and model so that `gather` can restore config order)."""

    estimates: pd.DataFrame
    flow: pd.DataFrame
    messages: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MESSAGE_COLUMNS))


def whole_file_design(survey: dict | None, interim: list | None, where: str) -> SurveyDesign | None:
    """The survey design of the whole file (the dataset's canonical rows, before any sample filter;
    every wave's when waves are pooled), so that a study's samples are subpopulations of it, as
    Stata's svy, subpop()."""
    if not survey or not interim:
        return None
    columns = [survey[k] for k in ("strata", "psu", "weights", "fpc") if survey.get(k)]
    whole = pd.concat([pd.read_parquet(path, columns=columns) for path in interim], ignore_index=True)
    return SurveyDesign.from_data(whole, survey, where)


def equation_spec(name: str, eq: dict, models: dict, survey: dict | None = None) -> ModelSpec:
    """An equation's specification; the survey design is handed over only with vce survey."""
    vce = eq.get("vce", models.get("vce", "oim"))
    return ModelSpec(
        outcome=eq["outcome"],
        covariates=eq.get("covariates", models["covariates"]),
        kind=eq["kind"],
        family=eq.get("family"),
        link=eq.get("link"),
        vce=vce,
        cluster=models.get("cluster"),
        weights=models.get("weights"),
        name=name,
        group=eq.get("group"),
        nagq=eq.get("nagq", 1),
        survey=survey if vce == "survey" else None,
        approximation=eq.get("approximation", "glmer"),
    )


def _where(study: str, *keys: str) -> str:
    return f"config.yaml: studies.{study}.models." + ".".join(keys)


def _equation_rows(sub: pd.DataFrame, name: str, eq: dict, models: dict, study: str) -> tuple[pd.DataFrame, str, str]:
    """(rows, keep, reason): the equation's own sample within a subsample. The second part of a
    two-part model without `keep` is fitted on its positive outcomes."""
    if eq.get("keep"):
        return (
            sub[evaluate(sub, eq["keep"], _where(study, "equations", name, "keep"))[0]],
            eq["keep"],
            eq.get("reason", ""),
        )
    if (models.get("two_part") or {}).get("second") == name:
        return sub[sub[eq["outcome"]] > 0], f"{eq['outcome']} > 0", "outcome not positive (second part)"
    return sub, "", eq.get("reason", "")


def fit_unit(
    df: pd.DataFrame, models: dict, study: str, unit: str, survey: dict | None = None, design=None
) -> UnitResult:
    """Fit one unit's equations in every subsample (and combine a two-part model's parts). With vce
    survey, `design` is the whole file's stats.survey.SurveyDesign (of `survey`): every (sub)sample
    is a subpopulation of it."""
    estimates, flow, messages = [], [], []
    for sample_name, sub in subsamples(df, models, study):
        fitted = fit_sample(sub, models, study, unit, sample_name, survey, design)
        estimates += fitted.estimates
        flow += fitted.flow
        messages += fitted.messages
    return UnitResult(
        pd.concat(estimates, ignore_index=True)[TIDY_COLUMNS],
        pd.DataFrame(flow, columns=FLOW_COLUMNS),
        pd.DataFrame(messages, columns=MESSAGE_COLUMNS),
    )


def subsamples(df: pd.DataFrame, models: dict, study: str):
    """(name, rows) of each subsample of the models, in config order (null: the whole sample)."""
    for sample_name, keep in (models.get("samples") or {"total": None}).items():
        yield sample_name, (df[evaluate(df, keep, _where(study, "samples", sample_name))[0]] if keep else df)


@dataclass
class SampleFit:
    """One unit fitted in one subsample: the fits by equation, their tidy rows (model statistics
    included), flow rows and messages."""

    fits: dict
    estimates: list
    flow: list
    messages: list


def fit_sample(
    sub: pd.DataFrame,
    models: dict,
    study: str,
    unit: str,
    sample_name: str,
    survey: dict | None = None,
    design=None,
    quiet: bool = False,
) -> SampleFit:
    """A unit's equations fitted in one subsample (and a two-part model's parts combined).
    `quiet`: no log lines (a bootstrap's refits)."""
    equations = model_units(models)[unit]
    estimates, flow, messages = [], [], []
    fits, statistics = {}, {}
    for name in equations:
        eq = models["equations"][name]
        rows, rows_keep, reason = _equation_rows(sub, name, eq, models, study)
        flow.append(
            {
                "sample": sample_name,
                "model": name,
                "n_sample": len(sub),
                "keep": rows_keep,
                "n_dropped": len(sub) - len(rows),
                "n_obs": len(rows),
                "reason": reason,
            }
        )
        spec = equation_spec(name, eq, models, survey)
        family = ", ".join(f"{k} {v}" for k, v in (("family", spec.family), ("link", spec.link)) if v)
        if not quiet:
            log.info(
                "%s, subsample %s: fitting %s%s of %s on %s rows%s",
                name,
                sample_name,
                spec.kind,
                f" ({family})" if family else "",
                spec.outcome,
                f"{len(rows):,}",
                f" ({len(sub) - len(rows):,} dropped: {reason})" if len(sub) != len(rows) else "",
            )
        started = time.perf_counter()
        try:
            fits[name], own, raised = _fit_with_notes(spec, rows, design)
        except InputError as e:  # name the key and the subsample the fit belongs to
            if not quiet:
                log.info("%s, subsample %s: stopped: %s", name, sample_name, e)
            raise InputError(
                f"{_where(study, 'equations', name)} (subsample {sample_name}, n = {len(rows)}): {e}"
            ) from None
        messages += [(sample_name, name, f"{sample_name}: {note}") for note in own]
        messages += [(sample_name, name, warning) for warning in raised]
        statistics[name] = fit_statistics.statistics(fits[name])
        if not quiet:
            _log_fit(fits[name], statistics[name], own + raised, time.perf_counter() - started, sample_name)
        estimates.append(_report(fits[name], eq, study, sample_name))
        estimates.append(
            fit_statistics.tidy_rows(statistics[name], name, study, sample_name, spec.outcome, fits[name].converged)
        )
    if unit == TWO_PART:
        pair = models["two_part"]
        first, second = fits[pair["first"]], fits[pair["second"]]
        combined = TwoPartFit(first, second, sub).combined_margins()
        estimates.append(combined.tidy(study, sample_name, equation="combined").assign(model=TWO_PART, estimand="ame"))
        both = fit_statistics.two_part_statistics(
            statistics[pair["first"]], statistics[pair["second"]], len(first.params), len(second.params)
        )
        estimates.append(
            fit_statistics.tidy_rows(
                both, TWO_PART, study, sample_name, "combined", first.converged and second.converged
            )
        )
    return SampleFit(fits, estimates, flow, messages)


def gather(units: list[UnitResult], models: dict) -> UnitResult:
    """The units' rows in config order: by sample, then equation, a two-part combination last."""
    samples = list(models.get("samples") or {"total": None})
    order = {name: i for i, name in enumerate(list(models["equations"]) + [TWO_PART])}

    def ordered(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frame = pd.concat(frames, ignore_index=True)
        key = frame["sample"].map(samples.index) * len(order) + frame["model"].map(order)
        return frame.iloc[key.argsort(kind="stable")].reset_index(drop=True)

    messages = ordered([u.messages for u in units]).drop_duplicates("message")
    return UnitResult(ordered([u.estimates for u in units]), ordered([u.flow for u in units]), messages)


def requested_margins(fitted, request: dict, eq: dict):
    """One `margins:` entry of an equation (Stata's margins with its options)."""
    return margins(
        fitted,
        scale=request.get("scale", eq.get("scale", "response")),
        at=request.get("at"),
        variables=request.get("dydx"),
        over=request.get("over"),
        predict=request.get("predict"),
        elasticity=request.get("elasticity"),
        contrast=request.get("contrast", False),
        reference=request.get("reference"),
    )


def fit_models(
    df: pd.DataFrame, models: dict, study: str, survey: dict | None = None, design=None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(estimates, model flow, messages) of every unit, in config order (one process)."""
    result = gather([fit_unit(df, models, study, unit, survey, design) for unit in model_units(models)], models)
    return result.estimates, result.flow, list(result.messages["message"])


def _log_fit(fitted, statistics: dict, notes: list, seconds: float, sample: str) -> None:
    """What Stata's log shows of a fit: sample size, iterations, convergence, log likelihood, warnings."""
    iterations = getattr(fitted, "iterations", None)
    shown = ", ".join(
        f"{label} {_number(statistics[key])}"
        for key, label in (
            ("log_likelihood", "log likelihood"),
            ("pseudo_r2", "pseudo-R2"),
            ("aic", "AIC"),
            ("bic", "BIC"),
            ("n_groups", "groups"),
            ("n_clusters", "clusters"),
            ("dispersion", "dispersion"),
        )
        if key in statistics
    )
    log.info(
        "%s, subsample %s: n = %s, %s, %s; %s (%.1f s)",
        fitted.spec.name,
        sample,
        f"{fitted.n_obs:,}",
        f"{iterations} iterations" if iterations is not None else "iterations not counted",
        "converged" if fitted.converged else "NOT CONVERGED",
        shown,
        seconds,
    )
    for note in notes:
        log.warning("%s, subsample %s: warning: %s", fitted.spec.name, sample, note)


def _number(value) -> str:
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4f}"


def _fit_with_notes(spec: ModelSpec, rows: pd.DataFrame, design=None):
    """(fit, its own notes, the other warnings the numerical packages raised while fitting it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit(spec, rows, design if spec.vce == "survey" else None)
    raised = [str(c.message) for c in caught if _from_estimation(c) and str(c.message) not in fitted.messages]
    return fitted, list(fitted.messages), raised


NUMERICAL_PACKAGES = ("statsmodels", "numpy", "scipy", "migrant_health")
NOT_ABOUT_THE_FIT = (ResourceWarning, DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning)


def _from_estimation(caught) -> bool:
    """A warning about the fit (raised by the numerical code), not about the interpreter."""
    parts = Path(caught.filename).parts
    return not issubclass(caught.category, NOT_ABOUT_THE_FIT) and any(name in parts for name in NUMERICAL_PACKAGES)


def _report(fitted, eq: dict, study: str, sample: str) -> pd.DataFrame:
    out = []
    for item in eq.get("report") or DEFAULT_REPORT.get(eq["kind"], STANDARD_REPORT):
        if item == "coef":
            out.append(fitted.tidy(study, sample))
        elif item == "ame":
            out.append(
                margins(fitted, scale=eq.get("scale", "response"), estimand=eq.get("estimand")).tidy(study, sample)
            )
        elif item == "odds_ratio":
            out.append(odds_ratios(fitted, study, sample))
    for request in eq.get("margins") or []:
        out.append(requested_margins(fitted, request, eq).tidy(study, sample))
    if hasattr(fitted, "group_statistics"):  # a mixed model's variance components, as melogit prints them
        out.append(fitted.group_statistics(study, sample))
    return pd.concat(out, ignore_index=True)

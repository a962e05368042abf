"""A study's concentration stage, from config: indices, their decomposition, curves.

Config (studies.<study>.concentration):
  rank        the living-standard variable respondents are ranked by (income per capita)
  outcomes    outcome -> {label, decomposition: the equation whose marginal effects decompose it}
  bounds      [min, max] of the outcomes (binary: [0, 1]), for Wagstaff and Erreygers
  vce, cluster, weights   the convenient regression's variance and the sampling weights (vce survey:
              linearised over the study's design, its weights; compare_by's groups as subpopulations)
  compare_by  a binary variable: each group's index and conindex's test of their difference
  tables, figures   titles, notes and axis labels of what the stage prints
The estimators are in stats/conindex.py; the printed tables in tables/concentration.py.
"""

import logging

import numpy as np
import pandas as pd

from .errors import InputError
from .stats import conindex as ci
from .stats.design import Design
from .stats.inference import TIDY_COLUMNS
from .stats.survey import DesignRows, SurveyDesign

# Progress, for the job's log (steps/__init__.py).
log = logging.getLogger(__name__)

# Tidy estimand of each index (the standard one is what papers call "the" concentration index).
ESTIMANDS = {
    "standard": "concentration_index",
    "wagstaff": "wagstaff",
    "erreygers": "erreygers",
    "generalized": "generalized",
}


def _weights(df: pd.DataFrame, spec: dict, design: SurveyDesign | None = None):
    name = design.weights if design is not None and design.weights else spec.get("weights")
    return df[name].to_numpy(float) if name else None


def _clusters(df: pd.DataFrame, spec: dict):
    return df[spec["cluster"]].to_numpy() if spec.get("vce") == "cluster" else None


def _design_rows(df: pd.DataFrame, spec: dict, design: SurveyDesign | None):
    """The rows within the whole file's design (vce survey), else None."""
    if spec.get("vce") != "survey":
        return None
    if design is None:
        raise InputError("concentration: vce survey needs the survey design of the whole file.")
    return DesignRows.of(design, df, "concentration: survey")


def _index_row(result: ci.IndexResult, study: str, sample: str, outcome: str, rank: str) -> dict:
    statistic, p_value, low, high = result.wald()
    return {
        "study": study,
        "model": "concentration_index",
        "sample": sample,
        "equation": outcome,
        "term": rank,
        "level": "",
        "reference": "",
        "estimand": ESTIMANDS[result.index],
        "estimate": result.estimate,
        "std_error": result.std_error,
        "statistic": statistic,
        "p_value": p_value,
        "conf_low": low,
        "conf_high": high,
        "n_obs": result.n_obs,
        "converged": True,
        "estimable": True,
    }


def indices(df: pd.DataFrame, spec: dict, study: str, design: SurveyDesign | None = None) -> pd.DataFrame:
    """Every index of every outcome (sample 'total'), and with `compare_by` each group's
    standard index and the test of their difference (estimand 'difference'). With vce survey,
    `design` is the whole file's."""
    rows = []
    rank = spec["rank"]
    for outcome in spec["outcomes"]:
        log.info("concentration indices of %s by %s (%s rows, vce %s)", outcome, rank, f"{len(df):,}", spec["vce"])
        for index in ci.INDICES:
            result = ci.concentration_index(
                df[outcome].astype(float),
                df[rank],
                _weights(df, spec, design),
                index,
                tuple(spec["bounds"]),
                spec["vce"],
                _clusters(df, spec),
                _design_rows(df, spec, design),
            )
            rows.append(_index_row(result, study, "total", outcome, rank))
        if spec.get("compare_by"):
            by = spec["compare_by"]
            groups = []
            for level in (False, True):
                sub = df[df[by].astype(bool) == level]
                groups.append(
                    ci.concentration_index(
                        sub[outcome].astype(float),
                        sub[rank],
                        _weights(sub, spec, design),
                        "standard",
                        tuple(spec["bounds"]),
                        spec["vce"],
                        _clusters(sub, spec),
                        _design_rows(sub, spec, design),
                    )
                )
                rows.append(_index_row(groups[-1], study, f"{by}={level}", outcome, rank))
            test = ci.compare_groups(*groups)
            rows.append(
                {
                    "study": study,
                    "model": "concentration_index",
                    "sample": f"{by}: True - False",
                    "equation": outcome,
                    "term": rank,
                    "level": "",
                    "reference": "",
                    "estimand": "difference",
                    "estimate": test["diff"],
                    "std_error": test["std_error"],
                    "statistic": test["z"],
                    "p_value": test["p_value"],
                    "n_obs": groups[0].n_obs + groups[1].n_obs,
                    "converged": True,
                    "estimable": True,
                }
            )
    return pd.DataFrame(rows).reindex(columns=TIDY_COLUMNS)


def decompositions(df: pd.DataFrame, spec: dict, models: dict, estimates: pd.DataFrame) -> pd.DataFrame:
    """Each outcome's decomposition from the marginal effects of its equation (sample total)."""
    frames = []
    for outcome, info in spec["outcomes"].items():
        equation = info["decomposition"]
        log.info("decomposition of the index of %s (marginal effects of %s)", outcome, equation)
        eq = models["equations"][equation]
        effects = estimates[
            (estimates["model"] == equation) & (estimates["sample"] == "total") & (estimates["estimand"] == "ame")
        ]
        if effects.empty:
            raise InputError(
                f"config.yaml: concentration.outcomes.{outcome}.decomposition: equation "
                f"'{equation}' has no marginal effects; add `report: [coef, ame]` to it."
            )
        design = Design.from_data(eq.get("covariates", models["covariates"]), df)
        determinants = pd.DataFrame(design.matrix(df), columns=design.column_names(), index=df.index)
        level = effects["level"].fillna("").astype(str)
        names = np.where(level == "", effects["term"], effects["term"] + "=" + level)
        table = ci.decompose(
            df[outcome].astype(float),
            df[spec["rank"]],
            determinants,
            pd.Series(effects["estimate"].to_numpy(), index=names),
            _weights(df, spec),
        )
        term_level = table["determinant"].str.split("=", n=1, expand=True).reindex(columns=[0, 1])
        frames.append(table.assign(outcome=outcome, term=term_level[0], level=term_level[1].fillna("")))
    columns = [
        "outcome",
        "determinant",
        "term",
        "level",
        "effect",
        "mean",
        "elasticity",
        "concentration_index",
        "contribution",
        "percent",
    ]
    return pd.concat(frames, ignore_index=True)[columns]


def curves(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
    return pd.concat(
        [
            ci.concentration_curve(df[outcome].astype(float), df[spec["rank"]], _weights(df, spec)).assign(
                outcome=outcome
            )
            for outcome in spec["outcomes"]
        ],
        ignore_index=True,
    )

"""The bootstrap of a model unit (an equation, or a two-part model's parts and their combination),
cut into jobs: chunks of replicates, the jackknife, and a gather step that writes the intervals.

Config (`bootstrap:` on an equation, or on `two_part`; schemas/config.schema.yaml):
  reps        replications
  chunk       replications per job (results/<study>/bootstrap/<unit>_chunk<k>.csv)
  seed        replicate r resamples from SeedSequence(seed).spawn(reps)[r] (subsample j of it from
              that sequence's child j): results are the same whatever `chunk` is and wherever the
              chunks run
  cluster     null (rows), a variable (its clusters), or `survey` (the study's survey design: its
              PSUs within its strata)
  max_failed  the share of replicates that may fail before the run stops (default 0.05)

Each replicate refits the unit on a resample of each subsample's rows and takes every number the
unit reports (coefficients, marginal effects, odds ratios, combined effects). Index models (probit,
logit, glm, ols) reporting coef, ame and odds ratios are refitted on the full sample's design
columns, by Newton's method or IRLS started from the full-sample estimate, and their effects
computed without the delta-method Jacobian (a replicate needs the numbers only); anything else
(melogit, `margins:` requests) is refitted through the same code as the full sample. A replicate
fails when a column of the design does not vary in it (a level not drawn), its columns are
collinear, an outcome is perfectly predicted (separation) or the fit does not converge: failures
are counted by reason and reported, never dropped silently, and more than `max_failed` of them stop
the run. Point estimates do not depend on the variance type, so replicates of vce cluster or
survey equations are refitted with a robust variance (survey weights kept).

The gather step (`gather`) adds to estimates.csv, for every number of the unit, two rows of
estimand `<estimand> bootstrap percentile` and `<estimand> bootstrap bca`: the estimate as in the
analytic row, std_error the bootstrap standard error (SD of the replicates), conf_low and
conf_high the 95% interval, statistic and p_value empty; and `_model` rows `bootstrap_reps` and
`bootstrap_failed`.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr
from statsmodels.genmod.families.links import Probit

from .errors import InputError, closest
from .estimation import fit_sample, subsamples, whole_file_design
from .fit_statistics import MODEL_TERM, tidy_rows
from .outputs import CONCENTRATION_UNIT, TWO_PART, model_units
from .stats.bootstrap import (
    Resampler,
    bca_interval,
    jackknife_influence,
    percentile_interval,
    replicate_rng,
    replicate_seeds,
)
from .stats.design import INTERCEPT
from .stats.inference import TIDY_COLUMNS
from .stats.margins import Part, evaluation_part
from .stats.models import FAMILIES, LINKS, binary_choice_newton, glm_newton_step

log = logging.getLogger(__name__)
KEY_COLUMNS = ["model", "equation", "term", "level", "reference", "estimand"]
FAST_KINDS = ("probit", "logit", "glm", "ols")
FAST_REPORTS = {"coef", "ame", "odds_ratio"}
METHODS = ("percentile", "bca")
# The `_model` rows a gathered bootstrap adds beside the fit's own statistics.
BOOTSTRAP_STATISTICS = ("bootstrap_reps", "bootstrap_failed")


class ReplicateFailed(Exception):
    """A replicate whose refit cannot give the unit's numbers (the reason is counted)."""


def key_name(key) -> str:
    return "|".join("" if pd.isna(k) else str(k) for k in key)


@dataclass
class SampleProblem:
    """One subsample of a unit: its reported numbers and how a resample's are computed."""

    sample: str
    keys: list  # (model, equation, term, level, reference, estimand) of each reported number
    estimate: np.ndarray
    statistic: Callable  # positions of the subsample's rows -> the numbers (raises ReplicateFailed)
    resampler: Resampler


def _reported(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["term"] != MODEL_TERM].reset_index(drop=True)


def _keys(frame: pd.DataFrame) -> list[tuple]:
    rows = frame[KEY_COLUMNS].astype(object).where(frame[KEY_COLUMNS].notna(), "")
    return [tuple(str(v) for v in row) for row in rows.itertuples(index=False)]


def problems(
    df: pd.DataFrame, models: dict, study: str, unit: str, settings: dict, survey=None, design=None
) -> list[SampleProblem]:
    """Each subsample's full-sample fit of the unit and its replicate statistic (the unit
    `concentration`: `models` holds the stage's spec under `concentration`)."""
    if unit == CONCENTRATION_UNIT:
        return concentration_problems(df, models["concentration"], study, settings, survey, design)
    out = []
    for sample_name, sub in subsamples(df, models, study):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = fit_sample(sub, models, study, unit, sample_name, survey, design, quiet=True)
        reported = _reported(pd.concat(fitted.estimates, ignore_index=True)[TIDY_COLUMNS])
        keys = _keys(reported)
        resampler = _resampler(sub, settings, survey, study, unit)
        fast = _fast_statistic(fitted.fits, sub, models, unit, keys)
        statistic = fast or _generic_statistic(
            sub, models, study, unit, sample_name, keys, survey, _cluster_variable(settings, survey), resampler
        )
        out.append(SampleProblem(sample_name, keys, reported["estimate"].to_numpy(float), statistic, resampler))
    return out


def read_problems(
    analytic, models: dict, study: str, unit: str, settings: dict, survey=None, interim=None
) -> list[SampleProblem]:
    """`problems` of the analytic sample's file (with vce survey, over the whole file's design read
    from `interim`): what each chunk job and each jackknife job starts from."""
    design = whole_file_design(survey, interim, f"config.yaml: studies.{study}.survey")
    return problems(pd.read_parquet(analytic), models, study, unit, settings, survey, design)


def concentration_estimates(df: pd.DataFrame, spec: dict, study: str, design=None) -> pd.DataFrame:
    """The concentration stage's tidy indices (concentration.indices), the bootstrap's estimates."""
    from . import concentration as stage

    return stage.indices(df, spec, study, design)


def concentration_problems(df, spec, study, settings, survey=None, design=None) -> list[SampleProblem]:
    """One problem per row label of concentration.csv (the whole sample; with compare_by each group
    and their difference), each resampling the whole analytic sample: a group's index is computed
    within the resample, as conindex's bootstrap would. The indices' point estimates do not depend on
    the variance, so replicates compute them with the conventional one."""
    from . import concentration as stage

    full = concentration_estimates(df, spec, study, design)
    plain = {**spec, "vce": "oim"}
    if spec.get("vce") == "survey" and design is not None and design.weights:
        plain["weights"] = design.weights  # the design's weights, as the full-sample indices use
    out = []
    for label, rows in full.groupby("sample", sort=False):
        keys = _keys(rows)
        wanted = {k: i for i, k in enumerate(keys)}

        # the whole sample's indices need no groups; a group's (or their difference) needs them
        own = {k: v for k, v in plain.items() if k != "compare_by"} if label == "total" else plain

        def statistic(positions, label=label, keys=keys, wanted=wanted, own=own):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    tidy = stage.indices(df.iloc[positions].reset_index(drop=True), own, study)
                except (InputError, ValueError, ZeroDivisionError, np.linalg.LinAlgError) as e:
                    raise ReplicateFailed(f"the index cannot be computed ({type(e).__name__})") from None
            tidy = tidy[tidy["sample"] == label]
            values = np.full(len(keys), np.nan)
            for key, value in zip(_keys(tidy), tidy["estimate"].to_numpy(float)):
                if key in wanted:
                    values[wanted[key]] = value
            return values

        out.append(
            SampleProblem(
                label,
                keys,
                rows["estimate"].to_numpy(float),
                statistic,
                _resampler(df, settings, survey, study, CONCENTRATION_UNIT),
            )
        )
    return out


def _resampler(sub: pd.DataFrame, settings: dict, survey: dict | None, study: str, unit: str) -> Resampler:
    cluster = settings.get("cluster")
    if not cluster:
        return Resampler(len(sub))
    path = {CONCENTRATION_UNIT: "concentration", TWO_PART: "models.two_part"}.get(unit, f"models.equations.{unit}")
    where = f"config.yaml: studies.{study}.{path}.bootstrap.cluster"
    if cluster == "survey":
        psu, strata = (survey or {}).get("psu"), (survey or {}).get("strata")
        columns = [psu] + ([strata] if strata else [])
    else:
        columns = [cluster]
    for column in columns:
        if column not in sub.columns:
            raise InputError(
                f"{where}: '{column}' is not a variable of the analytic sample{closest(column, sub.columns)}; name "
                f"the variable identifying the clusters (or null to resample rows)."
            )
        if sub[column].isna().any():
            raise InputError(
                f"{where}: '{column}' is missing for {int(sub[column].isna().sum()):,} rows; every row needs "
                "its cluster."
            )
    if cluster == "survey":
        return Resampler(len(sub), sub[psu].to_numpy(), sub[strata].to_numpy() if strata else None)
    return Resampler(len(sub), sub[cluster].to_numpy())


# --- replicates through the full-sample code ------------------------------------------------


def _cluster_variable(settings: dict, survey: dict | None) -> str | None:
    cluster = settings.get("cluster")
    return (survey or {}).get("psu") if cluster == "survey" else cluster


def _generic_statistic(
    sub, models, study, unit, sample_name, keys, survey=None, cluster=None, resampler=None
) -> Callable:
    """Refit the unit on the resampled rows with the code that fitted the full sample (vce survey
    and cluster become robust, with the survey's weights: the point estimates are the same). With
    clusters resampled, a cluster drawn twice becomes two clusters (Stata's idcluster()), so that a
    random intercept by that variable gives each draw its own."""
    models = dict(models)
    models["samples"] = {sample_name: None}
    equations = {}
    for name, eq in models["equations"].items():
        eq = dict(eq)
        vce = eq.get("vce", models.get("vce", "oim"))
        if vce in ("survey", "cluster"):  # the point estimates do not depend on it
            eq["vce"] = "robust"
        if vce == "survey" and (survey or {}).get("weights"):
            models["weights"] = survey["weights"]
        equations[name] = eq
    models["equations"] = equations
    wanted = {k: i for i, k in enumerate(keys)}

    def statistic(positions: np.ndarray) -> np.ndarray:
        rows = sub.iloc[positions].reset_index(drop=True)
        drawn = getattr(resampler, "drawn", None)
        if cluster and drawn is not None and len(drawn) == len(rows):
            rows[cluster] = drawn
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = fit_sample(rows, models, study, unit, sample_name, quiet=True)
        except InputError as e:
            raise ReplicateFailed(_reason(str(e))) from None
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as e:
            raise ReplicateFailed(f"the fit failed ({type(e).__name__})") from None
        if not all(f.converged for f in fitted.fits.values()):
            raise ReplicateFailed("a fit did not converge (e.g. perfect separation)")
        reported = _reported(pd.concat(fitted.estimates, ignore_index=True)[TIDY_COLUMNS])
        out = np.full(len(keys), np.nan)
        for key, value in zip(_keys(reported), reported["estimate"].to_numpy(float)):
            if key in wanted:
                out[wanted[key]] = value
        return out

    return statistic


def _reason(message: str) -> str:
    if "collinear" in message:
        return "collinear covariates (e.g. a level not drawn)"
    if "rows for" in message:
        return "fewer rows than parameters"
    return "the fit stopped: " + message.split(": ", 1)[-1][:80]


# --- index models refitted on the full sample's design columns ------------------------------


def _fast_statistic(fits: dict, sub: pd.DataFrame, models: dict, unit: str, keys: list) -> Callable | None:
    equations = model_units(models)[unit]
    for name in equations:
        eq = models["equations"][name]
        report = set(eq.get("report") or ["coef", "ame"])
        if eq["kind"] not in FAST_KINDS or eq.get("margins") or not report <= FAST_REPORTS:
            return None
    wanted = {k: i for i, k in enumerate(keys)}
    parts = {}
    for name in equations:
        fit = fits[name]
        position = pd.Series(np.arange(len(fit.data)), index=fit.data.index)
        in_fit = sub.index.isin(fit.data.index)
        if fit.data.index.has_duplicates or not sub.index.is_unique:
            return None
        rows = np.full(len(sub), -1)
        rows[in_fit] = position.loc[sub.index[in_fit]].to_numpy()
        parts[name] = (fit, rows, models["equations"][name], _slots(fit, models["equations"][name], name, wanted))
    pair = models.get("two_part") if unit == TWO_PART else None
    if pair:
        first = fits[pair["first"]]
        if len(first.data) != len(sub):
            return None
        combined = EffectPlan([evaluation_part(fits[pair["first"]], sub), evaluation_part(fits[pair["second"]], sub)])
        weights = first.weights
    plans = {
        name: EffectPlan([Part(fit, fit.X, fit.values, eq.get("scale", "response"))])
        for name, (fit, _, eq, _) in parts.items()
        if "ame" in (eq.get("report") or ["coef", "ame"])
    }
    effect_slots = {
        name: np.array(
            [
                wanted.get(
                    (name, parts[name][0].spec.outcome, *label, _ame_estimand(keys, name, parts[name][0].spec.outcome)),
                    -1,
                )
                for label in plan.labels
            ],
            dtype=int,
        )
        for name, plan in plans.items()
    }
    combined_slots = (
        np.array([wanted.get((TWO_PART, "combined", *label, "ame"), -1) for label in combined.labels], dtype=int)
        if pair
        else None
    )

    def statistic(positions: np.ndarray) -> np.ndarray:
        out = np.full(len(keys), np.nan)
        refitted = {}
        for name, (fit, rows, _, slots) in parts.items():
            own = rows[positions]
            own = own[own >= 0]
            params = _refit(fit, own, slots["indicators"])
            refitted[name] = params
            for where, values in ((slots["coef"], params), (slots["odds_ratio"], np.exp(params))):
                kept = where >= 0
                out[where[kept]] = np.where(slots["estimable"], values, np.nan)[kept]
            if name in plans:
                values = np.array(plans[name].effects([params], own, _normalised(fit.weights[own])))
                kept = effect_slots[name] >= 0
                out[effect_slots[name][kept]] = values[kept]
        if pair:
            params = [refitted[pair["first"]], refitted[pair["second"]]]
            values = np.array(combined.effects(params, positions, _normalised(weights[positions])))
            kept = combined_slots >= 0
            out[combined_slots[kept]] = values[kept]
        return out

    return statistic


class EffectPlan:
    """margins, dydx(*) of a product of index-model parts (stats/margins.py), estimates only: what
    does not depend on the parameters (each variable's derivative columns, each factor level's
    patched columns) is computed once at the full sample's rows, a replicate takes its rows, and the
    levels of every factor that interacts with no varying column are evaluated together (one n x T
    matrix per part, _stack_levels), the levels of each other factor together."""

    def __init__(self, parts: list[Part]):
        self.parts = parts
        self.labels, self.plan = [], []
        n = len(parts[0].X)
        for v in dict.fromkeys(v for p in parts for v in p.values):
            owner = next(p for p in parts if v in p.values)
            if owner.design.kind(v) == "continuous":
                blocks = [  # (part, columns, d columns / d v) for each piece of each part v enters
                    (k, cols, block)
                    for k, p in enumerate(parts)
                    if v in p.values
                    for cols, block in p.design.derivative(p.values, v, n)
                ]
                self.labels.append((v, "", ""))
                self.plan.append(("continuous", blocks))
                continue
            factor = owner.design.factor(v)
            levels = [factor.reference, *factor.others()]
            patches = []
            for k, p in enumerate(parts):
                if v not in p.values:
                    continue
                # per level, the columns of the terms v enters: constant rows (1 x c), or per row (n x c)
                # (design.patch: the same columns at every level, where patch_terms' pieces may differ)
                by_level = [[p.design.patch(p.values, {v: level}, n)] for level in levels]
                constant = all(block.strides[0] == 0 for pieces in by_level for _, block in pieces)
                slices = [cols for cols, _ in by_level[0]]
                if constant:
                    blocks = [np.array([pieces[i][1][0] for pieces in by_level]) for i in range(len(slices))]
                else:
                    blocks = [
                        np.stack([np.asarray(pieces[i][1]) for pieces in by_level], axis=1) for i in range(len(slices))
                    ]
                patches.append((k, p.design.columns_of(v), slices, blocks, constant))
            self.labels += [(v, str(level), str(factor.reference)) for level in levels[1:]]
            self.plan.append(("factor", patches))
        self._stack_levels()

    def _h(self, k: int, eta: np.ndarray, derivative: bool = True):
        """(h, h') of the part's linear predictor on its scale."""
        part = self.parts[k]
        if part.scale == "linear":
            return eta, (np.ones_like(eta) if derivative else None)
        link = part.fit.link
        if isinstance(link, Probit):
            return ndtr(eta), (np.exp(-(eta**2) / 2.0) / np.sqrt(2 * np.pi) if derivative else None)
        return link.inverse(eta), (link.inverse_deriv(eta) if derivative else None)

    def _stack_levels(self) -> None:
        """The factors whose patches are constant rows (each level one value of its columns for
        every row), every level of all of them as one column of an n x T matrix, so that a
        replicate evaluates them in a few matrix products instead of a loop over factors. Per part
        k: `where` its level columns among the T, `remove` (p x T_k, 1 in the columns the level
        column's factor enters) and `patch` (T_k x p, those columns' values at the level)."""
        self.stacked, self.levels_total = {}, 0  # plan index -> its first level column; T
        for i, (kind, pieces) in enumerate(self.plan):
            if kind == "factor" and all(constant for *_, constant in pieces):
                self.stacked[i] = self.levels_total
                self.levels_total += _levels(pieces)
        self.stacked_parts = []
        for k, part in enumerate(self.parts):
            p = part.X.shape[1]
            where, remove, patch = [], [np.zeros((p, 0))], [np.zeros((0, p))]
            for i, first in self.stacked.items():
                for j, cols, slices, blocks, _ in self.plan[i][1]:
                    if j != k:
                        continue
                    levels = _levels(self.plan[i][1])
                    r, q = np.zeros((p, levels)), np.zeros((levels, p))
                    r[cols, :] = 1.0
                    for columns, block in zip(slices, blocks):
                        q[:, columns] += block
                    where += range(first, first + levels)
                    remove.append(r)
                    patch.append(q)
            self.stacked_parts.append((np.array(where, dtype=int), np.hstack(remove), np.vstack(patch)))

    def effects(self, params: list[np.ndarray], rows: np.ndarray, w: np.ndarray) -> list[float]:
        X = [p.X[rows] for p in self.parts]
        eta = [x @ b for x, b in zip(X, params)]
        hs = [self._h(k, e) for k, e in enumerate(eta)]
        h = [a for a, _ in hs]
        others = [_product(h, {k}) for k in range(len(h))]
        predictions = self._stacked_predictions(X, eta, h, params, w)
        out = []
        for i, (kind, pieces) in enumerate(self.plan):
            if kind == "continuous":
                slope = 0.0
                for k, cols, block in pieces:
                    de = (block[rows] if block.strides[0] else block[:1]) @ params[k][cols]
                    slope = slope + hs[k][1] * de * others[k]
                out.append(float(w @ slope))
                continue
            if i in self.stacked:
                first = self.stacked[i]
                level = predictions[first : first + _levels(pieces)]
                out += list(level[1:] - level[0])
                continue
            mu = _product(h, {k for k, *_ in pieces})
            mu = mu[:, None] if isinstance(mu, np.ndarray) else mu
            for k, cols, slices, blocks, constant in pieces:
                e = (eta[k] - X[k][:, cols] @ params[k][cols])[:, None]
                for columns, block in zip(slices, blocks):
                    b = params[k][columns]
                    e = e + (block @ b)[None, :] if constant else e + block[rows] @ b
                mu = mu * self._h(k, e, derivative=False)[0]
            level = w @ mu
            out += list(level[1:] - level[0])
        return out

    def _stacked_predictions(self, X: list, eta: list, h: list, params: list, w: np.ndarray) -> np.ndarray:
        """The average prediction at every level column of the stacked factors (see _stack_levels):
        in part k, eta less the factor's columns plus their values at the level; elsewhere h_k."""
        if not self.levels_total:
            return np.zeros(0)
        mu = 1.0
        for k, (where, remove, patch) in enumerate(self.stacked_parts):
            if not len(where):
                mu = mu * h[k][:, None]
                continue
            e = eta[k][:, None] - X[k] @ (remove * params[k][:, None]) + patch @ params[k]
            at_levels = self._h(k, e, derivative=False)[0]
            if len(where) < self.levels_total:  # some factors do not enter this part: h_k there
                factor = np.repeat(h[k][:, None], self.levels_total, axis=1)
                factor[:, where] = at_levels
                at_levels = factor
            mu = mu * at_levels
        return w @ mu


def _levels(pieces: list) -> int:
    """A factor's number of levels (reference included), from its first part's level blocks."""
    return len(pieces[0][3][0])


def _product(h: list, skip: set):
    """The product of the parts' predictions h_j over the parts j not in `skip` (1.0 if none)."""
    kept = [h[j] for j in range(len(h)) if j not in skip]
    return np.prod(kept, axis=0) if kept else 1.0


def _slots(fit, eq: dict, name: str, wanted: dict) -> dict:
    """Where each coefficient (and odds ratio) of a fit goes among the unit's numbers (-1: not
    reported), which are estimable, and the indicator columns a separation check looks at."""
    report = eq.get("report") or ["coef", "ame"]
    outcome = fit.spec.outcome

    def positions(estimand):
        return np.array(
            [
                wanted.get((name, outcome, term, level, reference, estimand), -1)
                if estimand in report and not (estimand == "odds_ratio" and term == INTERCEPT)
                else -1
                for term, level, reference in fit.labels
            ],
            dtype=int,
        )

    binary = fit.spec.family_and_link()[0] == "binomial"
    names = fit.names
    indicators = [
        j for j in range(fit.X.shape[1]) if binary and names[j] != INTERCEPT and np.isin(fit.X[:, j], (0.0, 1.0)).all()
    ]
    return {
        "coef": positions("coef"),
        "odds_ratio": positions("odds_ratio"),
        "estimable": np.array([n not in fit.not_identified for n in names]),
        "indicators": np.array(indicators, dtype=int),
    }


def _separated(X: np.ndarray, y: np.ndarray, indicators: np.ndarray) -> bool:
    """An indicator column within which (or outside which) the outcome never varies: quasi-complete
    separation (the full fit's check, stats/models._separated_terms, on every indicator at once)."""
    if not len(indicators):
        return False
    columns = X[:, indicators]
    n1, s1 = columns.sum(axis=0), y @ columns
    n0, s0 = len(y) - n1, y.sum() - s1
    return bool(np.any(((n1 > 0) & ((s1 == 0) | (s1 == n1))) | ((n0 > 0) & ((s0 == 0) | (s0 == n0)))))


def _normalised(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


def _ame_estimand(keys: list, model: str, outcome: str) -> str:
    """The estimand name the equation's default margins rows carry (ame, log_effect, ame_linear)."""
    names = [k[5] for k in keys if k[0] == model and k[1] == outcome and k[5] not in ("coef", "odds_ratio")]
    return names[0] if names else "ame"


def _refit(fit, rows: np.ndarray, indicators: np.ndarray) -> np.ndarray:
    """The equation's estimate on its rows `rows` of the full fit's design, from the full estimate."""
    X, y = fit.X[rows], fit.y[rows]
    w = fit.weights[rows]
    w = w / w.mean()
    _check_columns(X, fit.names)
    kind = fit.spec.kind
    if kind in ("probit", "logit"):
        result = binary_choice_newton(X, y, kind, w if fit.spec.survey_weights else None, start=fit.params)
        if result.perfect_prediction or _separated(X, y, indicators):
            raise ReplicateFailed("perfect separation")
        if not result.converged:
            raise ReplicateFailed("the fit did not converge")
        return result.params
    if kind == "ols":
        root = np.sqrt(w)
        return np.linalg.lstsq(X * root[:, None], y * root, rcond=None)[0]
    return _irls(X, y, w, fit.spec, fit.params)


def _check_columns(X: np.ndarray, names: list) -> None:
    """Every column varies and none is a combination of the others (the full fit's quick screen)."""
    gram = X.T @ X
    scale = np.sqrt(np.diag(gram))
    if np.any(scale == 0):
        raise ReplicateFailed("a covariate's level not drawn (a column of zeros)")
    eigen = np.linalg.eigvalsh(gram / np.outer(scale, scale))
    if eigen[0] <= 1e-9 * eigen[-1]:
        raise ReplicateFailed("collinear covariates (e.g. a level not drawn)")


def _irls(X: np.ndarray, y: np.ndarray, w: np.ndarray, spec, start: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """A GLM's estimate by Newton's method from `start` (stats/models.glm_newton_step: the observed
    information, IRLS's expected one where that is not positive definite)."""
    family_name, link_name = spec.family_and_link()
    family = FAMILIES[family_name](link=LINKS[link_name]())
    beta = np.array(start, dtype=float)
    for _ in range(max_iter):
        _, step = glm_newton_step(X, y, w, family, beta)
        if step is None or not np.all(np.isfinite(step)):
            raise ReplicateFailed("the fit did not converge")
        beta = beta + step
        if np.max(np.abs(step) / (1 + np.abs(beta))) < 1e-10:
            return beta
    raise ReplicateFailed("the fit did not converge")


# --- chunks, jackknife, gather --------------------------------------------------------------


class _Records:
    """A chunk's (or a jackknife part's) rows: sample, replicate, failure reason, then one column per
    reported number of any subsample (NaN where a subsample does not report it, or its fit failed).
    Each subsample's numbers are placed by positions found once, not by name per replicate."""

    def __init__(self, problems_: list[SampleProblem]):
        all_keys = list(dict.fromkeys(k for p in problems_ for k in p.keys))
        where = {k: j for j, k in enumerate(all_keys)}
        self.names = [key_name(k) for k in all_keys]
        self.positions = {id(p): np.array([where[k] for k in p.keys], dtype=int) for p in problems_}
        self.labels, self.values = [], []

    def add(self, problem: SampleProblem, replicate: int, positions: np.ndarray) -> None:
        row = np.full(len(self.names), np.nan)
        try:
            with np.errstate(all="ignore"):
                values = problem.statistic(positions)
            if not np.all(np.isfinite(values[np.isfinite(problem.estimate)])):
                raise ReplicateFailed("a reported number is not finite (e.g. a level not drawn)")
            row[self.positions[id(problem)]] = values
            failed = ""
        except ReplicateFailed as e:
            failed = str(e)
        self.labels.append((problem.sample, replicate, failed))
        self.values.append(row)

    def frame(self) -> pd.DataFrame:
        labels = pd.DataFrame(self.labels, columns=["sample", "replicate", "failed"])
        values = np.array(self.values).reshape(len(self.values), len(self.names))
        return pd.concat([labels, pd.DataFrame(values, columns=self.names)], axis=1)


def chunk(problems_: list[SampleProblem], settings: dict, index: int) -> pd.DataFrame:
    """Replicates index*chunk .. (index+1)*chunk - 1 of every subsample: one row each."""
    reps, size = settings["reps"], settings["chunk"]
    start, stop = index * size, min((index + 1) * size, reps)
    records = _Records(problems_)
    for offset, sequence in enumerate(replicate_seeds(settings["seed"], reps, start, stop)):
        replicate = start + offset
        for j, problem in enumerate(problems_):
            records.add(problem, replicate, problem.resampler.draw(replicate_rng(sequence, j)))
        if (offset + 1) % max(1, (stop - start) // 5) == 0:
            log.info("bootstrap: replicates %d to %d of %d done", start, replicate, reps)
    return records.frame()


def jackknife(problems_: list[SampleProblem], part: int = 0, parts: int = 1) -> pd.DataFrame:
    """Each subsample's estimates leaving out one row (or one cluster) at a time, for BCa's
    acceleration: part `part` of `parts` (the units part, part + parts, part + 2 parts, ...)."""
    records = _Records(problems_)
    for problem in problems_:
        for unit in range(part, problem.resampler.units, parts):
            records.add(problem, unit, problem.resampler.leave_out(unit))
        log.info("jackknife: subsample %s, part %d of %d done", problem.sample, part + 1, parts)
    return records.frame()


def gather(
    estimates: pd.DataFrame, chunks: list[pd.DataFrame], jackknives: list[pd.DataFrame], settings: dict, where: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy rows of the intervals, messages) from the unit's full-sample estimates, its chunks
    of replicates and its jackknife's parts. Stops when more than max_failed of a subsample's
    replicates failed."""
    replicates = pd.concat(chunks, ignore_index=True).sort_values(["replicate"], kind="stable")
    jack = pd.concat(jackknives, ignore_index=True).sort_values(["replicate"], kind="stable")
    replicates["failed"] = replicates["failed"].fillna("").astype(str)
    jack = jack.assign(failed=jack["failed"].fillna("").astype(str))
    reps, level = settings["reps"], settings.get("level", 0.95)
    analytic = _reported(estimates)
    rows, messages = [], []
    for sample, block in analytic.groupby("sample", sort=False):
        mine = replicates[replicates["sample"] == sample]
        if sorted(mine["replicate"]) != list(range(reps)):
            raise InputError(f"{where}: the chunks hold {len(mine)} replicates of subsample {sample}, not {reps}.")
        failed = mine[mine["failed"] != ""]
        good = mine[mine["failed"] == ""]
        reasons = Counter(failed["failed"])
        listed = "; ".join(f"{reason}: {n}" for reason, n in reasons.most_common())
        model = block["model"].iloc[-1]
        equation = block["equation"].iloc[-1]
        if len(failed):
            messages.append(
                (
                    sample,
                    model,
                    f"{model}, subsample {sample}: {len(failed):,} of {reps:,} bootstrap replicates failed "
                    f"({listed}); the intervals use the other {len(good):,}.",
                )
            )
        if len(failed) > settings["max_failed"] * reps:
            raise InputError(
                f"{where}: {len(failed):,} of {reps:,} bootstrap replicates of subsample {sample} failed "
                f"({listed}), more than max_failed ({settings['max_failed']:g}) allows. Resample clusters "
                f"(cluster:), merge the rare levels, or raise max_failed knowingly."
            )
        jack_good = jack[(jack["sample"] == sample) & (jack["failed"] == "")]
        jack_failed = int(((jack["sample"] == sample) & (jack["failed"] != "")).sum())
        if jack_failed:
            messages.append(
                (
                    sample,
                    model,
                    f"{model}, subsample {sample}: {jack_failed:,} jackknife fits failed (BCa uses the rest).",
                )
            )
        for _, row in block.iterrows():
            name = key_name(_keys(row.to_frame().T)[0])
            if name not in mine.columns:
                raise InputError(
                    f"{where}: the replicates hold no '{name}' of subsample {sample} (chunks written by another "
                    f"version of the model?); delete results/<study>/bootstrap/ and rerun."
                )
            t = good[name].to_numpy(float) if name in good else np.array([])
            jackknifed = jack_good[name].to_numpy(float) if name in jack_good else np.array([])
            estimate = float(row["estimate"])
            usable = bool(row["estimable"]) and np.isfinite(estimate) and np.isfinite(t).sum() > 1
            se = float(np.nanstd(t, ddof=1)) if usable else np.nan
            intervals = {
                "percentile": percentile_interval(t, level) if usable else (np.nan, np.nan),
                "bca": bca_interval(t, estimate, jackknife_influence(jackknifed[np.isfinite(jackknifed)]), level)
                if usable
                else (np.nan, np.nan),
            }
            for method in METHODS:
                low, high = intervals[method]
                rows.append(
                    {
                        **{c: row[c] for c in TIDY_COLUMNS},
                        "estimand": f"{row['estimand']} bootstrap {method}",
                        "std_error": se,
                        "statistic": np.nan,
                        "p_value": np.nan,
                        "conf_low": low,
                        "conf_high": high,
                    }
                )
        counts = {"bootstrap_reps": reps, "bootstrap_failed": len(failed), "n_obs": block["n_obs"].iloc[-1]}
        study = block["study"].iloc[0]
        rows += tidy_rows(counts, model, study, sample, equation, True, names=BOOTSTRAP_STATISTICS).to_dict("records")
    tidy = pd.DataFrame(rows).reindex(columns=TIDY_COLUMNS)
    return tidy, pd.DataFrame(messages, columns=["sample", "model", "message"])

"""Outcome equations of the synthetic benefit sample, solved from seed 001's Tables 1, 3 and 4.

The data-generating process (DGP), on the covariates the generator drew for the 1,165:

* participation: P(reimbursed) = Phi(x b) -- a probit;
* amount | reimbursed: Gamma with mean exp(x c) -- Table 3's amount column read as log-scale effects;
* ratio | reimbursed: Beta with mean exp(x d) -- a log-link mean, so the Gamma GLM of the
  paper is correctly specified for it (as a quasi-likelihood), while ratios stay in (0, 1).

x holds Table 3's covariates, with migration scope split by insurance group (scope_ncms,
scope_urban) so that each subsample carries Table 4's scope effects. What is solved:

* participation: every Table 3 AME (all 1,165) except scope and insurance, each subsample's
  Table 4 scope AMEs, each group's reimbursement rate (Table 1), and the URBMI-UEBMI contrast
  within the urban subsample (Table 3's UEBMI minus URBMI): as many equations as unknowns,
  solved by Newton's method on the analytic Jacobian of the AMEs;
* amount: the log-scale effects are the coefficients themselves; each group's draws are
  rescaled to Table 1's mean amount (a shift of its intercept); the Gamma dispersion is
  chosen so that the model-based standard errors match Table 3's on average;
* ratio: as participation, with Table 1's mean ratios; the Beta precision of each group is
  set so that the ratio's SD equals Table 1's.

Reimbursement is drawn as the k largest latent values x b + e within each group, so the
counts of Table 1 hold exactly; the truth uses the realised threshold.

The subsample models are correctly specified for this DGP, so their truths are the DGP's
own effects. The pooled (total-sample) models are not, by design: Table 4's subsample scope
effects cannot all hold together with Table 3's pooled ones. For them the documented truth is
the pooled model's probability limit (`kind: pooled_limit`), and docs/synthetic_benefit.md
lists where it departs from the published pooled numbers.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ..sample import xtile
from ..stats.design import Design
from ..stats.margins import average_marginal_effects, evaluation_part, margins
from ..stats import ModelSpec, fit

EQUATIONS = {"participation": ("reimbursed", "response", "ame"),
             "amount": ("reimbursement_amount", "linear", "log_effect"),
             "ratio": ("reimbursement_ratio", "response", "ame")}
GROUPS = ("ncms", "urban")
SPLIT = {"migration_scope": "scope"}   # the term whose effects differ by insurance group


@dataclass
class Equation:
    """A DGP equation, shaped like a fitted model so the margins code can evaluate it."""
    design: Design
    params: np.ndarray
    link: object
    data: object = None
    X: object = None
    n_obs: int = 0

    @property
    def cov(self):
        return np.zeros((len(self.params), len(self.params)))


@dataclass
class Outcomes:
    reimbursed: np.ndarray
    recorded: np.ndarray
    amount: np.ndarray      # NaN where not recorded
    ratio: np.ndarray       # NaN where not recorded
    truth: pd.DataFrame
    notes: list = field(default_factory=list)


# -- the model of Table 3 ---------------------------------------------------------------

def table3_covariates(table3: dict) -> list:
    """Table 3's covariates in printed order, factors with their printed reference level."""
    out, seen = [], set()
    for row in table3["rows"]:
        if row["term"] in seen:
            continue
        seen.add(row["term"])
        out.append({"factor": row["term"], "reference": row["reference"]} if "level" in row else row["term"])
    return out


def _dgp_design(table3: dict, frame: pd.DataFrame) -> Design:
    covariates = []
    for c in table3_covariates(table3):
        if isinstance(c, dict) and c["factor"] in SPLIT:
            covariates += [{"factor": f"{SPLIT[c['factor']]}_{g}", "reference": c["reference"]} for g in GROUPS]
        else:
            covariates.append(c)
    return Design.from_data(covariates, frame, where="synthetic benefit DGP")


def with_group_scope(frame: pd.DataFrame) -> pd.DataFrame:
    """scope_ncms / scope_urban: the row's scope in its own group, the reference elsewhere."""
    out = frame.copy()
    for term, prefix in SPLIT.items():
        reference = "within_city"
        for g in GROUPS:
            values = np.where(out["group"] == g, out[term].astype(object), reference)
            out[f"{prefix}_{g}"] = pd.Categorical(values, categories=list(out[term].cat.categories))
    return out


def _published(table: dict, equation: str, sample: str | None = None) -> dict:
    """(term, level) -> published estimate of one equation's column."""
    return {(r["term"], str(r.get("level", ""))): r[equation][0] for r in table["rows"]
            if sample is None or r.get("sample") == sample}


# -- moments: what the solver matches ------------------------------------------------------

def _effects(eq: Equation, frame: pd.DataFrame, variables: list, scale: str) -> dict:
    """(variable, level) -> (AME, gradient in the parameters) over the rows of `frame`."""
    m = average_marginal_effects([evaluation_part(eq, frame, scale)], np.ones(len(frame)), variables)
    return {(v, lvl): (est, jac) for (v, lvl, _), est, jac in zip(m.labels, m.estimates, m.jacobian)}


def _mean(eq: Equation, frame: pd.DataFrame):
    X = eq.design.matrix(frame)
    eta = X @ eq.params
    return eq.link.inverse(eta).mean(), (eq.link.inverse_deriv(eta)[:, None] * X).mean(axis=0)


def _moments(eq: Equation, frame: pd.DataFrame, targets: dict, means: dict, contrast: float):
    """Stacked (value - target, gradient) of every calibration equation."""
    shared = [t for t in dict.fromkeys(v for v, _ in targets["shared"])]
    rows = [(_effects(eq, frame, shared, "response"), targets["shared"])]
    for g in GROUPS:
        in_group = frame[frame["group"] == g]
        rows.append((_effects(eq, in_group, [f"scope_{g}"], "response"),
                     {(f"scope_{g}", lvl): v for (_, lvl), v in targets[g].items()}))
    values, grads = [], []
    for effects, wanted in rows:
        for key, target in wanted.items():
            values.append(effects[key][0] - target)
            grads.append(effects[key][1])
    for g, target in means.items():
        value, grad = _mean(eq, frame[frame["group"] == g])
        values.append(value - target)
        grads.append(grad)
    urban = _effects(eq, frame[frame["group"] == "urban"], ["insurance_programme"], "response")
    values.append(urban[("insurance_programme", "UEBMI")][0] - urban[("insurance_programme", "URBMI")][0] - contrast)
    grads.append(urban[("insurance_programme", "UEBMI")][1] - urban[("insurance_programme", "URBMI")][1])
    return np.array(values), np.array(grads)


def solve(eq: Equation, frame: pd.DataFrame, targets: dict, means: dict, contrast: float,
          tol: float = 1e-10, max_iter: int = 50) -> np.ndarray:
    """Damped Newton on the calibration equations (as many as parameters)."""
    b = eq.params.copy()
    for _ in range(max_iter):
        F, J = _moments(Equation(eq.design, b, eq.link), frame, targets, means, contrast)
        if J.shape[0] != J.shape[1]:
            raise ValueError(f"calibration has {J.shape[0]} equations for {J.shape[1]} parameters")
        if np.max(np.abs(F)) < tol:
            return b
        step = np.linalg.solve(J, F)
        norm = np.linalg.norm(F)
        for shrink in 0.5 ** np.arange(20):
            trial = b - shrink * step
            if np.linalg.norm(_moments(Equation(eq.design, trial, eq.link), frame, targets, means,
                                       contrast)[0]) < norm:
                break
        b = trial
    raise ValueError(f"calibration did not converge (largest gap {np.max(np.abs(F)):.2e})")


def _targets(table3: dict, table4: dict, equation: str) -> dict:
    t3 = _published(table3, equation)
    return {"shared": {k: v for k, v in t3.items() if k[0] not in SPLIT and k[0] != "insurance_programme"},
            **{g: {k: v for k, v in _published(table4, equation, g).items()} for g in GROUPS}}


def _contrast(table3: dict, equation: str) -> float:
    t3 = _published(table3, equation)
    return t3[("insurance_programme", "UEBMI")] - t3[("insurance_programme", "URBMI")]


# -- drawing -------------------------------------------------------------------------------

def draw(frame: pd.DataFrame, published: dict, table1: dict, counts: dict, rng: np.random.Generator) -> Outcomes:
    """Outcomes for the benefit rows in `frame` (canonical covariates and `group`).

    published: benefit.yaml (Tables 3 and 4); table1: Table 1 as the generator's targets
    hold it (group -> term -> (mean, sd)); counts: per group, 'reimbursed' and 'recorded'.
    """
    table3, table4 = published["table3"], published["table4"]
    frame = with_group_scope(frame)
    design = _dgp_design(table3, frame)
    notes = []
    n = len(frame)
    group = frame["group"].to_numpy()

    # Participation: probit solved on all rows, then the k largest latent values per group.
    rates = {g: counts[g]["reimbursed"] / (group == g).sum() for g in GROUPS}
    start = np.zeros(len(design.column_names()))
    start[-1] = sm.families.links.Probit()(np.mean(list(rates.values())))
    probit = Equation(design, start, sm.families.links.Probit())
    probit.params = solve(probit, frame, _targets(table3, table4, "participation"), rates,
                          _contrast(table3, "participation"))
    latent = design.matrix(frame) @ probit.params + rng.standard_normal(n)
    reimbursed = np.zeros(n, dtype=bool)
    thresholds = {}
    for g in GROUPS:
        idx = np.flatnonzero(group == g)
        order = idx[np.argsort(-latent[idx], kind="stable")]
        k = counts[g]["reimbursed"]
        reimbursed[order[:k]] = True
        thresholds[g] = (latent[order[k - 1]] + latent[order[k]]) / 2 if k < len(order) else -np.inf
    probit.params = _shift_groups(design, probit.params, {g: -t for g, t in thresholds.items()})

    recorded = np.zeros(n, dtype=bool)
    for g in GROUPS:
        idx = np.flatnonzero(reimbursed & (group == g))
        recorded[rng.choice(idx, counts[g]["recorded"], replace=False)] = True
    glm_rows = frame[recorded]

    # Amount: log-scale effects are the coefficients; group means rescaled to Table 1's.
    amount_eq = Equation(design, _amount_coefficients(design, table3, table4), sm.families.links.Log())
    X = design.matrix(glm_rows)
    mu = np.exp(X @ amount_eq.params)
    dispersion = _gamma_dispersion(X, table3)
    amount_draw = rng.gamma(1 / dispersion, mu * dispersion)
    shifts = {}
    for g in GROUPS:
        at = glm_rows["group"].to_numpy() == g
        target = table1[g]["reimbursement_amount"][0]
        factor = target / amount_draw[at].mean()
        amount_draw[at] *= factor
        shifts[g] = np.log(factor)
    amount_eq.params = _shift_groups(design, amount_eq.params, shifts)
    delta, scales = _balance_amount_groups(amount_eq, glm_rows, amount_draw, table3)
    at_urban = glm_rows["group"].to_numpy() == "urban"
    amount_draw *= np.where(at_urban, scales["urban"], scales["ncms"])
    amount_eq.params = _shift_groups(design, amount_eq.params, {g: np.log(scales[g]) for g in GROUPS})
    notes.append(f"amount: urban log-mean raised by {delta:.3f} against NCMS (group means x{scales['ncms']:.3f} "
                 f"NCMS, x{scales['urban']:.3f} urban of Table 1's) to bring the pooled insurance effects "
                 f"toward Table 3's")
    notes.append(f"amount: Gamma dispersion {dispersion:.3f} (shape {1 / dispersion:.3f}), chosen so the "
                 f"model-based standard errors match Table 3's on average")

    # Ratio: log-link mean solved like participation; Beta precision from Table 1's SD.
    ratio_eq = Equation(design, np.zeros(len(design.column_names())), sm.families.links.Log())
    ratio_eq.params[-1] = np.log(0.45)
    means = {g: table1[g]["reimbursement_ratio_pct"][0] / 100 for g in GROUPS}
    ratio_eq.params = solve(ratio_eq, glm_rows, _targets(table3, table4, "ratio"), means, _contrast(table3, "ratio"))
    mu = np.exp(X @ ratio_eq.params)
    if (mu >= 0.97).any():
        notes.append(f"ratio: {int((mu >= 0.97).sum())} expected ratios above 0.97 capped there")
        mu = np.minimum(mu, 0.97)
    ratio_draw = np.empty(len(mu))
    for g in GROUPS:
        at = glm_rows["group"].to_numpy() == g
        sd = table1[g]["reimbursement_ratio_pct"][1] / 100
        precision = max(np.mean(mu[at] * (1 - mu[at])) / (sd**2 - np.var(mu[at])) - 1, 2.0)
        notes.append(f"ratio: Beta precision {precision:.2f} in the {g} group (Table 1 SD {sd:.4f})")
        ratio_draw[at] = rng.beta(mu[at] * precision, (1 - mu[at]) * precision)

    amount = np.full(n, np.nan)
    ratio = np.full(n, np.nan)
    amount[recorded], ratio[recorded] = amount_draw, ratio_draw
    equations = {"participation": (probit, frame, probit.link.inverse(design.matrix(frame) @ probit.params)),
                 "amount": (amount_eq, glm_rows, np.exp(X @ amount_eq.params)),
                 "ratio": (ratio_eq, glm_rows, mu)}
    truth = truth_table(equations, table3)
    return Outcomes(reimbursed, recorded, amount, ratio, truth, notes)


def _shift_groups(design: Design, params: np.ndarray, shifts: dict) -> np.ndarray:
    """Add shifts[g] to group g's linear predictor (NCMS: intercept; urban: URBMI and UEBMI)."""
    out = params.copy()
    names = design.column_names()
    out[names.index("_cons")] += shifts["ncms"]
    for level in ("URBMI", "UEBMI"):
        out[names.index(f"insurance_programme={level}")] += shifts["urban"] - shifts["ncms"]
    return out


def _amount_coefficients(design: Design, table3: dict, table4: dict) -> np.ndarray:
    published = _published(table3, "amount")
    by_group = {g: _published(table4, "amount", g) for g in GROUPS}
    params = np.zeros(len(design.column_names()))
    for j, name in enumerate(design.column_names()):
        term, _, level = name.partition("=")
        if term.startswith("scope_"):
            params[j] = by_group[term.split("_")[1]][("migration_scope", level)]
        elif term == "insurance_programme":
            params[j] = 0.0 if level == "URBMI" else _contrast(table3, "amount")
        elif term != "_cons":
            params[j] = published[(term, level)]
    return params


def _balance_amount_groups(eq: Equation, glm_rows: pd.DataFrame, amounts: np.ndarray, table3: dict,
                           tolerance: float = 0.08):
    """Table 1's group mean amounts (log ratio 0.165) and Table 3's insurance effects on the log
    amount (about 0.37 adjusted) cannot both hold. Shifting the urban group's log-mean by
    delta moves the pooled model's URBMI and UEBMI effects by exactly delta (their dummies
    span the urban group); delta is the published-SE-weighted gap, bounded so that each group's
    mean stays within `tolerance` of Table 1's and the overall mean stays Table 1's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = fit(paper_spec("amount", table3),
                     glm_rows.assign(reimbursement_amount=np.exp(eq.design.matrix(glm_rows) @ eq.params)))
    effects = margins(pooled, scale="linear")
    limits = {lv: v for (t, lv, _), v in zip(effects.labels, effects.estimates) if t == "insurance_programme"}
    published = {r["level"]: r["amount"] for r in table3["rows"] if r["term"] == "insurance_programme"}
    weights = {lv: 1 / published[lv][1] ** 2 for lv in published}
    wanted = sum(weights[lv] * (published[lv][0] - limits[lv]) for lv in published) / sum(weights.values())
    urban = glm_rows["group"].to_numpy() == "urban"
    totals = {"ncms": amounts[~urban].sum(), "urban": amounts[urban].sum()}

    def scales(delta):
        a = (totals["ncms"] + totals["urban"]) / (totals["ncms"] + np.exp(delta) * totals["urban"])
        return {"ncms": a, "urban": a * np.exp(delta)}

    delta = wanted
    while max(abs(v - 1) for v in scales(delta).values()) > tolerance:
        delta *= 0.99
    return delta, scales(delta)


def _gamma_dispersion(X: np.ndarray, table3: dict) -> float:
    """phi such that sqrt(phi [(X'X)^-1]_kk), the log-link Gamma model SEs, match Table 3's
    at the published n (a scaled-up sample keeps the same dispersion, not the same SEs)."""
    unit = np.sqrt(np.diag(np.linalg.inv(X.T @ X)) * len(X) / table3["columns"]["amount"]["n"])
    published_se = np.array([r["amount"][1] for r in table3["rows"]])
    # Column order of the DGP design differs from Table 3 (scope split); match by median.
    return float(np.median(published_se[published_se > 0]) ** 2 / np.median(unit[:-1]) ** 2)


# -- documented truth -----------------------------------------------------------------------

PAPER_MODELS = {"participation": dict(kind="glm", family="binomial", link="probit"),
                "amount": dict(kind="glm", family="gamma", link="log"),
                "ratio": dict(kind="glm", family="gamma", link="log")}


def paper_spec(name: str, table3: dict) -> ModelSpec:
    """The paper's model of one equation (Table 3's covariates)."""
    return ModelSpec(EQUATIONS[name][0], table3_covariates(table3), name=f"truth {name}", **PAPER_MODELS[name])


def truth_table(equations: dict, table3: dict) -> pd.DataFrame:
    """What each of the paper's nine models estimates in the limit, on the generated covariates.

    The paper's model is fitted to the DGP's expected outcomes: its quasi-likelihood
    equations are then those of an infinite sample with these covariates, so the fit is the
    model's probability limit. For the subsample models, which are correctly specified,
    that is the DGP's own effects ("dgp"); for the pooled models, which are not, it is what
    they converge to ("pooled_limit"), the number to set beside the published pooled one.
    """
    rows = []
    for name, (eq, frame, expected) in equations.items():
        outcome, scale, estimand = EQUATIONS[name]
        data = frame.assign(**{outcome: expected})
        for sample in ("total",) + GROUPS:
            sub = data if sample == "total" else data[data["group"] == sample]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = fit(paper_spec(name, table3), sub)
            m = margins(fitted, scale=scale, estimand=estimand)
            for (term, level, reference), value in zip(m.labels, m.estimates):
                rows.append({"model": name, "sample": sample, "equation": outcome, "term": term,
                             "level": level, "reference": reference, "estimand": estimand, "truth": value,
                             "kind": "pooled_limit" if sample == "total" else "dgp", "n_obs": len(sub)})
    return pd.DataFrame(rows)


def income_quintiles(income_per_capita: pd.Series) -> pd.Series:
    """The analytic sample's quintiles, formed as the pipeline forms them (Stata xtile)."""
    return xtile(income_per_capita, 5)


def gaps_markdown(truth: pd.DataFrame, published: dict, notes: list) -> str:
    """docs/synthetic_benefit.md: every published Table 3-4 number beside the synthetic truth.

    Regenerate with `python -m migrant_health.synth.benefit_truth > docs/synthetic_benefit.md`.
    """
    lines = ["# Synthetic benefit study: what the generator produced against seed 001",
             "", "Generated by `python -m migrant_health.synth.benefit_truth` for config.yaml's seed.",
             "Truth of a subsample model: the DGP's own effect. Truth of a pooled (total) model: its",
             "probability limit on the generated covariates (the pooled models are misspecified by",
             "design, since Table 4's subsample effects are kept). Gap in published SEs (0.0005 for a",
             "printed 0.000); |gap| > 1 is marked.", "", "## Generator notes", ""]
    lines += [f"- {n}" for n in notes] + ["", "## Tables 3 and 4", "",
                                          "| model | sample | term | level | published (SE) | truth | gap (SE) |",
                                          "|---|---|---|---|---|---|---|"]
    for table in ("table3", "table4"):
        for r in published[table]["rows"]:
            for model in EQUATIONS:
                estimate, se, _ = r[model]
                sample = r.get("sample", "total")
                hit = truth[(truth["model"] == model) & (truth["sample"] == sample) & (truth["term"] == r["term"])
                            & (truth["level"] == str(r.get("level", "")))]
                value = float(hit["truth"].iloc[0])
                gap = (value - estimate) / max(se, 0.0005)
                mark = " **" if abs(gap) > 1 else ""
                lines.append(f"| {model} | {sample} | {r['term']} | {r.get('level', '')} | {estimate:.3f} ({se:.3f}) "
                             f"| {value:.4f} | {gap:+.2f}{mark} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    import yaml

    from ..io.codebook import load_codebook
    from . import cmds2014

    root = Path(__file__).resolve().parents[3]
    docs = {n: yaml.safe_load((root / "data" / "published" / f"{n}.yaml").read_text())
            for n in ("benefit", "medical_return", "inequality")}
    seed = yaml.safe_load((root / "config.yaml").read_text())["datasets"]["cmds2014"]["generator"]["seed"]
    release = cmds2014.generate(cmds2014.targets_from_published(docs["benefit"], docs["medical_return"],
                                                                docs["inequality"]), seed=seed,
                                book=load_codebook(root / "data" / "codebooks" / "cmds2014.yaml"))
    sys.stdout.write(gaps_markdown(release.truth, docs["benefit"], release.notes))

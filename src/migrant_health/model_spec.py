"""What a methods section says about one equation: its outcome, covariates, estimator,
variance and sample design."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError

# Variance types, as a note describes them (stats/variance.py computes them).
VCE_TYPES = {
    "oim": "model-based (observed information; after least squares, the conventional s2 (X'WX)^-1)",
    "robust": "heteroskedasticity-robust (Stata's vce(robust))",
    "cluster": "cluster-robust (Stata's vce(cluster))",
    "eim": "model-based (expected information, as Stata's glm, irls and R's summary.glm)",
    "survey": "Taylor-linearised over the survey design (strata, PSUs, weights; Stata's svy)",
}
# Approximations of the random-intercept logit's likelihood (stats/mixed.py).
APPROXIMATIONS = {
    "glmer": "lme4's glmer deviance (its PIRLS weights; the default)",
    "exact_laplace": "the exact Laplace (or adaptive quadrature) approximation, as Stata's melogit",
}


@dataclass(frozen=True)
class Supports:
    """What an estimator honours (anything else is refused, never ignored). Kept here, free of
    numerical imports, so that config validation can read it before any job starts."""

    vce: tuple = ("oim", "eim", "robust", "cluster", "survey")
    weights: bool = True  # probability weights
    margins: bool = True  # average marginal effects (index models)
    group: bool = False  # a random intercept by `group` (and `nagq`, `approximation`)


SUPPORTS = {
    "probit": Supports(),
    "logit": Supports(),
    "glm": Supports(),
    # regress has no expected-information variance (it is the model-based one, oim).
    "ols": Supports(vce=("oim", "robust", "cluster", "survey")),
    "melogit": Supports(vce=("oim",), weights=False, margins=False, group=True),
}

# The family and link each kind implies (None: given by the specification).
KIND_FAMILY_LINK = {
    "probit": ("binomial", "probit"),
    "logit": ("binomial", "logit"),
    "glm": (None, None),
    "ols": ("gaussian", "identity"),
    "melogit": ("binomial", "logit"),
}
FAMILY_NAMES = ("binomial", "gamma", "gaussian", "poisson", "inverse_gaussian", "negative_binomial", "tweedie")
LINK_NAMES = ("logit", "probit", "log", "identity", "cloglog", "inverse_power", "sqrt", "inverse_squared")


@dataclass(frozen=True)
class ModelSpec:
    outcome: str
    covariates: list
    kind: str = "glm"  # a key of stats.estimators.ESTIMATORS
    family: str | None = None  # for glm: binomial, gamma, gaussian, poisson, ...
    link: str | None = None  # for glm: log, identity, logit, probit, ...
    vce: str = "oim"  # a key of VCE_TYPES
    cluster: str | None = None
    weights: str | None = None
    name: str = "model"
    group: str | None = None  # melogit: the variable identifying the groups
    nagq: int = 1  # melogit: 1 Laplace, more: adaptive Gauss-Hermite points
    survey: dict | None = None  # vce survey: {strata, psu, weights, fpc, nest, singleunit} (stats/survey.py)
    approximation: str = "glmer"  # melogit: a key of APPROXIMATIONS

    def family_and_link(self) -> tuple[str, str]:
        if self.kind not in KIND_FAMILY_LINK:
            raise InputError(f"{self.name}: kind '{self.kind}' is not one of {', '.join(KIND_FAMILY_LINK)}.")
        family, link = KIND_FAMILY_LINK[self.kind]
        family, link = family or self.family, link or self.link
        if family not in FAMILY_NAMES:
            raise InputError(f"{self.name}: family '{family}' is not one of {', '.join(FAMILY_NAMES)}.")
        if link not in LINK_NAMES:
            raise InputError(f"{self.name}: link '{link}' is not one of {', '.join(LINK_NAMES)}.")
        return family, link

    @property
    def variables(self) -> list[str]:
        """Every variable the equation reads: outcome, covariates, weights, clusters, groups."""
        used = [self.outcome] + [v for c in self.covariates for v in covariate_variables(c)]
        design = [self.survey.get(k) for k in ("strata", "psu", "weights", "fpc")] if self.survey else []
        extra = [self.weights, self.cluster if self.vce == "cluster" else None, self.group, *design]
        return list(dict.fromkeys(used + [v for v in extra if v]))

    @property
    def survey_weights(self) -> str | None:
        """The probability weights: the survey design's, or `weights`."""
        return (self.survey or {}).get("weights") or self.weights


def covariate_variables(item) -> list[str]:
    """The variables a covariate entry reads: `x`, {polynomial: x, ...}, {factor: x, ...} or
    {interaction: [a, {factor: b, reference: r}]} (stats/design.py parses the forms and refuses
    any other)."""
    if isinstance(item, str):
        return [item]
    for key in ("polynomial", "factor"):
        if isinstance(item, dict) and key in item:
            return [item[key]]
    if isinstance(item, dict) and isinstance(item.get("interaction"), list):
        return [v for part in item["interaction"] for v in covariate_variables(part)]
    raise InputError(
        f"covariate {item!r}: write a variable name, {{polynomial: x, degree: 2}}, "
        f"{{factor: x, reference: level}} or {{interaction: [a, b]}}."
    )

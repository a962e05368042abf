"""Two-part models, as Stata's `twopm`: P(y>0) by probit or logit on everyone, E[y|y>0]
by a GLM on the positive observations, and E[y] = P(y>0) x E[y|y>0].

Each part's effects are reported on their own; the combined effects on E[y] are averaged
over the whole sample with delta-method standard errors from the block-diagonal variance
of the two parts (the parts are estimated separately, so their covariance is zero), except
under a survey design, where the parts' estimating functions share PSUs and are linearised
together (stats/variance.joint_covariance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model_spec import ModelSpec
from .estimators import fit
from .margins import Margins, average_marginal_effects, evaluation_part, margins
from .models import FittedModel
from .survey import SurveyDesign


@dataclass
class TwoPartFit:
    """The two parts as fitted on their own (a study's equations are fitted once and combined
    here), and the rows over which the combined effects are averaged (the first part's)."""

    first: FittedModel
    second: FittedModel
    data: pd.DataFrame

    def combined_margins(self, variables=None) -> Margins:
        parts = [evaluation_part(self.first, self.data), evaluation_part(self.second, self.data)]
        return average_marginal_effects(parts, self.first.weights, variables, estimand="ame")

    def tidy(self, study: str = "", sample: str = "") -> pd.DataFrame:
        frames = [
            self.first.tidy(study, sample, equation="first"),
            margins(self.first).tidy(study, sample, equation="first"),
            self.second.tidy(study, sample, equation="second"),
            margins(self.second).tidy(study, sample, equation="second"),
            self.combined_margins().tidy(study, sample, equation="combined"),
        ]
        return pd.concat(frames, ignore_index=True)


def fit_two_part(
    first: ModelSpec, second: ModelSpec, data: pd.DataFrame, positive: pd.Series, design: SurveyDesign | None = None
) -> TwoPartFit:
    """`first` models the indicator of `positive`; `second` models y on the positive rows (with vce
    survey, a subpopulation of the design of `data`, or of `design` when given)."""
    positive = pd.Series(np.asarray(positive, dtype=bool), index=data.index)
    if design is None and "survey" in (first.vce, second.vce):
        spec = first if first.vce == "survey" else second
        design = SurveyDesign.from_data(data, spec.survey or {}, f"{spec.name}: survey")
    return TwoPartFit(fit(first, data, design), fit(second, data[positive], design), data)

"""The statistical core: specifications, estimators behind one seam (estimators.py), one
variance module (variance.py), Wald inference, and estimands (margins, odds ratios, two-part
combinations, concentration indices)."""

from ..model_spec import ModelSpec
from .estimators import ESTIMATORS, fit
from .margins import margins
from .models import FittedModel
from .odds_ratios import odds_ratios
from .twopart import TwoPartFit, fit_two_part

__all__ = ["ESTIMATORS", "ModelSpec", "FittedModel", "fit", "margins", "odds_ratios", "fit_two_part", "TwoPartFit"]

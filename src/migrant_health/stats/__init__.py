"""Estimation (models), inference (variances, Wald), and estimands (margins, odds ratios, two-part)."""
from .margins import margins
from .models import FittedModel, ModelSpec, fit
from .odds_ratios import odds_ratios
from .twopart import TwoPartFit, fit_two_part

__all__ = ["ModelSpec", "FittedModel", "fit", "margins", "odds_ratios", "fit_two_part", "TwoPartFit"]

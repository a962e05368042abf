"""Rule fit_models_by_wave: one unit of a pooled study's models fitted within one wave (models.by_wave)."""

import pandas as pd

from ..errors import InputError
from ..io.files import write_csv
from ..waves import within_wave
from .fit_models import fit_models


def fit_models_by_wave(
    study: str,
    wave: str,
    unit: str,
    models: dict,
    analytic: str,
    estimates: str,
    flow: str,
    messages: str,
    survey: dict | None = None,
    interim: list | None = None,
) -> None:
    """fit_models on the wave's analytic sample, as a study on that one dataset would fit the unit
    (with vce survey, `interim` is that wave's whole file). A covariate naming `wave` does not vary
    within one wave: it is dropped, and the messages say so."""
    kept, notes = within_wave(models)
    try:
        fit_models(study, unit, kept, analytic, estimates, flow, messages, survey, interim)
    except InputError as e:
        raise InputError(f"{e} (wave {wave} alone; models.by_wave)") from None
    if notes:
        first = next(iter(models.get("samples") or {"total": None}))
        fitted = pd.read_csv(messages, keep_default_na=False)
        added = pd.DataFrame([(first, m, f"{m}: {note}") for m, note in notes], columns=fitted.columns)
        write_csv(pd.concat([added, fitted], ignore_index=True), messages, float_format=None)

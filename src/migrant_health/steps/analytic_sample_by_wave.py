"""Rule analytic_sample_by_wave: a pooled study's sample steps applied to one wave alone (models.by_wave)."""

from ..errors import InputError
from .analytic_sample import analytic_sample


def analytic_sample_by_wave(
    study: str, wave: str, dataset: str, spec: dict, interim: str, analytic: str, flow: str
) -> None:
    """The analytic sample and flow of wave `wave` (dataset `dataset`, its canonical file `interim`),
    drawn as a study on that one dataset would draw them: the same filters, each exclusion counted,
    quantile groups formed within the wave's sample."""
    try:
        analytic_sample(study, spec, [dataset], [interim], analytic, flow)
    except InputError as e:
        raise InputError(f"{e} (wave {wave} alone: datasets.{dataset}; models.by_wave)") from None

"""Rule multiverse_chunk: one chunk of a study's multiverse (consecutive variants), fitted in this
process from the canonical data read once."""

from ..estimation import whole_file_design
from ..io.files import EXACT_FLOAT, write_csv
from ..multiverse import chunk_variants
from ..multiverse_fit import fit_variants, read_data


def multiverse_chunk(
    study: str, spec: dict, datasets: list, interim: list, chunk: int, rows: str, survey: dict | None = None
) -> None:
    """`spec`: the study's sample, quantile groups, models and multiverse; `interim`: its datasets'
    canonical files (waves pooled as analytic_sample pools them; with vce survey among the variants,
    the whole file's design is read from them). Rows at full precision (the gather rounds them once)."""
    where = f"config.yaml: studies.{study}"
    data = read_data(interim, datasets, where)
    design = whole_file_design(survey, interim, f"{where}.survey")
    frame = fit_variants(data, spec, study, chunk_variants(spec["multiverse"], chunk), survey, design)
    write_csv(frame, rows, float_format=EXACT_FLOAT)

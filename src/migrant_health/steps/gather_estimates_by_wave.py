"""Rule gather_estimates_by_wave: a pooled study's per-wave fits (models.by_wave), wave by wave in the
order of `dataset:`, each wave's units in config order, as estimates_by_wave.csv, model_flow_by_wave.csv
and model_messages_by_wave.txt."""

import pandas as pd

from ..estimation import gather
from ..io.files import write_csv, write_lines
from .gather_estimates import read_units


def gather_estimates_by_wave(
    models: dict,
    waves: list,
    unit_estimates: list,
    unit_flows: list,
    unit_messages: list,
    estimates: str,
    flow: str,
    messages: str,
) -> None:
    """`unit_*`: every unit's files of the first wave, then of the next (as many per wave). The tidy
    rows of each wave as gather_estimates writes a study's (rounded once), with a `wave` column after
    `study`; flow rows with `wave` first; each message prefixed with its wave."""
    per_wave = len(unit_estimates) // len(waves)
    tidy, flows, lines = [], [], []
    for k, wave in enumerate(waves):
        files = slice(k * per_wave, (k + 1) * per_wave)
        units = read_units(unit_estimates[files], unit_flows[files], unit_messages[files])
        result = gather(units, models)
        tidy.append(result.estimates.assign(wave=str(wave)))
        flows.append(result.flow.assign(wave=str(wave)))
        lines += [f"wave {wave}: {message}" for message in result.messages["message"]]
    columns = list(tidy[0].columns.drop("wave"))
    columns.insert(columns.index("study") + 1, "wave")
    write_csv(pd.concat(tidy, ignore_index=True)[columns], estimates)
    gathered_flow = pd.concat(flows, ignore_index=True)
    write_csv(gathered_flow[["wave", *gathered_flow.columns.drop("wave")]], flow, float_format=None)
    write_lines(lines, messages)

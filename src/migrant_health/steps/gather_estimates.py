"""Rule gather_estimates: a study's fitted units in config order, as estimates.csv,
model_flow.csv and model_messages.txt; a bootstrapped unit's intervals (rows of estimand
`<estimand> bootstrap percentile|bca`, model_bootstrap.py) follow its own rows."""

import pandas as pd

from ..estimation import FLOW_COLUMNS, UnitResult, gather
from ..io.files import read_tidy, write_csv, write_lines


def gather_estimates(
    models: dict,
    unit_estimates: list,
    unit_flows: list,
    unit_messages: list,
    estimates: str,
    flow: str,
    messages: str,
    bootstrap_estimates: list = (),
    bootstrap_messages: list = (),
) -> None:
    units = read_units(unit_estimates, unit_flows, unit_messages)
    units += [
        UnitResult(read_tidy(e), pd.DataFrame(columns=FLOW_COLUMNS), pd.read_csv(m, keep_default_na=False))
        for e, m in zip(bootstrap_estimates, bootstrap_messages)
    ]
    result = gather(units, models)
    write_csv(result.estimates, estimates)
    write_csv(result.flow, flow, float_format=None)
    write_lines(result.messages["message"], messages)


def read_units(unit_estimates: list, unit_flows: list, unit_messages: list) -> list[UnitResult]:
    """Fitted units' files (fit_models writes them), as UnitResults in the order given."""
    return [
        UnitResult(read_tidy(e), pd.read_csv(f, keep_default_na=False), pd.read_csv(m, keep_default_na=False))
        for e, f, m in zip(unit_estimates, unit_flows, unit_messages)
    ]

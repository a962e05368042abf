"""The concentration stage's printed tables, from its tidy rows (concentration.py)."""

import pandas as pd

from ..model_spec import VCE_TYPES


def variance_sentence(spec: dict) -> str:
    """How the index's standard errors were computed, from the spec itself (so that a note
    cannot disagree with the computation)."""
    clusters = f" by {spec['cluster']}" if spec["vce"] == "cluster" else ""
    weights = f"; weighted by {spec['weights']}" if spec.get("weights") else ""
    return (
        f"Ranked by {spec['rank']}; standard errors from the convenient regression, "
        f"{VCE_TYPES[spec['vce']]}{clusters}{weights}."
    )


def index_table(tidy: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Rows: outcomes; columns: each index with its SE and 95% CI."""
    lines = []
    for outcome, info in spec["outcomes"].items():
        line = {"Outcome": info["label"]}
        for index, header in (
            ("concentration_index", "Standard CI"),
            ("wagstaff", "Wagstaff"),
            ("erreygers", "Erreygers"),
        ):
            r = tidy[(tidy["equation"] == outcome) & (tidy["sample"] == "total") & (tidy["estimand"] == index)].iloc[0]
            line[header] = f"{r['estimate']:.3f}"
            line[f"{header} SE"] = f"{r['std_error']:.3f}"
            line[f"{header} 95% CI"] = f"{r['conf_low']:.3f} to {r['conf_high']:.3f}"
        line["n"] = str(int(r["n_obs"]))
        lines.append(line)
    return pd.DataFrame(lines)


def decomposition_table(dec: pd.DataFrame, spec: dict, labels: dict) -> pd.DataFrame:
    """Rows: determinants (labelled), residual and total; per outcome, the contribution and
    its percentage of the index."""
    order = list(dict.fromkeys(dec["determinant"]))
    lines = []
    for determinant in order:
        first = dec[dec["determinant"] == determinant].iloc[0]
        info = labels.get(first["term"], {})
        if first["level"] and first["level"] != "True":
            name = f"{info.get('label', first['term'])}: {info.get('levels', {}).get(first['level'], first['level'])}"
        else:
            name = {"residual": "Residual", "total": "Total (concentration index)"}.get(
                determinant, info.get("label", first["term"])
            )
        line = {"Determinant": name}
        for outcome, out_info in spec["outcomes"].items():
            r = dec[(dec["outcome"] == outcome) & (dec["determinant"] == determinant)]
            line[f"{out_info['label']}: contribution"] = f"{r['contribution'].iloc[0]:.4f}" if len(r) else ""
            line[f"{out_info['label']}: %"] = f"{r['percent'].iloc[0]:.1f}" if len(r) else ""
        lines.append(line)
    return pd.DataFrame(lines)

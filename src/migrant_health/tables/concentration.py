"""The concentration stage's printed tables, from its tidy rows (concentration.py)."""

import pandas as pd

from ..model_spec import VCE_TYPES
from .render import Display

INDICES = (("concentration_index", "Standard CI"), ("wagstaff", "Wagstaff"), ("erreygers", "Erreygers"))


def variance_sentence(spec: dict) -> str:
    """How the index's standard errors were computed, from the spec itself (so that a note
    cannot disagree with the computation)."""
    clusters = f" by {spec['cluster']}" if spec["vce"] == "cluster" else ""
    weights = f"; weighted by {spec['weights']}" if spec.get("weights") else ""
    return (
        f"Ranked by {spec['rank']}; standard errors from the convenient regression, "
        f"{VCE_TYPES[spec['vce']]}{clusters}{weights}."
    )


def bootstrap_sentences(tidy: pd.DataFrame, spec: dict) -> list[str]:
    """The BCa column's note: replications, what was resampled, how many failed."""
    settings = spec.get("bootstrap")
    if not settings:
        return []
    counts = tidy[(tidy["term"] == "_model") & (tidy["sample"] == "total")].set_index("estimand")["estimate"]
    failed = int(counts.get("bootstrap_failed", 0))
    unit = {None: "respondents", "survey": "the survey's PSUs within strata"}.get(settings.get("cluster"))
    unit = unit or f"clusters of {settings['cluster']}"
    return [
        f"BCa 95% CI: bias-corrected and accelerated bootstrap interval (Efron and Tibshirani 1993), "
        f"{settings['reps']:,} replications resampling {unit}, the ranks recomputed in each"
        + (f"; {failed:,} replications failed and were excluded." if failed else ".")
    ]


def index_table(tidy: pd.DataFrame, spec: dict) -> Display:
    """Rows: outcomes; columns: each index with its SE and 95% CI (under the index's name), and n;
    with concentration.bootstrap, a row under each outcome with the BCa intervals in the CI columns."""
    lines = []
    boot = bool(spec.get("bootstrap")) and tidy["estimand"].astype(str).str.endswith(" bootstrap bca").any()
    for outcome, info in spec["outcomes"].items():
        line = {"Outcome": info["label"]}
        below = {"Outcome": "  Bootstrap BCa 95% CI"}
        for index, header in INDICES:
            here = (tidy["equation"] == outcome) & (tidy["sample"] == "total")
            r = tidy[here & (tidy["estimand"] == index)].iloc[0]
            line[header] = f"{r['estimate']:.3f}"
            line[f"{header} SE"] = f"{r['std_error']:.3f}"
            line[f"{header} 95% CI"] = f"{r['conf_low']:.3f} to {r['conf_high']:.3f}"
            b = tidy[here & (tidy["estimand"] == f"{index} bootstrap bca")]
            ok = len(b) and pd.notna(b["conf_low"].iloc[0])
            below.update({header: "", f"{header} SE": ""})
            below[f"{header} 95% CI"] = f"{b['conf_low'].iloc[0]:.3f} to {b['conf_high'].iloc[0]:.3f}" if ok else ""
        line["n"] = f"{int(r['n_obs']):,}"
        below["n"] = ""
        lines += [line, below] if boot else [line]
    spans = [("", 1)] + [(header, 3) for _, header in INDICES] + [("", 1)]
    headers = ["Outcome"] + ["Index", "SE", "95% CI"] * len(INDICES) + ["n"]
    return Display(pd.DataFrame(lines), spans, headers)


def decomposition_table(dec: pd.DataFrame, spec: dict, labels: dict) -> Display:
    """Rows: determinants (labelled), residual and total (below a rule); per outcome (a spanning
    header), the contribution and its percentage of the index."""
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
    spans = [("", 1)] + [(info["label"], 2) for info in spec["outcomes"].values()]
    headers = ["Determinant"] + ["Contribution", "%"] * len(spec["outcomes"])
    return Display(pd.DataFrame(lines), spans, headers, statistics=1 if "total" in order else 0)

"""results/data/<dataset>_synthetic_page.md: what a generator produced against the published numbers.

Written by the workflow (rule document_synthetic) from the truth file, the generator's notes
and the published files the generator is calibrated to. Every published effect with a
synthetic truth is set beside it: the benefit study's Tables 3-4 with the gap in published
SEs, and the listed estimates (odds ratios, concentration indices) of the other studies.
"""

from __future__ import annotations

import pandas as pd

BENEFIT_EQUATIONS = ("participation", "amount", "ratio")  # Tables 3-4's columns, the study's equations


def page(survey: str, truth: pd.DataFrame, notes: list, published: dict) -> str:
    """The page of one synthetic survey; `truth` with levels as text, `published` by study."""
    lines = [
        f"# The synthetic {survey} survey against the published numbers",
        "",
        "Written by the workflow (rule `document_synthetic`) from the truth file, the generator's notes",
        "and data/published/. The numbers in results/ are estimates on this synthetic survey; the truth",
        "is what those estimates converge to.",
        "",
        "## Generator notes",
        "",
    ]
    lines += [f"- {n}" for n in notes]
    if "benefit" in published:
        lines += benefit_gaps(truth, published["benefit"])
    for study, doc in published.items():
        lines += listed_estimates(study, truth, doc)
    return "\n".join(lines) + "\n"


def benefit_gaps(truth: pd.DataFrame, doc: dict) -> list[str]:
    """Every published Table 3-4 number beside the synthetic truth, the gap in published SEs."""
    lines = [
        "",
        "## Benefit study (seed 001): Tables 3 and 4",
        "",
        "Truth of a subsample model: the DGP's own effect. Truth of a pooled (total) model: its",
        "probability limit on the generated covariates (the pooled models are misspecified by",
        "design, since Table 4's subsample effects are kept). Gap in published SEs (0.0005 for a",
        "printed 0.000); |gap| > 1 is marked.",
        "",
        "| model | sample | term | level | published (SE) | truth | gap (SE) |",
        "|---|---|---|---|---|---|---|",
    ]
    for table in ("table3", "table4"):
        for r in doc[table]["rows"]:
            for model in BENEFIT_EQUATIONS:
                estimate, se, _ = r[model]
                sample = r.get("sample", "total")
                hit = truth[
                    (truth["model"] == model)
                    & (truth["sample"] == sample)
                    & (truth["term"] == r["term"])
                    & (truth["level"] == str(r.get("level", "")))
                ]
                value = float(hit["truth"].iloc[0])
                gap = (value - estimate) / max(se, 0.0005)
                mark = " **" if abs(gap) > 1 else ""
                lines.append(
                    f"| {model} | {sample} | {r['term']} | {r.get('level', '')} | {estimate:.3f} ({se:.3f}) "
                    f"| {value:.4f} | {gap:+.2f}{mark} |"
                )
    return lines


def listed_estimates(study: str, truth: pd.DataFrame, doc: dict) -> list[str]:
    """The study's listed estimates (data/published/<study>.yaml: estimates) that have a truth."""
    keys = ["model", "sample", "equation", "term", "level", "estimand"]
    indexed = truth.set_index(keys)["truth"]
    rows = []
    for e in doc.get("estimates", []):
        key = tuple(str(e.get(k, "")) for k in keys)
        if key not in indexed.index:
            continue
        interval = f"{e['conf_low']:.3f}-{e['conf_high']:.3f}" if "conf_low" in e else ""
        rows.append(
            f"| {e['model']} | {e['equation']} | {e['term']} | {e.get('level', '')} | {e['estimand']} "
            f"| {e['estimate']:.3f} | {interval} | {float(indexed.loc[key]):.4f} |"
        )
    if not rows:
        return []
    return [
        "",
        f"## {study}: listed estimates",
        "",
        "| model | equation | term | level | estimand | published | 95% CI | truth |",
        "|---|---|---|---|---|---|---|---|",
    ] + rows

"""Tables of marginal effects (or odds ratios) from tidy estimates, as the papers print them:
a label column, then estimate and SE (or 95% CI and p) per model, stars from the p-value."""

import pandas as pd

from .descriptive import check_terms, format_p

EFFECT_ESTIMANDS = ("ame", "log_effect", "ame_linear", "odds_ratio")
NOT_ESTIMABLE = "not estimable†"
NOT_ESTIMABLE_NOTE = (
    "† Not estimable: the outcome does not vary within this level in this sample (perfect "
    "separation), so the data cannot identify its effect."
)
# A mixed model's group variance, ICC and LR test against the single-level model, printed below its effects.
MODEL_STATISTICS = ("variance", "icc", "lr_test")


def stars(p: float) -> str:
    """** p < 0.01, * p < 0.05 (the seed papers' notes)."""
    return "**" if p < 0.01 else "*" if p < 0.05 else ""


def _effects(estimates: pd.DataFrame, spec: dict) -> pd.DataFrame:
    wanted = ([spec["estimand"]] if spec.get("estimand") else list(EFFECT_ESTIMANDS)) + list(MODEL_STATISTICS)
    rows = estimates[
        estimates["model"].isin(list(spec["models"]))
        & estimates["estimand"].isin(wanted)
        & estimates["sample"].isin(spec["samples"])
    ]
    if spec.get("terms"):
        check_terms(spec["terms"], rows["term"].unique(), "effect table terms")
        rows = rows[rows["term"].isin(spec["terms"])]
    return rows


def _statistic_cells(row: pd.Series, digits: int, extra: list) -> tuple:
    """A model statistic in the table's columns: the variance with its CI (or SE), the LR
    test's statistic with its p."""
    cells = {}
    if pd.notna(row["conf_low"]):
        cells["95% CI"] = f"{row['conf_low']:.{digits}f}–{row['conf_high']:.{digits}f}"
    if pd.notna(row["std_error"]):
        cells["SE"] = f"{row['std_error']:.{digits}f}"
    if pd.notna(row["p_value"]):
        cells["p"] = format_p(row["p_value"])
    estimate = f"{row['estimate']:.{digits}f}" if pd.notna(row["estimate"]) else ""  # e.g. no LR test
    return (estimate,) + tuple(cells.get(name, "") for name in extra)


def _cells(row: pd.Series, digits: int, extra: list) -> tuple:
    """Estimate with stars and SE; for odds ratios, OR with stars, 95% CI and p."""
    if row["estimand"] in MODEL_STATISTICS:
        return _statistic_cells(row, digits, extra)
    if not row["estimable"]:
        return (NOT_ESTIMABLE,)
    estimate = f"{row['estimate']:.{digits}f}{stars(row['p_value'])}"
    if row["estimand"] == "odds_ratio":
        return (estimate, f"{row['conf_low']:.{digits}f}–{row['conf_high']:.{digits}f}", format_p(row["p_value"]))
    return estimate, f"{row['std_error']:.{digits}f}"


def _level_label(term: str, level: str, reference: str, usual: dict, info: dict) -> str:
    """The printed level; '(vs base)' when a subsample's base differs from the table's usual one."""
    name = info.get("levels", {}).get(level, level)
    return f"  {name} (vs {reference})" if reference != usual.get(term, reference) else f"  {name}"


def table_notes(estimates: pd.DataFrame, spec: dict) -> list[str]:
    """Footnotes the numbers call for (a term printed as not estimable)."""
    rows = _effects(estimates, spec)
    return [NOT_ESTIMABLE_NOTE] if (~rows["estimable"].astype(bool)).any() else []


def effect_table(estimates: pd.DataFrame, spec: dict, labels: dict) -> pd.DataFrame:
    """Rows: terms (grouped under their label) per sample block; columns: models x (estimate, SE).
    With a single model and several samples, the samples are the columns instead."""
    rows = _effects(estimates, spec)
    by_sample_columns = len(spec["models"]) == 1 and len(spec["samples"]) > 1
    sample_labels = spec.get("sample_labels", {})
    columns = (
        [(s, next(iter(spec["models"])), sample_labels.get(s, s)) for s in spec["samples"]]
        if by_sample_columns
        else [(None, m, header) for m, header in spec["models"].items()]
    )
    digits = spec.get("digits", 3)
    references = rows.assign(reference=rows["reference"].fillna("").astype(str))
    usual = references.groupby("term")["reference"].agg(lambda r: r.mode().iloc[0]).to_dict()
    blocks = [None] if by_sample_columns else spec["samples"]
    extra = ["95% CI", "p"] if rows["estimand"].eq("odds_ratio").any() else ["SE"]
    lines = []
    for block in blocks:
        if block is not None and len(blocks) > 1:
            lines.append({"Variables": sample_labels.get(block, block)})
        sub = references if block is None else references[references["sample"] == block]
        keys = list(dict.fromkeys(zip(sub["term"], sub["level"].fillna("").astype(str), sub["reference"])))
        term_order = {t: i for i, t in enumerate(dict.fromkeys(sub["term"]))}
        keys.sort(key=lambda k: term_order[k[0]])  # a subsample's own base level stays with its term
        previous_term = None
        for term, level, reference in keys:
            info = labels.get(term, {})
            binary = level == "True" and reference == "False"
            if level and not binary and term != previous_term:
                lines.append({"Variables": info.get("label", term)})
            previous_term = term
            name = (
                _level_label(term, level, reference, usual, info) if level and not binary else info.get("label", term)
            )
            line = {"Variables": name}
            for sample, model, header in columns:
                match = sub[
                    (sub["term"] == term)
                    & (sub["level"].fillna("").astype(str) == level)
                    & (sub["reference"] == reference)
                    & (sub["model"] == model)
                    & ((sub["sample"] == sample) if sample else True)
                ]
                cells = _cells(match.iloc[0], digits, extra) if len(match) else ("",)
                cells = cells + ("",) * (1 + len(extra) - len(cells))
                line[header] = cells[0]
                line.update({f"{header} {name}": cell for name, cell in zip(extra, cells[1:])})
            lines.append(line)
    n_line = {"Variables": "Observations"}
    for sample, model, header in columns:
        match = rows[(rows["model"] == model) & ((rows["sample"] == sample) if sample else True)]
        n_line[header] = " / ".join(str(int(n)) for n in dict.fromkeys(match["n_obs"]))
        n_line.update({f"{header} {name}": "" for name in extra})
    lines.append(n_line)
    return pd.DataFrame(lines).fillna("")

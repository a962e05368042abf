"""Tables of marginal effects (or odds ratios) from tidy estimates, as the papers print them:
a label column, then estimate and SE (or 95% CI and p) per model, stars from the p-value."""

import pandas as pd

from ..fit_statistics import MODEL_TERM, STATISTICS
from .descriptive import check_terms, format_p
from .render import Display

EFFECT_ESTIMANDS = ("ame", "log_effect", "ame_linear", "odds_ratio")
NOT_ESTIMABLE = "not estimable†"
NOT_ESTIMABLE_NOTE = (
    "† Not estimable: the outcome does not vary within this level in this sample (perfect "
    "separation), so the data cannot identify its effect."
)
# A mixed model's group variance, ICC and LR test against the single-level model, printed below its effects.
MODEL_STATISTICS = ("variance", "icc", "lr_test")
# How the models' fit statistics (fit_statistics.STATISTICS) are labelled at the foot of a table.
STATISTIC_LABELS = {
    "n_obs": "Observations",
    "log_likelihood": "Log likelihood",
    "pseudo_r2": "Pseudo R²",
    "r2": "R²",
    "aic": "AIC",
    "bic": "BIC",
    "n_clusters": "Clusters",
    "n_groups": "Groups",
    "dispersion": "Dispersion (Pearson χ²/df)",
}


# An effect table's `bootstrap:` (percentile or bca) adds the interval a bootstrapped unit's rows
# carry (estimand "<estimand> bootstrap <method>", model_bootstrap.py) in a column of its own.
BOOTSTRAP_HEADER = "Bootstrap 95% CI"
BOOTSTRAP_METHODS = {
    "percentile": "percentile",
    "bca": "bias-corrected and accelerated (BCa; Efron and Tibshirani 1993, acceleration from the jackknife)",
}


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
    """Footnotes the numbers call for (a term printed as not estimable; the bootstrap's method,
    replications and failures)."""
    rows = _effects(estimates, spec)
    notes = [NOT_ESTIMABLE_NOTE] if (~rows["estimable"].astype(bool)).any() else []
    if spec.get("bootstrap"):
        notes.append(bootstrap_note(estimates, spec))
    return notes


def _bootstrap_counts(estimates: pd.DataFrame, spec: dict) -> pd.DataFrame:
    rows = estimates[
        (estimates["term"] == MODEL_TERM)
        & estimates["model"].isin(list(spec["models"]))
        & estimates["sample"].isin(spec["samples"])
        & estimates["estimand"].isin(["bootstrap_reps", "bootstrap_failed"])
    ]
    return rows.pivot_table(index=["model", "sample"], columns="estimand", values="estimate", sort=False)


def bootstrap_note(estimates: pd.DataFrame, spec: dict) -> str:
    """The bootstrap column's note: its method, its replications and how many failed, by sample."""
    counts = _bootstrap_counts(estimates, spec)
    method = BOOTSTRAP_METHODS[spec["bootstrap"]]
    if counts.empty:
        return f"{BOOTSTRAP_HEADER}: no bootstrap was run for these models (declare `bootstrap:` on them)."
    reps = sorted({int(r) for r in counts["bootstrap_reps"]})
    labels = spec.get("sample_labels", {})
    failed = [
        f"{labels.get(sample, sample)} {int(n):,}" for (_, sample), n in counts["bootstrap_failed"].items() if n > 0
    ]
    failures = (
        f"; replications that failed (a level not drawn, separation), excluded: {', '.join(failed)}"
        if failed
        else "; no replication failed"
    )
    return (
        f"{BOOTSTRAP_HEADER}: {method}, {' / '.join(f'{r:,}' for r in reps)} nonparametric bootstrap "
        f"replications, both parts refitted in each{failures}."
        if any(m == "two_part" for m in spec["models"])
        else f"{BOOTSTRAP_HEADER}: {method}, {' / '.join(f'{r:,}' for r in reps)} nonparametric bootstrap "
        f"replications{failures}."
    )


def _bootstrap_intervals(estimates: pd.DataFrame, spec: dict) -> dict:
    """(model, sample, term, level, reference, estimand) -> (low, high) of the table's bootstrap method."""
    suffix = f" bootstrap {spec['bootstrap']}"
    rows = estimates[estimates["estimand"].astype(str).str.endswith(suffix)]
    return {
        (r.model, r.sample, r.term, _text(r.level), _text(r.reference), r.estimand[: -len(suffix)]): (
            r.conf_low,
            r.conf_high,
        )
        for r in rows.itertuples(index=False)
    }


def effect_table(estimates: pd.DataFrame, spec: dict, labels: dict) -> pd.DataFrame:
    """The table's cells (see effect_display)."""
    return effect_display(estimates, spec, labels).frame


def effect_display(estimates: pd.DataFrame, spec: dict, labels: dict) -> Display:
    """Rows: terms (grouped under their label) per sample block, then the models' statistics
    (N, log likelihood, pseudo-R2, AIC, BIC, ...: as esttab prints them); columns: models x
    (estimate, SE) or, for odds ratios, (OR, 95% CI, p), under a spanning header per model. With
    a single model and several samples, the samples are the columns instead. `layout: stacked`
    (esttab's): one column per model, the SE in parentheses (a CI in brackets) under the estimate."""
    rows = _effects(estimates, spec)
    stacked = spec.get("layout", "side") == "stacked"
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
    odds = rows["estimand"].eq("odds_ratio").any()
    extra = [] if stacked else ["95% CI", "p"] if odds else ["SE"]
    intervals = _bootstrap_intervals(estimates, spec) if spec.get("bootstrap") and not stacked else None
    if intervals is not None:
        extra = extra + [BOOTSTRAP_HEADER]
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
            line, below = {"Variables": name}, {"Variables": ""}
            for sample, model, header in columns:
                match = sub[
                    (sub["term"] == term)
                    & (sub["level"].fillna("").astype(str) == level)
                    & (sub["reference"] == reference)
                    & (sub["model"] == model)
                    & ((sub["sample"] == sample) if sample else True)
                ]
                if stacked:
                    line[header], below[header] = _stacked_cells(match.iloc[0], digits) if len(match) else ("", "")
                    continue
                cells = _cells(match.iloc[0], digits, extra) if len(match) else ("",)
                if intervals is not None:
                    cells = cells[: len(extra)] + ("",) * (len(extra) - len(cells))
                    cells = cells + (_interval_cell(match, intervals, digits),)
                cells = cells + ("",) * (1 + len(extra) - len(cells))
                line[header] = cells[0]
                line.update({f"{header} {name}": cell for name, cell in zip(extra, cells[1:])})
            lines.append(line)
            if stacked and any(below[h] for _, _, h in columns):
                lines.append(below)
    statistics = _statistic_lines(estimates, rows, spec, columns, blocks, sample_labels, extra)
    frame = pd.DataFrame(lines + statistics).fillna("")
    if stacked:
        return Display(frame, statistics=len(statistics))
    estimate_header = "OR" if odds else "Estimate"
    spans = [("", 1)] + [(header, 1 + len(extra)) for _, _, header in columns]
    headers = ["Variables"] + [h for _ in columns for h in [estimate_header, *extra]]
    return Display(frame, spans, headers, len(statistics))


def _text(value) -> str:
    """A level or reference as text ('' for none, however the file spelled it)."""
    return "" if pd.isna(value) or str(value) == "nan" else str(value)


def _interval_cell(match: pd.DataFrame, intervals: dict, digits: int) -> str:
    if not len(match):
        return ""
    r = match.iloc[0]
    level = "" if pd.isna(r["level"]) else str(r["level"])
    low, high = intervals.get(
        (r["model"], r["sample"], r["term"], level, str(r["reference"]), r["estimand"]), (None, None)
    )
    if low is None or pd.isna(low) or not r["estimable"]:
        return ""
    return f"{low:.{digits}f}–{high:.{digits}f}"


def _stacked_cells(row: pd.Series, digits: int) -> tuple[str, str]:
    """esttab's layout: the estimate with its stars, and below it the SE in parentheses (an odds
    ratio's 95% CI in brackets; a model statistic's p-value in brackets)."""
    if row["estimand"] in MODEL_STATISTICS:
        estimate = f"{row['estimate']:.{digits}f}" if pd.notna(row["estimate"]) else ""
        if pd.notna(row.get("conf_low")) and row["estimand"] == "variance":
            return estimate, f"[{row['conf_low']:.{digits}f}, {row['conf_high']:.{digits}f}]"
        if pd.notna(row.get("p_value")):
            return estimate, f"[p {format_p(row['p_value'])}]"
        return estimate, ""
    if not row["estimable"]:
        return NOT_ESTIMABLE, ""
    estimate = f"{row['estimate']:.{digits}f}{stars(row['p_value'])}"
    if row["estimand"] == "odds_ratio":
        return estimate, f"[{row['conf_low']:.{digits}f}, {row['conf_high']:.{digits}f}]"
    return estimate, f"({row['std_error']:.{digits}f})"


def _statistic_lines(estimates, rows, spec, columns, blocks, sample_labels, extra) -> list[dict]:
    """The models' statistics under the effects, as esttab prints them (N, ll, pseudo-R2, AIC,
    BIC; clusters, groups, dispersion where the models have them), from estimates.csv's `_model`
    rows; one line per statistic (and per sample block when samples are row blocks). Without
    such rows, the observations of the effects' own rows."""
    fitted = estimates[
        (estimates["term"] == MODEL_TERM)
        & estimates["model"].isin(list(spec["models"]))
        & estimates["sample"].isin(spec["samples"])
    ]
    lines = []
    if fitted.empty:
        line = {"Variables": "Observations"}
        for sample, model, header in columns:
            match = rows[(rows["model"] == model) & ((rows["sample"] == sample) if sample else True)]
            line[header] = " / ".join(f"{int(n):,}" for n in dict.fromkeys(match["n_obs"]))
            line.update({f"{header} {name}": "" for name in extra})
        return [line]
    for statistic in STATISTICS:
        for block in blocks:
            line = {"Variables": STATISTIC_LABELS[statistic]}
            if block is not None and len(blocks) > 1:
                line["Variables"] += f", {sample_labels.get(block, block)}"
            for sample, model, header in columns:
                match = fitted[
                    (fitted["model"] == model)
                    & (fitted["estimand"] == statistic)
                    & (fitted["sample"] == (sample if sample else block))
                ]
                line[header] = _statistic(statistic, match["estimate"].iloc[0]) if len(match) else ""
                line.update({f"{header} {name}": "" for name in extra})
            if any(line[h] for _, _, h in columns):
                lines.append(line)
    return lines


def _statistic(name: str, value: float) -> str:
    if name in ("n_obs", "n_clusters", "n_groups"):
        return f"{int(value):,}"
    if name in ("log_likelihood", "aic", "bic"):
        return f"{value:,.2f}"
    return f"{value:.3f}"

"""Bar charts of shares, shares by group with 95% CIs, sample flowcharts, forest plots,
concentration curves and decomposition charts.

Sized for a journal column (8.5 cm wide at 300 dpi; a forest plot 15 cm, its height from its
rows); metadata without dates so that reruns give identical files. An image holds no title:
the title and notes are its caption (stem.json, written by `write_caption`), which the report
and the study's figures.docx print under it. An image made from synthetic data says so in a
line at its foot, so that it cannot be taken for the survey's even when it travels alone.
"""

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from ..errors import InputError  # noqa: E402
from ..evaluation import indicator  # noqa: E402
from ..outputs import SYNTHETIC_NOTE, output_notes  # noqa: E402
from ..sample import evaluate  # noqa: E402
from ..tables.descriptive import check_levels, check_terms, check_variable  # noqa: E402

WIDTH_IN = 3.35  # one journal column


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (better than Wald near 0 or 1, small n)."""
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def shares(df: pd.DataFrame, spec: dict, where: str = "figure") -> pd.DataFrame:
    """Percent of each level of `variable` among the rows `keep` selects."""
    check_variable(df, spec["variable"], f"{where}.variable")
    check_levels(df, spec["variable"], spec["levels"], f"{where}.levels")
    rows = df[evaluate(df, spec["keep"], f"{where}.keep")[0]] if spec.get("keep") else df
    x = rows[spec["variable"]].astype(object)
    n = int(x.notna().sum())
    return pd.DataFrame(
        [
            {
                "level": lvl,
                "label": label,
                "count": int((x == lvl).sum()),
                "n": n,
                "percent": 100 * (x == lvl).sum() / n,
            }
            for lvl, label in spec["levels"].items()
        ]
    )


def share_by_group(df: pd.DataFrame, spec: dict, where: str = "figure") -> pd.DataFrame:
    """Percent meeting `indicator` in each level of `by` (a missing indicator counts as no:
    e.g. the reimbursed have no reason for not being reimbursed), with Wilson 95% CIs."""
    check_variable(df, spec["by"], f"{where}.by")
    check_levels(df, spec["by"], spec["levels"], f"{where}.levels")
    meets = indicator(df, spec["indicator"], f"{where}.indicator")
    out = []
    for lvl, label in spec["levels"].items():
        at = (df[spec["by"]].astype(object) == lvl).to_numpy()
        k, n = int(meets[at].sum()), int(at.sum())
        low, high = wilson(k, n)
        out.append(
            {
                "level": lvl,
                "label": label,
                "count": k,
                "n": n,
                "percent": 100 * k / n,
                "conf_low": 100 * low,
                "conf_high": 100 * high,
            }
        )
    return pd.DataFrame(out)


def _save(fig, stem) -> list[Path]:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    fig.savefig(png, dpi=300, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(
        pdf, bbox_inches="tight", metadata={"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
    )
    plt.close(fig)
    return [png, pdf]


def _wrap(text: str, width: int = 22) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _mark_synthetic(fig, synthetic: bool) -> None:
    """A line at the figure's foot (inside the saved image) when the data are synthetic."""
    if synthetic:
        fig.text(0.0, -0.02, SYNTHETIC_NOTE, fontsize=5.5, ha="left", va="top", color="0.25")


def write_caption(stem, title: str, notes, synthetic: bool, provenance=()) -> Path:
    """stem.json: the figure's caption (its title and notes, outputs.output_notes)."""
    import json

    path = Path(stem).with_suffix(".json")
    caption = {"title": title, "notes": output_notes(notes, synthetic, provenance)}
    path.write_text(json.dumps(caption, ensure_ascii=False, indent=1) + "\n")
    return path


def bar_chart(data: pd.DataFrame, stem, synthetic: bool, with_ci: bool = False) -> list[Path]:
    """Horizontal bars (long category labels stay readable at column width), value labels,
    and 95% CIs when given."""
    plt.rcParams.update({"font.size": 7, "font.family": "DejaVu Sans"})
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.45 * len(data) + 0.9))
    y = np.arange(len(data))[::-1]
    err = None
    if with_ci:
        err = np.vstack([data["percent"] - data["conf_low"], data["conf_high"] - data["percent"]])
    ax.barh(
        y,
        data["percent"],
        color="0.6",
        edgecolor="black",
        linewidth=0.5,
        xerr=err,
        capsize=2.5,
        error_kw={"linewidth": 0.7},
        height=0.6,
    )
    right = data["conf_high"] if with_ci else data["percent"]
    for yi, p, r in zip(y, data["percent"], right):
        ax.text(r + 1, yi, f"{p:.1f}", va="center", fontsize=6.5)
    ax.set_yticks(y, [_wrap(label, 24) for label in data["label"]])
    ax.set_xlabel("%")
    ax.set_xlim(0, float(right.max()) * 1.18)
    ax.spines[["top", "right"]].set_visible(False)
    _mark_synthetic(fig, synthetic)
    return _save(fig, stem)


def flowchart_steps(flow: pd.DataFrame) -> tuple[list[dict], list[str]]:
    """The boxes a flowchart draws (each step that excluded someone) and the reasons of the
    steps that excluded no one (for the caption)."""
    steps = flow.to_dict("records")
    shown = [steps[0]] + [s for s in steps[1:] if s["n_dropped"] > 0]
    silent = [s["reason"] for s in steps[1:] if s["n_dropped"] == 0]
    return shown, silent


def flowchart_note(flow: pd.DataFrame) -> str:
    """The caption's line for the filters that excluded no one ('' if every filter did)."""
    _, silent = flowchart_steps(flow)
    return f"No one was excluded for: {'; '.join(silent)}." if silent else ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def flowchart(flow: pd.DataFrame, stem, synthetic: bool) -> list[Path]:
    """Boxes with n down the middle (the file, what remains after each exclusion, the analytic
    sample), and to the right each exclusion in plain words: its count and reason (and how many
    of them for a value not recorded). Filters that excluded no one are not drawn."""
    plt.rcParams.update({"font.size": 6.5, "font.family": "DejaVu Sans"})
    steps, _ = flowchart_steps(flow)
    height = 0.9 * len(steps) + 0.2
    fig, ax = plt.subplots(figsize=(WIDTH_IN * 1.6, height))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, len(steps))
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": "black", "linewidth": 0.6}
    for i, step in enumerate(steps):
        y = len(steps) - i - 0.5
        if i == 0:
            label = _sentence(str(step["reason"])) if step["step"] == "start" else "Respondents"
        else:
            label = "Analytic sample" if i == len(steps) - 1 else "Remaining"
        ax.text(3, y, f"{label}\nn = {step['n_after']:,}", ha="center", va="center", bbox=box)
        if i + 1 < len(steps):
            ax.annotate("", xy=(3, y - 0.72), xytext=(3, y - 0.28), arrowprops={"arrowstyle": "->", "linewidth": 0.6})
            nxt = steps[i + 1]
            missing = int(nxt.get("n_dropped_missing", 0) or 0)
            detail = f" ({missing:,} of them for a value not recorded)" if missing else ""
            ax.annotate("", xy=(5.6, y - 0.5), xytext=(3, y - 0.5), arrowprops={"arrowstyle": "->", "linewidth": 0.6})
            ax.text(
                5.7,
                y - 0.5,
                f"Excluded, n = {nxt['n_dropped']:,}\n" + _wrap(_sentence(str(nxt["reason"])) + detail, 44),
                ha="left",
                va="center",
                fontsize=5.8,
                bbox={**box, "boxstyle": "square,pad=0.3"},
            )
    _mark_synthetic(fig, synthetic)
    return _save(fig, stem)


def odds_ratio_rows(estimates: pd.DataFrame, spec: dict, labels: dict, where: str = "forest plot") -> pd.DataFrame:
    """The odds ratios a forest plot draws, in model order, with printed labels."""
    rows = estimates[
        (estimates["model"] == spec["model"])
        & (estimates["sample"] == spec.get("sample", "total"))
        & (estimates["estimand"] == "odds_ratio")
    ]
    if rows.empty:
        raise InputError(
            f"{where}: no odds ratios of model '{spec['model']}' in sample "
            f"'{spec.get('sample', 'total')}'; the model needs `report: [odds_ratio]`."
        )
    if spec.get("terms"):
        check_terms(spec["terms"], rows["term"].unique(), f"{where}.terms")
        rows = rows[rows["term"].isin(spec["terms"])]
    out = []
    for r in rows.itertuples():
        info = labels.get(r.term, {})
        level = "" if pd.isna(r.level) else str(r.level)
        binary = level == "True"
        name = info.get("label", r.term) if binary or not level else info.get("levels", {}).get(level, level)
        group = "" if binary or not level else info.get("label", r.term)
        out.append(
            {
                "term": r.term,
                "level": level,
                "group": group,
                "label": name,
                "odds_ratio": r.estimate,
                "conf_low": r.conf_low,
                "conf_high": r.conf_high,
                "p_value": r.p_value,
            }
        )
    return pd.DataFrame(out)


FOREST_WIDTH_IN, FOREST_ROW_IN = 5.9, 0.24  # 15 cm; a row's height


def forest(data: pd.DataFrame, stem, synthetic: bool) -> list[Path]:
    """Odds ratios with 95% CIs on a log axis, a line at 1, grouped under their term's label; the
    height from the rows (FOREST_ROW_IN each), the estimates and CIs printed on the right."""
    plt.rcParams.update({"font.size": 8, "font.family": "DejaVu Sans"})
    lines = []  # (label, row or None for a group heading)
    previous = None
    for r in data.itertuples():
        if r.group and r.group != previous:
            lines.append((r.group, None))
        previous = r.group
        lines.append((("  " if r.group else "") + r.label, r))
    height = FOREST_ROW_IN * len(lines) + 0.55  # the rows, and room for the axis below them
    fig, ax = plt.subplots(figsize=(FOREST_WIDTH_IN * 0.55, height))
    fig.subplots_adjust(bottom=0.45 / height, top=1 - 0.1 / height)
    y = np.arange(len(lines))[::-1]
    for yi, (_, r) in zip(y, lines):
        if r is None:
            continue
        if pd.isna(r.odds_ratio):  # not estimable (perfect separation): labelled, not drawn
            ax.text(1.03, yi, "not estimable", transform=ax.get_yaxis_transform(), va="center", fontsize=7.5)
            continue
        ax.plot([r.conf_low, r.conf_high], [yi, yi], color="black", linewidth=0.7)
        ax.plot(r.odds_ratio, yi, "s", color="black", markersize=3.5)
        ax.text(
            1.03,
            yi,
            f"{r.odds_ratio:.2f} ({r.conf_low:.2f}–{r.conf_high:.2f})",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=7.5,
        )
    ax.axvline(1, color="0.5", linewidth=0.6, linestyle="--")
    ax.set_xscale("log")
    low, high = float(data["conf_low"].min()), float(data["conf_high"].max())
    ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if low / 1.5 <= t <= high * 1.5]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(y, [_wrap(label, 44) for label, _ in lines])
    for tick, (_, r) in zip(ax.get_yticklabels(), lines):
        tick.set_fontweight("bold" if r is None else "normal")
    ax.set_ylim(-0.7, len(lines) - 0.3)
    ax.set_xlabel("Odds ratio (95% CI), log scale")
    ax.spines[["top", "right"]].set_visible(False)
    _mark_synthetic(fig, synthetic)
    return _save(fig, stem)


def concentration_curves(curves: pd.DataFrame, labels: dict, spec: dict, stem, synthetic: bool) -> list[Path]:
    """Each outcome's concentration curve against the line of equality (above it: pro-poor);
    `spec`: title and axis labels (config)."""
    plt.rcParams.update({"font.size": 7, "font.family": "DejaVu Sans"})
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN))
    ax.plot([0, 1], [0, 1], color="0.5", linewidth=0.7, linestyle="--", label="Line of equality")
    for (outcome, curve), style in zip(curves.groupby("outcome", sort=False), ["-", "-.", ":"]):
        ax.plot(
            curve["population_share"],
            curve["outcome_share"],
            color="black",
            linewidth=0.9,
            linestyle=style,
            label=labels.get(outcome, outcome),
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(spec["x_label"])
    ax.set_ylabel(spec.get("y_label", ""))
    ax.legend(frameon=False, fontsize=6, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    _mark_synthetic(fig, synthetic)
    return _save(fig, stem)


def decomposition_chart(
    dec: pd.DataFrame, term_labels: dict, outcome_labels: dict, spec: dict, stem, synthetic: bool
) -> list[Path]:
    """Percentage contributions to each outcome's index, summed over a term's levels; `spec`:
    title and axis label (config)."""
    plt.rcParams.update({"font.size": 6.5, "font.family": "DejaVu Sans"})
    shown = dec[dec["determinant"] != "total"]
    by_term = shown.groupby(["term", "outcome"], sort=False)["percent"].sum().unstack("outcome")
    by_term = by_term.reindex(columns=list(outcome_labels))
    fig, ax = plt.subplots(figsize=(WIDTH_IN * 1.5, 0.2 * len(by_term) * len(outcome_labels) + 1.0))
    height = 0.8 / len(outcome_labels)
    y = np.arange(len(by_term))[::-1]
    # The first outcome's bar on top within each group, as the legend lists it first.
    for i, (outcome, shade) in enumerate(zip(outcome_labels, ["0.35", "0.75", "0.55"])):
        ax.barh(
            y - (i - (len(outcome_labels) - 1) / 2) * height,
            by_term[outcome],
            height=height,
            color=shade,
            edgecolor="black",
            linewidth=0.4,
            label=outcome_labels[outcome],
        )
    ax.axvline(0, color="black", linewidth=0.6)
    names = [("Residual" if t == "residual" else term_labels.get(t, {}).get("label", t)) for t in by_term.index]
    ax.set_yticks(y, [_wrap(n, 34) for n in names])
    ax.set_xlabel(spec["x_label"])
    ax.legend(frameon=False, fontsize=6)
    ax.spines[["top", "right"]].set_visible(False)
    _mark_synthetic(fig, synthetic)
    return _save(fig, stem)

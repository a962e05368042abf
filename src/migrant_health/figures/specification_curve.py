"""The specification curve of a multiverse (Simonsohn, Simmons and Nelson 2020, Nature Human
Behaviour 4: 1208-1214): each key estimate in every variant with its 95% CI, sorted, and beneath
it a dot matrix of the options each variant takes.

One column per key estimate, each sorted on its own; the main specification is drawn in black
(the others grey), an estimate with p < 0.05 as a filled dot, otherwise hollow. Variants without
an estimate (a term their sample leaves out, a fit that failed) are left out of the curve and
counted in the caption; the vertical range leaves out the widest 5% of CIs at each end (a nearly
unidentified variant's interval runs off the panel instead of flattening the curve). Metadata
without dates, as every figure (plots._save).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .plots import _mark_synthetic, _save  # noqa: E402

KEY = ["equation", "sample", "term", "level", "estimand"]
COLUMN_IN, CURVE_IN, OPTION_IN = 1.75, 1.5, 0.13  # a column's width, the curve's height, a matrix row's


def estimate_label(key: dict, labels: dict) -> str:
    """A key estimate in words: its equation and subsample, the term (its level's printed label)."""
    info = labels.get(key["term"], {})
    level = str(key["level"]) if isinstance(key["level"], str) and key["level"] else ""
    if level and level != "True":
        what = info.get("levels", {}).get(level, level)
    else:
        what = info.get("label", key["term"])
    sample = "" if key["sample"] == "total" else f", {key['sample']} subsample"
    return f"{key['equation']}{sample} ({key['estimand']}):\n{what}"


def missing_note(frame: pd.DataFrame, labels: dict) -> str:
    """The caption's line counting the variants without an estimate ('' when every variant has one)."""
    parts = []
    for key, rows in frame.groupby(KEY, sort=False):
        missing = int(rows["estimate"].isna().sum())
        if missing:
            parts.append(f"{estimate_label(dict(zip(KEY, key)), labels).replace(chr(10), ' ')}: {missing}")
    return f"Variants without an estimate (left out of the curve): {'; '.join(parts)}." if parts else ""


def _limits(rows: pd.DataFrame) -> tuple[float, float]:
    """The curve's vertical range: every estimate and zero, and the CIs but for the widest 5% at
    each end (a nearly unidentified variant's interval would flatten the others; it runs off the panel)."""
    low = min(float(np.nanquantile(rows["conf_low"], 0.05)), float(rows["estimate"].min()), 0.0)
    high = max(float(np.nanquantile(rows["conf_high"], 0.95)), float(rows["estimate"].max()), 0.0)
    pad = 0.05 * (high - low or 1.0)
    return low - pad, high + pad


def draw(frame: pd.DataFrame, choices: dict, labels: dict, stem, synthetic: bool) -> list[Path]:
    """`frame`: multiverse.csv's rows; `choices`: choice name -> its option names in config order."""
    plt.rcParams.update({"font.size": 6.5, "font.family": "DejaVu Sans"})
    keys = list(frame.groupby(KEY, sort=False).groups)
    options = [(choice, option) for choice, names in choices.items() for option in names]
    matrix_in = OPTION_IN * len(options) + 0.2
    fig, axes = plt.subplots(
        2,
        len(keys),
        figsize=(0.9 + COLUMN_IN * len(keys), CURVE_IN + matrix_in + 0.4),
        gridspec_kw={"height_ratios": [CURVE_IN, matrix_in], "hspace": 0.08, "wspace": 0.3},
        squeeze=False,
    )
    for j, key in enumerate(keys):
        rows = frame[(frame[KEY] == pd.Series(key, index=KEY)).all(axis=1)]
        rows = rows[rows["estimate"].notna()].sort_values(["estimate", "variant"], kind="stable")
        x = np.arange(len(rows))
        curve, dots = axes[0, j], axes[1, j]
        main = rows["main"].astype(str).str.lower().eq("true").to_numpy()
        significant = (rows["p_value"] < 0.05).to_numpy()
        colour = np.where(main, "black", "0.55")
        curve.vlines(x, rows["conf_low"], rows["conf_high"], colors=colour, linewidth=0.5)
        for filled in (True, False):
            at = significant == filled
            curve.scatter(
                x[at],
                rows["estimate"].to_numpy()[at],
                s=6,
                c=colour[at] if filled else "white",
                edgecolors=colour[at],
                linewidths=0.5,
                zorder=3,
            )
        curve.axhline(0, color="0.3", linewidth=0.5, linestyle="--")
        if len(rows):
            curve.set_ylim(*_limits(rows))
        curve.set_title(textwrap.fill(estimate_label(dict(zip(KEY, key)), labels), 34), fontsize=6)
        curve.set_xticks([])
        curve.set_xlim(-0.8, max(len(rows), 1) - 0.2)
        curve.spines[["top", "right"]].set_visible(False)
        for i, (choice, option) in enumerate(options):
            y = len(options) - 1 - i
            taken = (rows[choice].astype(str) == option).to_numpy()
            dots.scatter(x[taken], np.full(taken.sum(), y), s=2.5, c=colour[taken], marker="s", linewidths=0)
        dots.set_xlim(curve.get_xlim())
        dots.set_ylim(-0.7, len(options) - 0.3)
        dots.set_yticks(np.arange(len(options))[::-1], [f"{c}: {o}" for c, o in options] if j == 0 else [])
        dots.set_xlabel("Variants, sorted by the estimate", fontsize=6)
        dots.set_xticks([])
        dots.spines[["top", "right"]].set_visible(False)
        for k in range(1, len(choices)):  # a faint line between the choices
            boundary = len(options) - sum(len(n) for n in list(choices.values())[:k]) - 0.5
            dots.axhline(boundary, color="0.85", linewidth=0.4)
    axes[0, 0].set_ylabel("Estimate (95% CI)")
    _mark_synthetic(fig, synthetic)
    return _save(fig, stem)

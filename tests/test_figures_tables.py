"""Figures' statistics and the effect tables' layout."""

import numpy as np
import pandas as pd
import pytest

from migrant_health.errors import InputError
from migrant_health.figures.plots import share_by_group, wilson
from migrant_health.tables.effects import effect_table, stars


def test_wilson_interval_matches_the_textbook_case():
    # 8 successes of 10: the Wilson 95% interval is (0.4902, 0.9433) (Wilson 1927; Newcombe 1998, method 3).
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_share_by_group_uses_every_row_of_the_group_as_denominator():
    df = pd.DataFrame({"g": ["a", "a", "a", "b"], "reason": pd.Categorical(["home", None, "other", "home"])})
    out = share_by_group(df, {"indicator": "reason == 'home'", "by": "g", "levels": {"a": "A", "b": "B"}})
    assert out["n"].tolist() == [3, 1] and out["count"].tolist() == [1, 1]


def test_stars_follow_the_papers_notes():
    assert [stars(p) for p in (0.009, 0.01, 0.049, 0.05)] == ["**", "*", "*", ""]


def test_effect_table_layout():
    rows = pd.DataFrame(
        [
            {
                "model": "m",
                "sample": "total",
                "term": "scope",
                "level": "far",
                "reference": "near",
                "estimand": "ame",
                "estimate": -0.26,
                "std_error": 0.038,
                "p_value": 1e-6,
                "n_obs": 100,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "female",
                "level": "True",
                "reference": "False",
                "estimand": "ame",
                "estimate": 0.024,
                "std_error": 0.031,
                "p_value": 0.4,
                "n_obs": 100,
                "estimable": True,
            },
        ]
    )
    table = effect_table(
        rows,
        {"samples": ["total"], "models": {"m": "Probit"}},
        {"scope": {"label": "Scope (referred to near)", "levels": {"far": "Far"}}, "female": {"label": "Female"}},
    )
    assert table["Variables"].tolist() == ["Scope (referred to near)", "  Far", "Female", "Observations"]
    assert table["Probit"].tolist() == ["", "-0.260**", "0.024", "100"]
    assert table["Probit SE"].tolist()[1:3] == ["0.038", "0.031"]
    assert np.isfinite(rows["estimate"]).all()


def odds_ratio_estimates() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model": "m",
                "sample": "total",
                "term": "insurance",
                "level": "NCMS",
                "reference": "local",
                "estimand": "odds_ratio",
                "estimate": 2.5,
                "conf_low": 1.8,
                "conf_high": 3.4,
                "p_value": 1e-5,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "settle",
                "level": "True",
                "reference": "False",
                "estimand": "odds_ratio",
                "estimate": 0.7,
                "conf_low": 0.5,
                "conf_high": 0.98,
                "p_value": 0.0412,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "settle",
                "level": "True",
                "reference": "False",
                "estimand": "coef",
                "estimate": np.log(0.7),
                "conf_low": -1,
                "conf_high": 0,
                "p_value": 0.0412,
                "n_obs": 50,
                "estimable": True,
            },
        ]
    )


LABELS = {
    "insurance": {"label": "Insurance (referred to local)", "levels": {"NCMS": "NCMS"}},
    "settle": {"label": "Intends to settle"},
}


def test_odds_ratio_table_prints_or_ci_and_p():
    table = effect_table(
        odds_ratio_estimates(), {"samples": ["total"], "models": {"m": "Return"}, "estimand": "odds_ratio"}, LABELS
    )
    assert table["Variables"].tolist() == [
        "Insurance (referred to local)",
        "  NCMS",
        "Intends to settle",
        "Observations",
    ]
    assert table["Return"].tolist()[1:] == ["2.500**", "0.700*", "50"]
    assert table["Return 95% CI"].tolist()[1:3] == ["1.800–3.400", "0.500–0.980"]
    assert table["Return p"].tolist()[1:3] == ["<0.001", "0.041"]


def test_mixed_model_statistics_print_below_the_effects():
    statistics = pd.DataFrame(
        [
            {
                "model": "m",
                "sample": "total",
                "term": "var(_cons[city])",
                "level": "",
                "reference": "",
                "estimand": "variance",
                "estimate": 0.44,
                "std_error": 0.05,
                "conf_low": 0.359,
                "conf_high": 0.54,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "icc",
                "level": "",
                "reference": "",
                "estimand": "icc",
                "estimate": 0.118,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "lr_test",
                "level": "",
                "reference": "",
                "estimand": "lr_test",
                "estimate": 14.005,
                "statistic": 14.005,
                "p_value": 9.1e-5,
                "n_obs": 50,
            },
        ]
    )
    labels = {
        **LABELS,
        "var(_cons[city])": {"label": "City variance"},
        "icc": {"label": "ICC"},
        "lr_test": {"label": "LR test"},
    }
    rows = pd.concat([odds_ratio_estimates(), statistics], ignore_index=True)
    odds = effect_table(rows, {"samples": ["total"], "models": {"m": "Use"}, "estimand": "odds_ratio"}, labels)
    assert odds["Variables"].tolist()[-4:] == ["City variance", "ICC", "LR test", "Observations"]
    assert odds["Use"].tolist()[-4:-1] == ["0.440", "0.118", "14.005"]
    assert odds["Use 95% CI"].tolist()[-4:-1] == ["0.359–0.540", "", ""]
    assert odds["Use p"].tolist()[-4:-1] == ["", "", "<0.001"]
    # In a table of coefficients with SEs, the variance shows its SE.
    coefficients = effect_table(
        rows.assign(estimand=rows["estimand"].replace("odds_ratio", "ame")),
        {"samples": ["total"], "models": {"m": "Use"}},
        labels,
    )
    assert coefficients.set_index("Variables").loc["City variance", "Use SE"] == "0.050"
    # Without a single-level fit (separation) the LR test is blank, not "nan".
    no_test = effect_table(
        rows.assign(
            estimate=rows["estimate"].where(rows["estimand"] != "lr_test"),
            p_value=rows["p_value"].where(rows["estimand"] != "lr_test"),
        ),
        {"samples": ["total"], "models": {"m": "Use"}, "estimand": "odds_ratio"},
        labels,
    )
    assert no_test.set_index("Variables").loc["LR test", ["Use", "Use p"]].tolist() == ["", ""]


def test_forest_plot_rows_are_the_models_odds_ratios(tmp_path):
    from migrant_health.figures.plots import forest, odds_ratio_rows

    rows = odds_ratio_rows(odds_ratio_estimates(), {"model": "m"}, LABELS)
    assert rows["label"].tolist() == ["NCMS", "Intends to settle"]
    assert rows["group"].tolist() == ["Insurance (referred to local)", ""]
    assert rows["odds_ratio"].tolist() == [2.5, 0.7]
    written = forest(rows, tmp_path / "forest", synthetic=True)
    assert all(p.stat().st_size > 1000 for p in written)
    # Sized to its rows: a plot of twice the rows is taller by FOREST_ROW_IN for each added row.
    from migrant_health.figures.plots import FOREST_ROW_IN

    more = pd.concat([rows, rows.assign(group="Other", label=rows["label"] + " again")], ignore_index=True)
    forest(more, tmp_path / "more", synthetic=True)
    heights = [_png_size(tmp_path / f"{name}.png")[1] / 300 for name in ("forest", "more")]
    assert heights[1] - heights[0] == pytest.approx(3 * FOREST_ROW_IN, abs=0.15)
    with pytest.raises(InputError, match="no odds ratios of model 'other'"):
        odds_ratio_rows(odds_ratio_estimates(), {"model": "other"}, LABELS)


def test_flowchart_is_drawn_from_any_flow_table(tmp_path):
    from migrant_health.figures.plots import flowchart

    flow = pd.DataFrame(
        [
            {"step": "start", "n_after": 100, "n_dropped": 0, "reason": "respondents in the file"},
            {"step": "adults", "n_after": 80, "n_dropped": 20, "reason": "under 18"},
            {"step": "insured", "n_after": 60, "n_dropped": 20, "reason": "uninsured"},
        ]
    )
    written = flowchart(flow, tmp_path / "flow", synthetic=False)
    assert [p.suffix for p in written] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in written)


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_flowchart_draws_plain_words_and_no_empty_exclusion(tmp_path):
    """Boxes from each step's reason, not its config name; a filter that excluded no one is not
    drawn, and the caption says so."""
    from migrant_health.figures import plots

    flow = pd.DataFrame(
        [
            {
                "step": "start",
                "n_after": 100,
                "n_dropped": 0,
                "n_dropped_missing": 0,
                "reason": "respondents in the file",
            },
            {
                "step": "one_year",
                "n_after": 80,
                "n_dropped": 20,
                "n_dropped_missing": 5,
                "reason": "in the city < 1 year",
            },
            {
                "step": "place_known",
                "n_after": 80,
                "n_dropped": 0,
                "n_dropped_missing": 0,
                "reason": "place not recorded",
            },
        ]
    )
    shown, silent = plots.flowchart_steps(flow)
    assert [s["step"] for s in shown] == ["start", "one_year"] and silent == ["place not recorded"]
    assert plots.flowchart_note(flow) == "No one was excluded for: place not recorded."
    texts = []
    original = plots._save
    plots._save = lambda fig, stem: (
        texts.extend(t.get_text() for t in fig.axes[0].texts if t.get_text()) or original(fig, stem)
    )
    try:
        plots.flowchart(flow, tmp_path / "flow", synthetic=False)
    finally:
        plots._save = original
    assert texts == [
        "Respondents in the file\nn = 100",
        "Excluded, n = 20\nIn the city < 1 year (5 of them for a value\nnot recorded)",
        "Analytic sample\nn = 80",
    ]
    assert not any("one year" in t or "place known" in t or "n = 0" in t for t in texts)


def test_figures_hold_no_title_and_their_caption_is_written(tmp_path):
    from migrant_health.figures import plots

    data = pd.DataFrame([{"label": "A", "percent": 40.0}, {"label": "B", "percent": 60.0}])
    seen = []
    original = plots._save
    plots._save = lambda fig, stem: (
        seen.append((fig.axes[0].get_title(), [t.get_text() for t in fig.texts])) or original(fig, stem)
    )
    try:
        plots.bar_chart(data, tmp_path / "bars", synthetic=True)
    finally:
        plots._save = original
    title, figure_texts = seen[0]
    assert title == "" and figure_texts == [plots.SYNTHETIC_NOTE]
    path = plots.write_caption(tmp_path / "bars", "Figure 1 Shares", "A note.", synthetic=True)
    import json

    assert json.loads(path.read_text()) == {"title": "Figure 1 Shares", "notes": ["A note.", plots.SYNTHETIC_NOTE]}


def test_decomposition_legend_runs_as_its_bars(tmp_path):
    """The first outcome's bar is the upper one in each group, as the legend lists it first."""
    from migrant_health.figures import plots

    dec = pd.DataFrame(
        [
            {"term": t, "outcome": o, "determinant": t, "percent": v}
            for t, values in (("income", (70.0, 85.0)), ("ill", (25.0, 9.0)))
            for o, v in zip(("out", "in"), values)
        ]
    )
    bars = []
    original = plots._save
    plots._save = lambda fig, stem: bars.append(fig.axes[0]) or original(fig, stem)
    try:
        plots.decomposition_chart(
            dec,
            {},
            {"out": "Outpatient", "inp": "x"} and {"out": "Outpatient", "in": "Inpatient"},
            {"x_label": "%"},
            tmp_path / "dec",
            synthetic=False,
        )
    finally:
        plots._save = original
    ax = bars[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    first, second = ax.containers[0], ax.containers[1]
    assert legend == ["Outpatient", "Inpatient"]
    assert all(a.get_y() > b.get_y() for a, b in zip(first, second))  # the first outcome above


def test_effect_display_has_spanning_headers_and_statistics_rows():
    from migrant_health.tables.effects import effect_display

    rows = pd.concat([odds_ratio_estimates(), _fit_rows("m", 50)], ignore_index=True)
    display = effect_display(rows, {"samples": ["total"], "models": {"m": "Return"}, "estimand": "odds_ratio"}, LABELS)
    assert display.spans == [("", 1), ("Return", 3)] and display.headers == ["Variables", "OR", "95% CI", "p"]
    labels = display.frame["Variables"].tolist()
    assert labels[-display.statistics :] == ["Observations", "Log likelihood", "Pseudo R²", "AIC", "BIC"]
    assert display.frame["Return"].tolist()[-5:] == ["50", "−20.50".replace("−", "-"), "0.125", "49.00", "56.65"]


def _fit_rows(model: str, n: int) -> pd.DataFrame:
    values = {"n_obs": n, "log_likelihood": -20.5, "pseudo_r2": 0.125, "aic": 49.0, "bic": 56.654}
    return pd.DataFrame(
        [
            {
                "model": model,
                "sample": "total",
                "term": "_model",
                "level": "",
                "reference": "",
                "estimand": k,
                "estimate": v,
                "n_obs": n,
                "estimable": True,
            }
            for k, v in values.items()
        ]
    )


def test_stacked_layout_puts_the_se_under_the_estimate():
    """esttab's layout (`layout: stacked`): one column per model; "(SE)" under each estimate, an
    odds ratio's CI in brackets; statistics at the foot."""
    from migrant_health.tables.effects import effect_display

    rows = pd.DataFrame(
        [
            {
                "model": "m",
                "sample": "total",
                "term": "female",
                "level": "True",
                "reference": "False",
                "estimand": "ame",
                "estimate": 0.024,
                "std_error": 0.031,
                "p_value": 0.4,
                "n_obs": 100,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "age",
                "level": "",
                "reference": "",
                "estimand": "ame",
                "estimate": -0.26,
                "std_error": 0.038,
                "p_value": 1e-6,
                "n_obs": 100,
                "estimable": True,
            },
        ]
    )
    display = effect_display(
        pd.concat([rows, _fit_rows("m", 100)], ignore_index=True),
        {"samples": ["total"], "models": {"m": "Probit"}, "layout": "stacked"},
        {"female": {"label": "Female"}, "age": {"label": "Age"}},
    )
    assert list(display.frame.columns) == ["Variables", "Probit"] and not display.spans
    assert display.frame["Variables"].tolist()[:4] == ["Female", "", "Age", ""]
    assert display.frame["Probit"].tolist()[:4] == ["0.024", "(0.031)", "-0.260**", "(0.038)"]
    assert display.frame["Variables"].tolist()[-5:] == ["Observations", "Log likelihood", "Pseudo R²", "AIC", "BIC"]

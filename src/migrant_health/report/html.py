"""The report: results/report.html, one self-contained page (figures inlined), aggregates only.

Made with jinja2 from what the study steps wrote: each table from its JSON (title, spanning
headers, rows, notes; tables/render.py), each figure from its PNG and caption JSON, the
comparison with the published numbers (a summary, the worst few by |z|, and every number in a
folded <details>), and a provenance block. A contents bar links every study and section; the
page reads at 1400 px and on a phone (tables scroll inside their box), and prints (no contents
bar, folded parts opened, a study per page). No timestamps: the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from ..multiverse import SIGNIFICANCE, conclusion_key
from ..outputs import SYNTHETIC_NOTE
from ..tables.render import Document

WORST = 5  # comparisons shown in the summary, by |z|
# A figure at 1.3 times its printed size (96 px an inch; a 300 dpi PNG), narrower on a small screen.
CSS_PX_PER_INCH = 125


@dataclass
class TableView:
    anchor: str
    title: str
    notes: list
    spans: list
    headers: list
    rows: list  # (cells, css class, indent level of the label)
    text_columns: list = field(default_factory=list)  # columns of words (left-aligned, wrapped), not numbers

    def __post_init__(self):
        columns = list(zip(*[cells for cells, _, _ in self.rows])) if self.rows else []
        self.text_columns = [j for j, column in enumerate(columns) if j and _is_text(column)]
        self.rows = [
            ([c if j in self.text_columns else MINUS.sub("\u2212", c) for j, c in enumerate(cells)], css, level)
            for cells, css, level in self.rows
        ]


# A hyphen before a number: printed as a minus sign (U+2212).
MINUS = re.compile(r"(^|(?<=[\s(\[]))-(?=\.?\d)")
_NUMBER_LIKE = re.compile(r"^[<>\-−+(\[]?\d")


def _is_text(column) -> bool:
    """A column of words: most of its cells do not begin with a number."""
    cells = [c for c in column if c]
    return bool(cells) and sum(bool(_NUMBER_LIKE.match(c)) for c in cells) < len(cells) / 2


@dataclass
class FigureView:
    anchor: str
    title: str
    notes: list
    data: str  # base64 PNG
    width_px: int


@dataclass
class Comparison:
    judged: int
    agreeing: int
    rules: list  # (rule, judged, agreeing)
    worst: list  # rows (dicts) of the compact columns
    columns: list
    rows: list
    total: int


@dataclass
class MultiverseView:
    """The published conclusions across a multiverse: how many variants each holds in."""

    variants: int
    rows: list  # (conclusion, where it is read, variants holding, variants with an estimate, share in %)


def multiverse_view(frame: pd.DataFrame, conclusions: list[dict], models: dict) -> MultiverseView:
    """Each conclusion holds in a variant when its key estimate has the published sign and p < 0.05
    (a variant without the estimate counts as not holding); the share is of every variant."""
    variants = int(frame["variant"].nunique())
    rows = []
    level = frame["level"].fillna("").astype(str)
    for item in conclusions:
        equation, sample, term, lv, estimand = conclusion_key(item, models)
        mine = frame[
            (frame["equation"] == equation)
            & (frame["sample"] == sample)
            & (frame["term"] == term)
            & (level == lv)
            & (frame["estimand"] == estimand)
        ]
        sign = mine["estimate"] > 0 if item["sign"] == "positive" else mine["estimate"] < 0
        holds = int((sign & (mine["p_value"] < SIGNIFICANCE)).sum())
        where = f"{equation}, {sample}: {term}" + (f" = {lv}" if lv else "") + f" ({estimand}), {item['sign']}"
        share = 100 * holds / variants if variants else float("nan")
        rows.append((item["text"], where, holds, int(mine["estimate"].notna().sum()), f"{share:.0f}%"))
    return MultiverseView(variants, rows)


@dataclass
class StudyView:
    name: str
    title: str
    synthetic: bool
    flow: TableView
    tables: list
    figures: list
    comparison: Comparison | None
    notes: list
    sections: list = field(default_factory=list)  # (anchor, label) for the contents bar
    # Lines about the study's data printed under its heading, after the synthetic-data banner: the
    # place where a line naming a real data file (its provenance) joins.
    lines: list = field(default_factory=list)
    multiverse: MultiverseView | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def table_view(study: str, name: str, doc: Document) -> TableView:
    display = doc.display
    rows = []
    first_statistic = len(display.rows) - display.statistics if display.statistics else None
    for i, r in enumerate(display.rows):
        label = r[0]
        level = (len(label) - len(label.lstrip(" "))) // 2
        heading = all(c == "" for c in r[1:]) and level == 0 and label != ""
        css = " ".join(c for c in ("statistic" if i == first_statistic else "", "heading" if heading else "") if c)
        rows.append(([label.strip(), *r[1:]], css, level))
    return TableView(f"{study}-{name}", doc.title, doc.notes, display.spans, display.headers, rows)


def flow_view(study: str, flow: pd.DataFrame) -> TableView:
    headers = ["Step", "Rule", "n before", "Excluded", "of whom not recorded", "n after", "Reason"]
    rows = [
        (
            [
                str(r.step),
                "" if pd.isna(r.filter) else str(r.filter),
                f"{r.n_before:,}",
                f"{r.n_dropped:,}",
                f"{r.n_dropped_missing:,}",
                f"{r.n_after:,}",
                str(r.reason),
            ],
            "",
            0,
        )
        for r in flow.itertuples()
    ]
    return TableView(f"{study}-flow", "Sample flow", [], [], headers, rows)


def figure_view(study: str, name: str, png: Path, caption: dict) -> FigureView:
    data = Path(png).read_bytes()
    width = int.from_bytes(data[16:20], "big")
    return FigureView(
        f"{study}-figure-{name}",
        caption["title"],
        caption["notes"],
        base64.b64encode(data).decode(),
        round(width / 300 * CSS_PX_PER_INCH),
    )


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""
    value = float(value)
    if value.is_integer() and abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _with_uncertainty(value, se, low, high) -> str:
    out = _fmt(value)
    if pd.notna(se):
        out += f" ({_fmt(se)})"
    elif pd.notna(low) and pd.notna(high):
        out += f" [{_fmt(low)}, {_fmt(high)}]"
    return out


def _what(r) -> str:
    """The number compared, in words: its estimand and where it sits (model or column)."""
    where = [str(v) for v in (r.get("model"), r.get("column")) if isinstance(v, str) and v and v != "sample"]
    level = f" = {r['level']}" if isinstance(r.get("level"), str) and r["level"] else ""
    term = f"{r['term']}{level}" if isinstance(r.get("term"), str) else ""
    return " · ".join([*where, term, str(r["estimand"])])


def comparison_view(cmp: pd.DataFrame) -> Comparison:
    """Numbers compared, agreeing by the stated rule, the worst few by |z|, and every row in the
    compact columns (where printed, what, published, reproduced, z, truth when synthetic, agrees)."""
    judged = cmp[cmp["agrees"].notna()]
    agrees = judged["agrees"].astype(str).str.lower() == "true"
    rules = [
        (rule, len(group), int((group["agrees"].astype(str).str.lower() == "true").sum()))
        for rule, group in judged.groupby("rule", sort=False)
    ]
    has_truth = "truth" in cmp and cmp["truth"].notna().any()
    columns = ["Printed at", "Number", "Published", "Reproduced", "z"] + (["Truth"] if has_truth else []) + ["Agrees"]

    def row(r) -> dict:
        state = str(r["agrees"]).lower()
        out = {
            "Printed at": str(r["source"]),
            "Number": _what(r),
            "Published": _with_uncertainty(
                r["published"], r["published_se"], r["published_conf_low"], r["published_conf_high"]
            ),
            "Reproduced": _with_uncertainty(r["estimate"], r["std_error"], r["conf_low"], r["conf_high"]),
            "z": _fmt(r["z"]),
            "Agrees": {"true": "yes", "false": "NO"}.get(state, "not judged"),
            "_class": "disagree" if state == "false" else "",
        }
        if has_truth:
            out["Truth"] = _fmt(r["truth"])
        return out

    with_z = judged[judged["z"].notna()]
    worst = with_z.reindex(with_z["z"].abs().sort_values(ascending=False).index).head(WORST)
    return Comparison(
        len(judged),
        int(agrees.sum()),
        rules,
        [row(r) for _, r in worst.iterrows()],
        columns,
        [row(r) for _, r in cmp.iterrows()],
        len(cmp),
    )


def study_view(
    name: str,
    title: str,
    synthetic: bool,
    flow: Path,
    tables: list[tuple[str, Path]],
    figures: list[tuple[str, Path, Path]],
    comparison: Path | None,
    notes: list[str],
    provenance: list[str] = (),
    multiverse: MultiverseView | None = None,
) -> StudyView:
    """`tables`: (name, table JSON); `figures`: (name, PNG, caption JSON); `provenance`: a line
    naming each real data file the study read (path, sha256, rows)."""
    view = StudyView(
        name,
        title,
        synthetic,
        flow_view(name, pd.read_csv(flow)),
        [table_view(name, t, Document.read(path)) for t, path in tables],
        [figure_view(name, f, png, json.loads(Path(caption).read_text())) for f, png, caption in figures],
        comparison_view(pd.read_csv(comparison)) if comparison is not None else None,
        notes,
        lines=list(provenance),
        multiverse=multiverse,
    )
    view.sections = [(f"{name}-flow", "Sample flow")]
    view.sections += [(t.anchor, _short(t.title)) for t in view.tables]
    view.sections += [(f.anchor, _short(f.title)) for f in view.figures]
    if view.multiverse:
        view.sections.append((f"{name}-multiverse", "Conclusions across the multiverse"))
    if view.comparison:
        view.sections.append((f"{name}-comparison", "Published vs reproduced"))
    if notes:
        view.sections.append((f"{name}-notes", "Notes"))
    return view


def _short(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Migrant health insurance studies: reproduction report</title>
<style>
:root{--ink:#222;--muted:#555;--rule:#999;--bg:#fff;--tint:#f4f4f1}
*{box-sizing:border-box}
body{font-family:Georgia,"Times New Roman",serif;color:var(--ink);margin:0;line-height:1.45}
h1,h2,h3,h4,nav,.summary,figcaption b{font-family:Helvetica,Arial,sans-serif}
.page{display:grid;grid-template-columns:17rem minmax(0,1fr);max-width:1500px;margin:0 auto}
nav.contents{position:sticky;top:0;align-self:start;max-height:100vh;overflow-y:auto;padding:1rem;
 font-size:.8rem;border-right:1px solid #ddd;background:var(--tint)}
nav.contents ul{list-style:none;padding-left:.8rem;margin:.2rem 0}
nav.contents>ul{padding-left:0}
nav.contents a{color:#124;text-decoration:none}
nav.contents a:hover{text-decoration:underline}
main{padding:0 1.5rem 3rem;min-width:0}
section.study{border-top:3px solid var(--ink);margin-top:2.5rem}
h2{font-size:1.35rem}h3{font-size:1.1rem;margin-top:2rem}h4{font-size:.95rem;margin:1.6rem 0 .4rem}
.banner{background:#fff3cd;border:1px solid #e0c36b;padding:.6rem .9rem;font-weight:bold}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.82rem;margin:.3rem 0 .2rem;font-variant-numeric:tabular-nums}
thead tr:first-child th{border-top:2px solid var(--ink)}
thead tr:last-child th{border-bottom:1px solid var(--ink)}
tbody tr:last-child td{border-bottom:2px solid var(--ink)}
th{font-weight:bold;text-align:center;padding:3px 8px;vertical-align:bottom}
th.span{border-bottom:1px solid var(--rule)}
td{padding:2px 8px;text-align:right;white-space:nowrap;vertical-align:top}
td:first-child,th:first-child{text-align:left;white-space:normal;min-width:12rem;max-width:28rem}
tr.heading td:first-child{font-style:italic}
tr.statistic td{border-top:1px solid var(--rule)}
td.l1{padding-left:1.6rem}td.l2{padding-left:2.6rem}
td.t{text-align:left;white-space:normal;min-width:8rem}
tr.disagree td{background:#fbe3e3}
table.compare td{white-space:normal;text-align:left;min-width:0}
table.compare td.num{text-align:right;white-space:nowrap}
.notes,.note{font-size:.8rem;color:var(--muted);margin:.2rem 0 0}
p.note{margin:.1rem 0}
figure{margin:1.2rem 0}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.85rem;max-width:48rem;margin-top:.4rem}
.summary{background:var(--tint);padding:.6rem .9rem;font-size:.9rem}
details{margin:.6rem 0}summary{cursor:pointer;font-family:Helvetica,Arial,sans-serif}
dl.provenance{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;font-size:.85rem}
dl.provenance dd{margin:0;overflow-wrap:anywhere;font-family:monospace}
.top{font-size:.75rem}
@media (max-width:900px){
 .page{display:block}
 nav.contents{position:static;max-height:none;border-right:0;border-bottom:1px solid #ddd}
 main{padding:0 .8rem 2rem}
 td:first-child,th:first-child{min-width:9rem}
}
@media print{
 nav.contents,.top{display:none}
 .page{display:block}
 main{padding:0}
 section.study{break-before:page;border-top:0}
 table,figure{break-inside:avoid}
 .scroll{overflow:visible}
 body{font-size:10pt}
 a{color:inherit;text-decoration:none}
}
</style>
</head>
<body>
<div class="page">
<nav class="contents" aria-label="Contents">
<strong>Contents</strong>
<ul>
{%- for s in studies %}
<li><a href="#{{ s.name }}">{{ s.title }}</a>
<ul>{% for anchor, label in s.sections %}<li><a href="#{{ anchor }}">{{ label }}</a></li>{% endfor %}</ul></li>
{%- endfor %}
<li><a href="#provenance">Provenance</a></li>
</ul>
</nav>
<main>
<h1 id="top">Reproduction report</h1>
<p>Generated by the migrant_health pipeline from config.yaml: every study's sample, tables,
figures and the comparison with its published numbers. Aggregates only.</p>
{%- for s in studies %}
<section class="study" id="{{ s.name }}">
<h2>{{ s.title }}</h2>
{%- if s.synthetic %}
<p class="banner">{{ synthetic_note }} It is calibrated to the published tables: the numbers
reproduce what was calibrated and are not evidence about migrants.</p>
{%- endif %}
{%- for line in s.lines %}
<p class="note">{{ line }}</p>
{%- endfor %}
<h3 id="{{ s.flow.anchor }}">Sample flow</h3>
{{ table(s.flow) }}
<h3>Tables</h3>
{%- for t in s.tables %}
<h4 id="{{ t.anchor }}">{{ t.title }}</h4>
{{ table(t) }}
{%- for n in t.notes %}<p class="note">{{ n }}</p>{% endfor %}
{%- endfor %}
{%- if s.figures %}
<h3>Figures</h3>
{%- for f in s.figures %}
<figure id="{{ f.anchor }}">
<img alt="{{ f.title }}" style="width:{{ f.width_px }}px" src="data:image/png;base64,{{ f.data }}">
<figcaption><b>{{ f.title }}</b>{% for n in f.notes %} {{ n }}{% endfor %}</figcaption>
</figure>
{%- endfor %}
{%- endif %}
{%- if s.multiverse %}
<h3 id="{{ s.name }}-multiverse">Conclusions across the multiverse</h3>
<p class="note">Share of the {{ s.multiverse.variants }} variants of the analysis (multiverse.csv, the specification
curve above) in which each published conclusion holds: its key estimate has the published sign and p &lt; 0.05.</p>
<div class="scroll"><table class="compare">
<thead><tr><th>Conclusion</th><th>Key estimate, sign</th><th>Variants where it holds</th><th>Share</th></tr></thead>
<tbody>
{%- for text, where, holds, estimated, share in s.multiverse.rows %}
<tr><td>{{ text }}</td><td>{{ where }}</td><td class="num">{{ holds }} of {{ s.multiverse.variants }}
{%- if estimated < s.multiverse.variants %}
 ({{ s.multiverse.variants - estimated }} without the estimate){% endif %}</td>
<td class="num">{{ share }}</td></tr>
{%- endfor %}
</tbody>
</table></div>
{%- endif %}
{%- if s.comparison %}
{%- set c = s.comparison %}
<h3 id="{{ s.name }}-comparison">Published and reproduced</h3>
<div class="summary">
<p><b>{{ c.judged }}</b> published numbers compared by a stated rule: <b>{{ c.agreeing }}</b> agree,
<b>{{ c.judged - c.agreeing }}</b> do not
{%- if c.total > c.judged %} ({{ c.total - c.judged }} more shown, not judged){% endif %}.</p>
<ul>{% for rule, n, ok in c.rules %}<li>{{ rule }}: {{ ok }} of {{ n }} agree</li>{% endfor %}</ul>
</div>
{%- if c.worst %}
<h4>Furthest from the published numbers (by |z|, our standard errors)</h4>
{{ compare(c.columns, c.worst) }}
{%- endif %}
<details>
<summary>Every published number beside ours ({{ c.total }})</summary>
{{ compare(c.columns, c.rows) }}
</details>
{%- endif %}
{%- if s.notes %}
<h3 id="{{ s.name }}-notes">Notes</h3>
<ul class="notes">{% for n in s.notes %}<li>{{ n }}</li>{% endfor %}</ul>
{%- endif %}
<p class="top"><a href="#top">Back to the top</a></p>
</section>
{%- endfor %}
<section class="study" id="provenance">
<h2>Provenance</h2>
<dl class="provenance">
{%- for key, value in provenance %}
<dt>{{ key }}</dt><dd>{{ value }}</dd>
{%- endfor %}
</dl>
</section>
</main>
</div>
<script>
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
});
</script>
</body>
</html>
"""

MACROS = """
{%- macro table(t) -%}
<div class="scroll"><table>
<thead>
{%- if t.spans %}
<tr>{% for label, n in t.spans %}<th colspan="{{ n }}"
{%- if label %} class="span"{% endif %}>{{ label }}</th>{% endfor %}</tr>
{%- endif %}
<tr>{% for h in t.headers %}<th>{{ h }}</th>{% endfor %}</tr>
</thead>
<tbody>
{%- for cells, css, level in t.rows %}
<tr{% if css %} class="{{ css }}"{% endif %}>{% for c in cells %}<td
{%- if loop.first and level %} class="l{{ level }}"{% elif loop.index0 in t.text_columns %} class="t"{% endif -%}
>{{ c }}</td>{% endfor %}</tr>
{%- endfor %}
</tbody>
</table></div>
{%- endmacro %}
{%- macro compare(columns, rows) -%}
<div class="scroll"><table class="compare">
<thead><tr>{% for h in columns %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for r in rows %}
<tr{% if r._class %} class="{{ r._class }}"{% endif %}>{% for h in columns %}<td
{%- if h in ('Published', 'Reproduced', 'z', 'Truth') %} class="num"{% endif %}>{{ r[h] }}</td>{% endfor %}</tr>
{%- endfor %}
</tbody>
</table></div>
{%- endmacro %}
"""


def render(studies: list[StudyView], provenance: list[tuple[str, str]]) -> str:
    environment = jinja2.Environment(autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    macros = environment.from_string(MACROS).module
    page = environment.from_string(TEMPLATE).render(
        studies=studies,
        provenance=provenance,
        synthetic_note=SYNTHETIC_NOTE,
        table=macros.table,
        compare=macros.compare,
    )
    return page


def write_report(studies: list[StudyView], provenance: list[tuple[str, str]], out) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(render(studies, provenance))

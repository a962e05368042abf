"""Rule report: results/report.html from the study outputs already written."""

from pathlib import Path

from .. import outputs
from ..report import html


def report(studies: dict, synthetic: dict, report: str) -> None:
    """`studies`: the config's studies; `synthetic`: dataset name -> generated or not."""
    sections = []
    for name, study in studies.items():
        base = Path("results") / name
        is_synthetic = synthetic[study["dataset"]]
        tables = [base / "tables" / f"{t}.csv" for t in outputs.table_names(study)]
        figures = [base / "figures" / f"{f}.png" for f in outputs.figure_names(study)]
        comparison = base / "comparison.csv"
        notes_files = [base / "model_messages.txt"]
        if is_synthetic:  # what the generator could not reach, beside the study it concerns
            notes_files.append(Path("results") / "data" / f"{study['dataset']}_synthetic_notes.txt")
        notes = [line for f in notes_files if f.exists() for line in f.read_text().splitlines()]
        sections.append(
            html.study_section(
                name,
                study.get("title", name),
                is_synthetic,
                base / "flow.csv",
                tables,
                figures,
                comparison if comparison.exists() else None,
                notes,
            )
        )
    html.write_report(sections, report)

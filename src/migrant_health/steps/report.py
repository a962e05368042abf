"""Rule report: results/report.html from the study outputs already written."""

from pathlib import Path

from .. import outputs
from ..io.files import read_provenance
from ..report import html


def report(studies: dict, synthetic: dict, report: str) -> None:
    """`studies`: the config's studies; `synthetic`: dataset name -> generated or not. A study on
    real data names each file it read (path, sha256, rows), as its tables and figures do."""
    sections = []
    for name, study in studies.items():
        base = Path("results") / name
        datasets = outputs.study_datasets(study)
        is_synthetic = any(synthetic[d] for d in datasets)
        tables = [base / "tables" / f"{t}.csv" for t in outputs.table_names(study)]
        figures = [base / "figures" / f"{f}.png" for f in outputs.figure_names(study)]
        comparison = base / "comparison.csv"
        notes_files = [base / "model_messages.txt"]
        # What the generator could not reach, beside the study it concerns.
        notes_files += [Path("results") / "data" / f"{d}_synthetic_notes.txt" for d in datasets if synthetic[d]]
        notes = [line for f in notes_files if f.exists() for line in f.read_text().splitlines()]
        provenance = read_provenance([outputs.source_file(d) for d in datasets if not synthetic[d]])
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
                provenance,
            )
        )
    html.write_report(sections, report)

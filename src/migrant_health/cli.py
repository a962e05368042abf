"""The `migrant-health` command (pyproject.toml's console script).

    migrant-health codebook draft FILE [-o OUT.yaml] [--encoding gbk] [--survey cmds] [--config config.yaml]
    migrant-health codebook needs [--survey cmds] [--dataset NAME] [--config config.yaml]

`draft` reads only the metadata of an SPSS (.sav/.zsav) or Stata (.dta) file and writes a
codebook skeleton: every column with its variable label, its type (numbers or text), its value
labels (Chinese kept, UTF-8) and its user-missing codes and ranges, then the canonical variables
the configured studies use, each with where it is used, to be mapped by the user. `needs` prints
that list alone. Bad input ends with one message, no traceback, and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from . import derive, outputs, requirements
from .errors import InputError

HEADER = """\
# Codebook drafted by `migrant-health codebook draft` from {file}
# ({rows} rows, {columns} columns{encoding}). Its language: README, "Using the real survey".
#
# 1. Name the survey whose derivations apply (one of {surveys}), the wave and the interview date.
# 2. `items:` records each column as the file describes it: label, numbers or text, value labels
#    and user-missing codes. Keep it as drafted: ingestion compares the file's value labels with
#    these at every run and stops on a contradiction; an item's missing codes are missing in every
#    variable that reads it.
# 3. `variables:` lists the canonical variables the configured studies use ({studies}), each
#    with where it is used. Map each to the item(s) and codes of this file; remove what no study uses.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="migrant-health", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="group", required=True)
    codebook = commands.add_parser("codebook", help="draft a codebook from a release; list what studies need")
    actions = codebook.add_subparsers(dest="action", required=True)
    draft = actions.add_parser("draft", help="a codebook skeleton from a file's metadata")
    draft.add_argument("file", help="an SPSS (.sav, .zsav) or Stata (.dta) file")
    draft.add_argument("-o", "--output", help="write the draft here (default: standard output)")
    draft.add_argument("--encoding", help="the file's text encoding when it records none or a wrong one (gbk)")
    for sub in (draft, actions.add_parser("needs", help="the canonical variables the configured studies use")):
        sub.add_argument("--config", default="config.yaml", help="the workflow's config (default: config.yaml)")
        sub.add_argument("--survey", help=f"the survey whose derivations apply ({', '.join(derive.SURVEYS)})")
        sub.add_argument("--dataset", help="only the studies of this dataset (a name in config.yaml)")
    args = parser.parse_args(argv)
    try:
        if args.action == "draft":
            text = draft_text(Path(args.file), args.encoding, args.config, args.survey, args.dataset)
            if args.output:
                Path(args.output).write_text(text, encoding="utf-8")
                print(f"Wrote {args.output}: map its `variables:`, then point datasets.<name>.codebook at it.")
            else:
                sys.stdout.write(text)
        else:
            sys.stdout.write(needs_text(args.config, args.survey, args.dataset))
    except InputError as e:
        sys.stderr.write(f"migrant-health: {e}\n")
        return 2
    return 0


def _studies_needs(config_path: str, survey: str | None, dataset: str | None):
    """(needed variable -> places, derived variable -> its inputs, the studies looked at)."""
    from .config import validate_config
    from .io.yamlfile import read_yaml

    config_path = Path(config_path)
    if not config_path.exists():
        raise InputError(f"{config_path}: no such config (the studies' needs are read from it); give --config.")
    schema = config_path.resolve().parent / "schemas" / "config.schema.yaml"
    if not schema.exists():  # a config outside the project: the checkout's schema
        schema = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
    config = validate_config(read_yaml(config_path), schema, str(config_path))
    if survey is not None:
        derive.derivations(survey, "--survey")
    if dataset is not None and dataset not in config["datasets"]:
        raise InputError(f"--dataset {dataset}: not a dataset of {config_path} ({', '.join(config['datasets'])}).")
    studies = [
        name for name, study in config["studies"].items() if dataset is None or dataset in outputs.study_datasets(study)
    ]
    needs: dict[str, list[str]] = {}
    for name in studies:
        for variable, places in requirements.study_needs(name, config["studies"][name]).items():
            needs.setdefault(variable, []).extend(p for p in places if p not in needs.get(variable, []))
    derived = {}
    if survey is not None:
        by_name = {d.name: d for d in derive.SURVEYS[survey]}
        leaves = requirements.leaves(needs, survey)
        derived = {v: by_name[v].inputs for v in needs if v in by_name}
        needs = leaves
    return dict(sorted(needs.items())), derived, studies


def needs_text(config_path: str, survey: str | None, dataset: str | None) -> str:
    needs, derived, studies = _studies_needs(config_path, survey, dataset)
    lines = [f"# Canonical variables used by studies {', '.join(studies)}"]
    if survey:
        lines[0] += f", with survey {survey}'s derivations"
    for variable, places in needs.items():
        lines.append(f"{variable}: {requirements.describe_places(places)}")
    if derived:
        lines.append(f"# Derived by survey {survey} (declare one in the codebook to use yours instead):")
        lines += [f"#   {v} <- {', '.join(inputs)}" for v, inputs in sorted(derived.items())]
    return "\n".join(lines) + "\n"


def draft_text(file: Path, encoding: str | None, config_path: str, survey: str | None, dataset: str | None) -> str:
    from .io import read

    meta = read.metadata(file, encoding)
    needs, derived, studies = _studies_needs(config_path, survey, dataset)
    out = [
        HEADER.format(
            file=file,
            rows=f"{meta.n_rows:,}" if meta.n_rows is not None else "?",
            columns=len(meta.columns),
            encoding=f"; read as {encoding}: set datasets.<name>.encoding: {encoding}" if encoding else "",
            surveys=", ".join(derive.SURVEYS),
            studies=", ".join(studies) or "none",
        ),
        f"survey: {_flow(survey or 'TODO')}",
        "wave: TODO",
        "interview: {year: TODO, month: TODO}",
    ]
    if meta.file_label:
        out.append(f"title: {_flow(meta.file_label)}")
    out.append("\nitems:")
    for column in meta.columns:
        spec = _item(column, meta)
        if "labels" in spec or "missing" in spec:
            out.append(f"  {_flow(column)}:")
            out += [f"    {key}: {_flow(value)}" for key, value in spec.items()]
        else:
            out.append(f"  {_flow(column)}: {_flow(spec)}")
    out.append("\nvariables:")
    if derived:
        out.append(f"  # Derived by survey {survey} from the variables below (declare one here to use yours instead):")
        out += [f"  #   {v} <- {', '.join(inputs)}" for v, inputs in sorted(derived.items())]
    for variable, places in needs.items():
        out.append(f"  # used by {requirements.describe_places(places)}")
        out.append(f"  {variable}: {{source: TODO}}")
    return "\n".join(out) + "\n"


def _item(column: str, meta) -> dict:
    spec = {"label": meta.column_labels.get(column) or "", "type": meta.types.get(column, "numeric")}
    labels = meta.value_labels.get(column) or {}
    if labels:
        spec["labels"] = {_code(code): str(text) for code, text in labels.items()}
    missing = meta.missing.get(column) or {}
    if missing:
        by_code = {_code(code): str(text) for code, text in labels.items()}
        spec["missing"] = {code: by_code.get(code, "user-missing") for code in missing}
    if not spec["label"]:
        del spec["label"]
    return spec


def _code(code):
    if isinstance(code, float) and code.is_integer():
        return int(code)
    return code


def _flow(value) -> str:
    """A value as YAML on one line (a mapping in flow style), quoted where YAML needs it."""
    text = yaml.safe_dump([value], allow_unicode=True, default_flow_style=True, width=1_000_000)
    return text.strip()[1:-1]


if __name__ == "__main__":
    sys.exit(main())

"""Reading the project's YAML files (config, codebooks, published numbers): one loader, one
message for a syntax error (file, line, column), no numerical imports (config validation
reads YAML while Snakemake parses the workflow)."""

from pathlib import Path

import yaml

from ..errors import InputError

# libyaml's safe loader when PyYAML has it (several times faster), else the pure-Python one:
# the same documents either way.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path):
    """The document of a YAML file, or an InputError naming its line and column."""
    path = Path(path)
    try:
        return yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        raise InputError(
            f"{path}:{where} not valid YAML ({getattr(e, 'problem', None) or e}). Fix the syntax "
            f"there (indentation, a missing colon, an unclosed quote or bracket)."
        ) from None

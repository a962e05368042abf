"""A codebook file read as YAML and its header (survey, wave, interview date), without
numerical imports: the workflow reads it while it is parsed, to check before any job that each
dataset's codebook provides what its studies need (requirements.py). io/codebook.py parses the
variables and applies them."""

from __future__ import annotations

from pathlib import Path

from .. import derive
from ..errors import InputError
from .yamlfile import read_yaml

# The pipeline's own variable: a dataset's wave, from `wave:` (pooled waves are told apart by it).
WAVE = "wave"
TOP_KEYS = {"survey", "wave", "interview", "title", "items", "variables", "derived"}
# The draft's placeholder for what the user still has to fill in.
TODO = "TODO"


def read_document(path) -> dict:
    """A codebook file as YAML, or an InputError naming the line (no check of its content)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: codebook not found. Write one (see README, 'Using the real survey').")
    doc = read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("variables"), dict):
        raise InputError(f"{path}: a codebook is a mapping with `variables:` (see data/codebooks/cmds2014.yaml).")
    return doc


def check_header(doc: dict, path) -> tuple[str, object, dict]:
    """(survey, wave, interview date) of a codebook document, or InputError with the fix."""
    unknown = set(doc) - TOP_KEYS
    if "dataset" in unknown:
        raise InputError(
            f"{path}: `dataset:` is no longer read: the dataset is named in config.yaml, and derivations "
            f"follow the survey. Remove it, and name the survey and wave (survey: cmds, wave: 2014)."
        )
    if unknown:
        raise InputError(f"{path}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(TOP_KEYS))}.")
    survey = doc.get("survey")
    if isinstance(survey, dict):
        raise InputError(
            f"{path}: survey: names the survey whose derivations apply ({', '.join(derive.SURVEYS)}); the "
            f"interview date goes under `interview:`. Write e.g. survey: cmds, wave: 2014, "
            f"interview: {{year: 2014, month: 5}}."
        )
    if survey in (None, TODO) or not isinstance(survey, str):
        raise InputError(
            f"{path}: survey: names the survey whose derivations apply (one of {', '.join(derive.SURVEYS)}), "
            f"e.g. survey: cmds."
        )
    derive.derivations(survey, str(path))
    wave = doc.get("wave")
    if wave in (None, TODO) or isinstance(wave, (bool, dict, list)):
        raise InputError(f"{path}: wave: names the wave of the survey (e.g. wave: 2014).")
    interview = doc.get("interview")
    if (
        not isinstance(interview, dict)
        or set(interview) != {"year", "month"}
        or not all(isinstance(interview[k], int) and not isinstance(interview[k], bool) for k in interview)
        or not 1 <= interview["month"] <= 12
    ):
        raise InputError(
            f"{path}: interview: the interview date as {{year: 2014, month: 5}} (age and durations are computed at it)."
        )
    return survey, wave, dict(interview)

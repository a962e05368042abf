"""Rule synthesize: a synthetic survey calibrated to data/published/*.yaml, and its truth."""
from pathlib import Path

from .. import published as pub
from ..config import GENERATOR_TARGETS
from ..io import codebook as cb
from ..io.files import write_csv, write_lines


def synthesize(dataset: dict, published: list, raw: str, truth: str, notes: str) -> None:
    """Write the release and the true effects of its outcome equations (aggregates, for the
    comparison and the report). `published`: the calibration targets' files."""
    g = dataset["generator"]
    docs = {Path(path).stem: pub.load(path) for path in published}
    book = cb.load_codebook(dataset["codebook"])
    Path(raw).parent.mkdir(parents=True, exist_ok=True)
    if g["survey"] == "jinan_mefc":
        from ..synth import jinan_mefc

        release = jinan_mefc.generate(docs["mefc"], book, seed=g["seed"])
        jinan_mefc.write_sav(release.raw, book, raw)
    else:
        from ..synth import cmds2014

        targets = cmds2014.targets_from_published(*(docs[name] for name in GENERATOR_TARGETS["cmds2014"]))
        release = cmds2014.generate(targets, seed=g["seed"], book=book, n_respondents=g["n_respondents"],
                                    benefit_scale=g["benefit_scale"], medical_return_scale=g["medical_return_scale"])
        cmds2014.write_sav(release.raw, raw)
    write_csv(release.truth, truth)
    write_lines(release.notes, notes)

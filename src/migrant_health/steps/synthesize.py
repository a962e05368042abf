"""Rule synthesize: a synthetic survey calibrated to data/published/*.yaml and to the models of
the studies it plants, with the truth of its outcome equations and the generator's notes."""

from pathlib import Path

from .. import published as pub
from ..io import codebook as cb
from ..io.files import write_csv, write_lines
from ..synth import GENERATORS


def synthesize(dataset: dict, studies: dict, published: list, codebook: str, raw: str, truth: str, notes: str) -> None:
    """`studies`: study name -> the config entries (models) the generator reads; `published`: the
    files of its calibration targets; `codebook`: the codebook of the generator's own layout,
    through which it solves its outcome equations (the dataset's, unless another layout is written)."""
    settings = dataset["generator"]
    docs = {Path(path).stem: pub.load(path) for path in published}
    release = GENERATORS[settings["survey"]].generate(settings, docs, studies, cb.load_codebook(codebook))
    Path(raw).parent.mkdir(parents=True, exist_ok=True)
    release.write_sav(raw)
    write_csv(release.truth, truth)
    write_lines(release.notes, notes)

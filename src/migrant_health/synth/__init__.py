"""Synthetic surveys calibrated to the published studies: one generator per survey.

    release = GENERATORS[survey].generate(settings, published, studies, book)
    release.write_sav(path)

* settings: the dataset's `generator:` block of config.yaml (validated, defaults filled in);
* published: study name -> its data/published/<name>.yaml, loaded, for every name in the
  generator's `published`;
* studies: study name -> its config.yaml entry; a generator reads the equations named in its
  `models` (the workflow passes nothing else, so that editing a table or a sample
  filter does not regenerate the survey, while editing a model its truth is solved for does);
* book: the codebook the generator solves its outcome equations with (the codebook of its own
  layout: the dataset's, or for another layout the one `layouts` names).

It returns a Release (release.py): the raw file with its labels, the truth of its outcome
equations and the generator's notes. pages.py writes what it produced against the published
numbers (results/data/<dataset>_synthetic_page.md).

Modules: cmds2014.py (the CMDS 2014 release; its frame and background in cmds2014_frame.py,
its layout in cmds2014_layout.py, the real release's layout in cmds2014_release.py, one
module per planted study: benefit.py, medical_return.py, inequality.py), jinan_mefc.py (the
Jinan survey of the mefc study), draws.py (quota draws, exact-count draws, the Newton solver),
specs.py (the models read from config).

This module imports nothing heavy: the rules read the registry when the workflow is parsed;
a generator's module is imported when it generates (by a plain import inside a function, so
that code_closure.py sees it and editing the generator reruns it).
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Generator:
    load: Callable  # returns the module whose generate() makes the release
    published: tuple[str, ...]  # the data/published/<name>.yaml it is calibrated to
    # The equations its truth is solved for: study -> equation names (None: all of the study's),
    # with the study's shared model keys (covariates, vce, ...). Only these reach the generator,
    # so that editing another equation does not regenerate the survey.
    models: dict
    # Layouts it writes (generator.layout) -> the codebook it solves with when writing that layout:
    # None is the dataset's own codebook; another layout is read with its own codebook, but the
    # generator plants in its default layout and solves through the default layout's codebook.
    layouts: dict = field(default_factory=lambda: {"default": None})

    def codebook(self, layout: str, own: str) -> str:
        return self.layouts[layout] or own

    def generate(self, settings: dict, published: dict, studies: dict, book):
        return self.load().generate(settings, published, studies, book)


def _cmds2014():
    from . import cmds2014

    return cmds2014


def _jinan_mefc():
    from . import jinan_mefc

    return jinan_mefc


GENERATORS = {
    "cmds2014": Generator(
        _cmds2014,
        published=("benefit", "medical_return", "inequality"),
        models={"benefit": None, "medical_return": ("medical_return",)},
        layouts={"default": None, "release": "data/codebooks/cmds2014.yaml"},
    ),
    "jinan_mefc": Generator(_jinan_mefc, published=("mefc",), models={"mefc": ("model3",)}),
}

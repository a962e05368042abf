"""A synthetic China Migrants Dynamic Survey 2014, calibrated to the published studies.

What is calibrated to what (everything else is a plausible background, not a claim
about the real survey):

* Frame (cmds2014_frame.py): 200,937 respondents aged 15-59 in 348 cities of 32 provincial
  units, neighbourhood clusters of 20, a sampling weight constant within a city.
* Benefit study (seed 001, benefit.py): Table 1's NCMS and URBMI+UEBMI columns by quota, so
  every count is exact; reimbursement, amount and ratio follow outcome equations solved from
  Tables 3 and 4 for the study's models (config.yaml: studies.benefit.models).
* Medical-return study (seed 000, medical_return.py): 4,018 rural-hukou respondents living in
  an urban area, in the city for at least a year, hospitalised in the last 12 months with a
  known place of hospitalisation; 15.3% of them in the hometown, by a logistic equation whose
  probability limit, for the study's model, has the published odds ratios.
* Inequality study (seed 002, inequality.py): among rural-hukou, employed NCMS holders of
  working age, 6.32% visited an outpatient clinic in the last two weeks and 5.9% were
  hospitalised in 12 months, with income gradients solved so that the concentration indices
  of the expected use are the published -0.168 and -0.072.

Reconciling seeds 000 and 001: 4,018 rural-to-urban inpatients against 1,165 insured
inpatients treated in the city for illness cannot both hold unless most of seed 000's
hospitalisations are of another kind. The generator reads seed 001's sample as excluding
childbirth (its sample is 45.7% female, which childbirth admissions would not allow) and
gives seed 000's remaining current-city inpatients childbirth admissions or no social
health insurance. This is an assumption of the synthetic design, not a finding.

The studies are planted in this order, each around the rows the previous ones fixed, and
each returns its documented truth (written beside the release) and notes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from . import benefit, inequality, medical_return
from . import cmds2014_layout as layout
from .cmds2014_frame import background_population, sampling_frame, visits_of_everyone_else
from .release import Release
from .specs import study_models


def generate(settings: dict, published: dict, studies: dict, book) -> Release:
    """The whole synthetic release and the truth it was generated from.

    settings: datasets.cmds2014.generator (seed, n_respondents, benefit_scale,
    medical_return_scale); published: data/published/{benefit,medical_return,inequality}.yaml
    by study; studies: config entries, whose models the outcome equations are solved for;
    book: the codebook of the default layout (outcome equations are solved on covariates derived
    exactly as the pipeline derives them); with `layout: release` the same respondents are written
    in the real release's layout (cmds2014_release.py), which its own codebook reads into the same
    canonical variables.

    `benefit_scale` and `medical_return_scale` multiply a study's sample (recovery checks at
    100 times the published n); a scaled release serves that study's recovery check only.
    """
    benefit_scale, medical_return_scale = settings["benefit_scale"], settings["medical_return_scale"]
    if benefit_scale > 1 and medical_return_scale > 1:
        raise InputError(
            "datasets.cmds2014.generator: scale one study at a time (benefit_scale or medical_return_scale)."
        )
    for study in ("benefit", "medical_return"):  # before any work: the models the truth is solved for
        study_models(studies, study, "cmds2014")
    rng = np.random.default_rng(settings["seed"])
    pop = sampling_frame(settings["n_respondents"], rng)
    background_population(pop, rng)
    benefit_rows, truth, notes = benefit.plant(pop, published["benefit"], studies, rng, benefit_scale)
    truths = [truth.assign(study="benefit")]
    if benefit_scale == 1:
        mr_truth, mr_notes = medical_return.plant(
            pop, published["medical_return"], studies, rng, benefit_rows, book, medical_return_scale
        )
        truths.append(mr_truth)
        notes += mr_notes
    else:
        # The scaled benefit sample fills much of the file: seed 000's and 002's samples
        # cannot be planted beside it.
        notes.append(f"benefit_scale {benefit_scale}: medical-return and inequality samples not planted")
    if benefit_scale == 1 and medical_return_scale == 1:
        ineq_truth, ineq_notes = inequality.plant(
            pop, published["inequality"], rng, book, kept_out=medical_return.population(pop)
        )
        truths.append(ineq_truth)
        notes += ineq_notes
    visits_of_everyone_else(pop, rng)
    truth = pd.concat(truths, ignore_index=True)
    if settings.get("layout", "default") == "release":
        from . import cmds2014_release as release

        return Release(
            release.convert(pop[list(layout.VARIABLES)], settings["seed"]),
            truth,
            notes,
            file_label=release.FILE_LABEL,
            variable_labels=release.variable_labels(),
            value_labels=release.value_labels(),
            user_missing=release.user_missing(),
            compressed=True,
        )
    return Release(
        pop[list(layout.VARIABLES)],
        truth,
        notes,
        file_label=layout.FILE_LABEL,
        variable_labels=layout.variable_labels(),
        value_labels=layout.value_labels(),
        user_missing=layout.user_missing(),
        compressed=True,
    )

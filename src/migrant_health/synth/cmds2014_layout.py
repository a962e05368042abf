"""Layout of the synthetic CMDS 2014 release: variable names, labels, codes.

This is what a survey office publishes, written once here so that the generator
encodes with it and the tests can check data/codebooks/cmds2014.yaml against it.
The variable names are this project's own: the real release names its items
differently from wave to wave, which is why ingestion goes through a codebook.

Special codes follow the release's convention: 98 "don't know" and 99 "not
applicable" for coded items, 999998 and 999999 for amounts in yuan. They are
declared as SPSS user-missing values, so SPSS users see them as missing too.
"""

FILE_LABEL = "Synthetic CMDS 2014 (generated; not the real survey)"
DONT_KNOW, NOT_APPLICABLE = 98, 99
AMOUNT_DONT_KNOW, AMOUNT_NOT_APPLICABLE = 999998, 999999

YES_NO = {1: "Yes", 2: "No"}
SELECTED = {0: "Not selected", 1: "Selected"}
SPECIAL = {DONT_KNOW: "Don't know", NOT_APPLICABLE: "Not applicable"}
AMOUNT_SPECIAL = {AMOUNT_DONT_KNOW: "Don't know", AMOUNT_NOT_APPLICABLE: "Not applicable"}

# Reimbursement sources of seed 001's question "where did you receive reimbursement
# for your last hospitalization", in the order the paper lists them.
REIMBURSEMENT_SOURCES = {
    1: "Allowance from NCMS",
    2: "Allowance from UEBMI",
    3: "The employer",
    4: "The NCMS office",
    5: "The local health centres",
    6: "The commercial insurance",
    7: "Allowance from the family planning operation",
    8: "The family planning operation",
    9: "Else",
}
INSURANCE_ITEMS = {"ncms": "NCMS", "urbmi": "URBMI", "uebmi": "UEBMI", "other": "Other insurance"}

# name: (variable label, value labels or None for numbers, special codes)
VARIABLES: dict[str, tuple[str, dict | None, dict]] = {
    "id": ("Respondent identifier", None, {}),
    "prov": ("Province of current residence (provincial unit)", None, {}),
    "city": ("City of current residence", None, {}),
    "psu": ("Neighbourhood (sampling cluster)", None, {}),
    "wt": ("Sampling weight", None, {}),
    "q101b": ("Sex", {1: "Male", 2: "Female"}, {}),
    "q101c": ("Year of birth", None, {}),
    "q101d": (
        "Ethnicity",
        {1: "Han", 2: "Zhuang", 3: "Hui", 4: "Manchu", 5: "Uyghur", 6: "Miao", 7: "Other ethnic minority"},
        {},
    ),
    "q101e": (
        "Education",
        {
            1: "No schooling",
            2: "Primary school",
            3: "Junior high school",
            4: "Senior high school",
            5: "Technical secondary school",
            6: "College (3-year)",
            7: "University (4-year)",
            8: "Postgraduate",
        },
        {},
    ),
    "q101f": ("Hukou type", {1: "Agricultural", 2: "Non-agricultural", 3: "Unified resident"}, {}),
    "q101g": (
        "Marital status",
        {1: "Never married", 2: "First marriage", 3: "Remarried", 4: "Divorced", 5: "Widowed", 6: "Cohabiting"},
        {},
    ),
    "q101h": ("Province of hukou registration", None, {}),
    "q102": ("Worked for pay last week", YES_NO, {}),
    "q103": ("Monthly household income in the current city (yuan)", None, AMOUNT_SPECIAL),
    "q104": ("Household members living in the current city", None, {}),
    "q105": ("Type of current residence", {1: "Urban (neighbourhood committee)", 2: "Rural (village committee)"}, {}),
    "q106": (
        "Scope of migration",
        {1: "Across provinces", 2: "Across cities within a province", 3: "Across counties within a city"},
        {},
    ),
    "q107": (
        "Main reason for migrating",
        {
            1: "Work or business",
            2: "Following family members",
            3: "Marriage",
            4: "Housing or demolition",
            5: "Study or training",
            6: "Other",
        },
        {},
    ),
    "q108y": ("Year of arrival in the current city", None, {}),
    "q108m": ("Month of arrival in the current city", None, {}),
    "q109": ("Intends to settle here permanently", {1: "Yes", 2: "No", 3: "Not decided"}, {}),
    **{f"q201_{k}": (f"Holds {v}", SELECTED, {}) for k, v in INSURANCE_ITEMS.items()},
    **{
        f"q202_{k}": (
            f"Place of enrolment in {v}",
            {1: "Current city", 2: "Hometown (hukou place)", 3: "Elsewhere"},
            SPECIAL,
        )
        for k, v in INSURANCE_ITEMS.items()
    },
    "q301": ("Ill or injured in the last two weeks", YES_NO, {}),
    "q302": ("Visited an outpatient clinic in the last two weeks", YES_NO, SPECIAL),
    "q303": ("Hospitalised in the last 12 months", YES_NO, {}),
    "q304": (
        "Reason for the last hospitalisation",
        {1: "Illness", 2: "Injury or poisoning", 3: "Childbirth", 4: "Other"},
        SPECIAL,
    ),
    "q305": ("Place of the last hospitalisation", {1: "Current city", 2: "Hometown", 3: "Elsewhere"}, SPECIAL),
    "q306": (
        "Facility of the last hospitalisation",
        {
            1: "Primary care facility",
            2: "Secondary hospital",
            3: "Tertiary hospital",
            4: "Private hospital",
            5: "Other",
        },
        SPECIAL,
    ),
    "q307": ("Total cost of the last hospitalisation (yuan)", None, AMOUNT_SPECIAL),
    **{
        f"q308_{k}": (f"Reimbursement received from: {v}", SELECTED, {NOT_APPLICABLE: "Not applicable"})
        for k, v in REIMBURSEMENT_SOURCES.items()
    },
    "q309": ("Amount reimbursed by social health insurance (yuan)", None, AMOUNT_SPECIAL),
    "q310": (
        "Main reason for no reimbursement",
        {
            1: "Must or plan to go back to the hometown to claim",
            2: "Does not know the reimbursement process",
            3: "Not covered by the policy",
            4: "Other",
        },
        SPECIAL,
    ),
}


def variable_labels() -> dict[str, str]:
    return {name: label for name, (label, _, _) in VARIABLES.items()}


def value_labels() -> dict[str, dict[int, str]]:
    """Value labels per variable, special codes included, as SPSS stores them."""
    return {name: {**(codes or {}), **special} for name, (_, codes, special) in VARIABLES.items() if codes or special}


def user_missing() -> dict[str, list[int]]:
    """Special codes per variable, declared to SPSS as user-missing values."""
    return {name: sorted(special) for name, (_, _, special) in VARIABLES.items() if special}

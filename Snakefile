# Regenerates every table and figure of the studies in config.yaml.
# Run with `make` (or `.venv/bin/snakemake --profile profiles/default`).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/sample.smk"
include: "rules/models.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"
include: "rules/concentration.smk"
include: "rules/report.smk"


rule all:
    input:
        all_targets(),
    default_target: True

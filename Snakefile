# Regenerates every table and figure of the studies in config.yaml.
# Run with `make` (or `.venv/bin/snakemake --profile profiles/default`).
import sys

from snakemake.utils import min_version

from migrant_health.io.yamlfile import read_yaml
from migrant_health.errors import InputError
from migrant_health.snakemake_startup import read_configfiles_with_libyaml

min_version("9.0")

# Snakemake's own message for a YAML error names no line: read the file first.
try:
    read_yaml("config.yaml")
except InputError as e:
    sys.stderr.write(f"\nConfiguration error: {e}\n\n")
    sys.exit(1)

# Snakemake reads config.yaml with libyaml instead of yte's pure-Python loader (0.2 s of each start).
read_configfiles_with_libyaml()


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/sample.smk"
include: "rules/models.smk"
include: "rules/waves.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"
include: "rules/concentration.smk"
include: "rules/multiverse.smk"
include: "rules/report.smk"


rule all:
    input:
        all_targets(),
        wave_targets(),
    default_target: True

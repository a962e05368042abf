# Two commands do everything on a fresh machine with Python 3.11:
#   make        create .venv from requirements.lock and run the whole workflow (synthetic default)
#   make test   run the whole test suite, linter included (what CI runs, via .ci/run)
# Also: make test-fast (the edit-test loop: tests not marked slow), make lint, make bench,
# make unlock (after a killed run), make clean-results; after `make`: make check-documents (every
# table through pdflatex and LibreOffice: pages, overfull boxes, broken words), make screenshots
# (the report in headless Chromium at 1400 and 400 px), make report-snakemake (Snakemake's own
# report), make archive (a replication package: code at this commit and the results),
# make results-digest (accept the default run's results as the ones tests compare with).
# On SLURM (README, "Running on SLURM"): make cluster-env (the executor plugin, from
# requirements-cluster.lock), then .venv/bin/snakemake --workflow-profile profiles/cluster; make
# test-cluster runs the workflow on a single-node SLURM started on this machine (CI does).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CLUSTER_STAMP := $(VENV)/.cluster-installed-stamp
CORES  ?= 2
# One BLAS thread per process (jobs and tests run in parallel processes; see rules/common.smk).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: all workflow test test-fast lint bench unlock results-digest clean-results check-documents screenshots report-snakemake archive cluster-env test-cluster

all: workflow

# The stamp depends on the lock and the project metadata only, so re-running `make` does not
# reinstall anything. flock: two first-time `make` runs at once install one after the other
# (the second finds the stamp and does nothing) instead of corrupting .venv.
$(STAMP): requirements.lock pyproject.toml
	@flock .install.lock sh -c '\
	  if [ -f $(STAMP) ] && [ $(STAMP) -nt requirements.lock ] && [ $(STAMP) -nt pyproject.toml ]; then exit 0; fi; \
	  $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock && \
	  $(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . && \
	  touch $(STAMP)'

# The SLURM executor plugin (and its jobstep plugin, which runs each job inside its allocation),
# pinned in its own lock so that a local install stays as it is; pip check proves it fits the
# locked snakemake.
cluster-env: $(CLUSTER_STAMP)

$(CLUSTER_STAMP): $(STAMP) requirements-cluster.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-cluster.lock
	$(BIN)/pip check
	touch $(CLUSTER_STAMP)

# The workflow through profiles/cluster on a single-node SLURM started here (needs root and
# apt-get for slurm-wlm and munge; otherwise it says SKIPPED and why).
test-cluster: cluster-env
	bash tests/cluster/test_cluster.sh

workflow: $(STAMP)
	@$(BIN)/snakemake --cores $(CORES) || { status=$$?; \
	  if [ -n "$$(ls .snakemake/locks 2>/dev/null)" ]; then \
	    echo "If no other run is going on in this directory (a previous run was killed), run: make unlock, then make."; \
	  fi; exit $$status; }

unlock: $(STAMP)
	$(BIN)/snakemake --unlock

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Two pytest workers (pytest-xdist), a test file each at a time, in the suite's own order
# (tests/conftest.py): the session's fixtures (the synthetic release, a full workflow run) are
# built once and shared by the workers.
PYTEST := $(BIN)/python -m pytest -q -n $(CORES) --dist loadfile --no-loadscope-reorder

test: lint
	$(PYTEST)

test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

bench: $(STAMP)
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean-results:
	rm -rf results data/interim data/analytic

# After a change that moves a result on purpose: rerun the default workflow and accept its results
# (tests/test_results_digest.py compares every full run with them). Commit the digest with the change.
results-digest: workflow
	$(BIN)/python tests/results_digest.py results > tests/data/results.sha256

check-documents: $(STAMP)
	$(BIN)/python bench/check_documents.py

screenshots: $(STAMP)
	$(BIN)/python bench/screenshots.py

# Snakemake's own report: every table and figure by study, with its caption (rules/captions/).
report-snakemake: $(STAMP)
	$(BIN)/snakemake --report build/snakemake-report.html

# A replication package: the code at HEAD (git archive writes the commit into
# src/migrant_health/COMMIT) and the results of this checkout's last run (aggregates only).
archive:
	mkdir -p build
	git archive --format=tar --prefix=migrant_health/ -o build/migrant_health-code.tar HEAD
	tar -rf build/migrant_health-code.tar --transform 's,^,migrant_health/,' results
	gzip -nf build/migrant_health-code.tar
	@echo "build/migrant_health-code.tar.gz: code at $$(git describe --always --dirty) and results/"

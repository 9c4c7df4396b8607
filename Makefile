# `make test` and `make demo` work on a fresh clone: the first call creates .venv with the pinned
# OpenMMLab stack (mmcv is built once per machine and its wheel cached in ~/.cache/m2pt_mm).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Two pytest workers (pytest-xdist), one file each at a time so that a file's fixtures are built
# once; one thread per process, so the two workers and the tools they start share the 2 cores of
# the CI machine instead of oversubscribing them (and every process computes with the same thread
# count, which the bit-exact resume tests compare across processes).
PYTEST_WORKERS ?= 2
PYTEST := OMP_NUM_THREADS=1 $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile
# `make test` and `make test-all` lint first (ruff: 100 columns, pyflakes, import order; settings
# in pyproject.toml) and fail on any finding; `make lint` runs the lint alone.
LINT_PATHS := m2pt_mm tools tests configs studies

.PHONY: install lint test test-all demo clean-venv

$(STAMP): requirements/*.txt setup.py tools/install/bootstrap.sh tools/install/build_mmcv.sh
	VENV=$(VENV) bash tools/install/bootstrap.sh

install: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check $(LINT_PATHS)

test: $(STAMP) lint
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP) lint
	$(PYTEST) $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) tools/analysis/study.py studies/demo_digits.py

clean-venv:
	rm -rf $(VENV)

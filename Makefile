# vaelib — every target installs what it needs into .venv first (from nothing on a fresh clone).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# extras installed by every target; CI adds dist (Dask) so the cluster tests run: EXTRAS=notebooks,test,dist
EXTRAS ?= notebooks,test
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
export MPLBACKEND ?= Agg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test test-browser demo notebooks lab bench reference clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $(STAMP)

test: setup
	$(PY) -m pytest tests --ignore=tests/browser
ifneq ($(NOTEBOOKS),)
	$(PY) -m pytest --nbval $(NOTEBOOKS) --nbval-sanitize-with tests/nbval_sanitize.cfg
endif

# JupyterLab + headless Chromium tests (tests/browser): needs /usr/bin/chromium (apt-get install chromium),
# skips without it; playwright comes from the `browser` extra and drives the system Chromium.
test-browser: setup
	$(PY) -m pip install --quiet -e '.[notebooks,test,browser]'
	$(PY) -m pytest tests/browser -m browser

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

# The committed reference runs (reference/README.md): hours of CPU, resumable (re-run to finish).
REFERENCE_BETA := reference/beta_vae
reference: setup
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb --grid objective=H --grid beta=4,8,16,2,1 --seeds 0,1,2 \
		--out $(REFERENCE_BETA) --workers 2
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb -p objective B -p capacity_max 10 -p capacity_steps 20000 \
		--seeds 0,1,2 --out $(REFERENCE_BETA) --workers 2

clean:
	rm -rf $(VENV) .cache .hypothesis build *.egg-info

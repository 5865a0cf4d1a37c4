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

.PHONY: setup test test-browser demo notebooks lab bench reference reference-cyclical clean

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
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 \
		--ExecutePreprocessor.store_widget_state=False $(NOTEBOOKS)
	$(PY) tools/readme_figures.py $(NOTEBOOKS)
else
	@echo "no notebooks yet"
endif

lab: setup
	$(VENV)/bin/jupyter lab notebooks

bench: setup
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# The committed reference runs (reference/README.md): hours of CPU, resumable (re-run to finish);
# one run at a time (two side by side were 3.5x slower each on the 2-core development machine).
REFERENCE_BETA := reference/beta_vae
reference: setup
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb --grid objective=H --grid beta=4,8,16,2,1 --seeds 0,1,2 \
		--out $(REFERENCE_BETA) --workers 1
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb --grid objective=H --grid beta=1,2,4 --seeds 3,4,5 \
		--out $(REFERENCE_BETA) --workers 1
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb --grid objective=H --grid beta=2 --seeds 6,7,8 \
		--out $(REFERENCE_BETA) --workers 1
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb -p objective B -p capacity_max 10 -p capacity_steps 20000 \
		--seeds 0,1,2 --out $(REFERENCE_BETA) --workers 1
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb --grid objective=H --grid beta=2 -p steps 60000 \
		-p model_dir models/60000_steps --seeds 0 --out $(REFERENCE_BETA) --workers 1
	$(VENV)/bin/vaelib sweep $(REFERENCE_BETA)/run.ipynb --grid objective=H --grid beta=2 -p image_size 64 \
		--seeds 0 --out $(REFERENCE_BETA) --workers 1
	$(VENV)/bin/python $(REFERENCE_BETA)/prune_models.py

# The cyclical-annealing study of notebook 03 (reference/README.md): one factor varied per sweep, 3 seeds.
REFERENCE_CYCLICAL := reference/cyclical
CYCLICAL_SWEEP = $(VENV)/bin/vaelib sweep $(REFERENCE_CYCLICAL)/run.ipynb --seeds 0,1,2 --out $(REFERENCE_CYCLICAL) --workers 2
reference-cyclical: setup
	$(CYCLICAL_SWEEP) --grid monotonic=ramp,cycle,half,whole
	$(CYCLICAL_SWEEP) --grid cycles=2,4,8,16
	$(CYCLICAL_SWEEP) --grid steps=600,1200,2400,4800
	$(CYCLICAL_SWEEP) --grid ratio=0.25,0.5,0.75,1.0
	$(CYCLICAL_SWEEP) --grid lr_schedule=constant,fu
	$(CYCLICAL_SWEEP) --grid shape=cosine,logistic
	$(CYCLICAL_SWEEP) --grid hidden_dim=32,128,256
	$(CYCLICAL_SWEEP) --grid z_scale=0.3,0.6
	$(CYCLICAL_SWEEP) -p n_train 20000 -p vocab_size 1000 --grid monotonic=cycle,half
	$(CYCLICAL_SWEEP) -p data words -p n_train 20000 --grid monotonic=cycle,half

clean:
	rm -rf $(VENV) .cache .hypothesis build *.egg-info

# The README's two commands. Each sets itself up on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SCHEME ?= params/beijing_2016.yaml
# DATA empty: the scheme's demo data (data/raw/demo, or data/raw/demo_<scheme name> simulated on first use)
DATA   ?=
OUT    ?= reports/$(basename $(notdir $(SCHEME)))
SWEEP  ?= params/sweeps/grassroots_share.yaml
JOBS   ?= 2

.PHONY: report test venv bench demo clean sweep memo lab lint format

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "perflab needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make report: run every notebook on the bundled demo data (JOBS=2 kernels at a time); prints the HTML report's path
report: $(STAMP)
	$(BIN)/perflab run --scheme $(SCHEME) $(if $(strip $(DATA)),--data $(DATA)) --out $(OUT) --jobs $(JOBS)

## make memo: the advisory memo of the last `make report` (DIR=reports/<scheme name> by default)
memo: $(STAMP)
	$(BIN)/perflab memo $(if $(DIR),$(DIR),$(OUT))

## make lab: JupyterLab on the project, with the project's kernel (the .venv's python3)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=. notebooks/

## make sweep: run a sweep file (SWEEP=params/sweeps/NAME.yaml, JOBS=2 kernels at a time); prints its page's path
sweep: $(STAMP)
	$(BIN)/perflab sweep $(SWEEP) --jobs $(JOBS)

## make test: the whole suite, the notebooks included (nbval)
test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -q

## make lint: ruff's lint and format checks (make format rewrites the files)
lint: $(STAMP)
	$(BIN)/ruff check perflab tests bench notebooks
	$(BIN)/ruff format --check perflab tests bench notebooks

format: $(STAMP)
	$(BIN)/ruff check --fix perflab tests bench notebooks
	$(BIN)/ruff format perflab tests bench notebooks
	$(BIN)/jupytext --sync notebooks/*.ipynb

## make bench: the benchmarks (not part of the tests)
bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

## make demo: regenerate the bundled demo data (seed 2016)
demo: $(STAMP)
	rm -rf data/raw/demo
	$(BIN)/perflab simulate --out data/raw/demo --seed 2016 --gzip

clean:
	rm -rf reports data/processed/*/ .pytest_cache

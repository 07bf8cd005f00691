# Every target sets up what it needs: a fresh clone needs only `make build`, `make serve` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
BYTECODE := $(VENV)/.bytecode

.PHONY: build serve check test lint golden tools clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(RUN_STAMP)

# Where Python may not write bytecode (PYTHONDONTWRITEBYTECODE, set on some machines), it compiles the
# package again at every start: 0.1-0.18 s of each build. It is compiled here, as pip compiles what it installs.
$(BYTECODE): $(wildcard explainer/*.py) | $(BIN)/python
	$(BIN)/python -m compileall -q explainer
	touch $@

build: $(RUN_STAMP) $(BYTECODE)
	$(BIN)/python build.py build

serve: $(RUN_STAMP) $(BYTECODE)
	$(BIN)/python build.py serve

check: $(RUN_STAMP) $(BYTECODE)
	$(BIN)/python build.py check

tools:
	bash scripts/install-test-tools

lint: $(DEV_STAMP)
	$(BIN)/ruff check explainer tests bench build.py
	$(BIN)/ruff format --check explainer tests bench build.py

test: $(DEV_STAMP) tools lint
	$(BIN)/python -m pytest

golden: $(DEV_STAMP)
	$(BIN)/python -m tests.golden

clean:
	rm -rf site .cache tests/output .pytest_cache .ruff_cache

N ?= 1000
bench: $(RUN_STAMP) $(BYTECODE)
	$(BIN)/python bench/run.py --n $(N) --install-peers

# One front door: every target bootstraps .venv when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo example test bench conformance clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m pipelines.conflicts.demo

example: $(STAMP)
	$(BIN)/python examples/demo.py

.PHONY: etl
etl: $(STAMP)
	$(BIN)/python examples/warehouse_refresh/run.py

.PHONY: refresh
refresh: $(STAMP)
	$(BIN)/python -m pipelines.db_refresh.refresh

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

conformance: $(STAMP)
	$(BIN)/python bench/run_conformance.py

clean:
	rm -rf $(VENV) .stepflow

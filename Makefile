# Two commands: `make run` (set up and start the demo) and `make test` (set up and check everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MADOGUCHI_DATA_DIR ?= $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint typecheck audit unit bench bench-setup bench-issue clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[server,printer,kiosk,dev]'
	touch $(STAMP)

setup:
	bash packaging/bootstrap/system-deps.sh all
	$(MAKE) --no-print-directory $(STAMP)

run: setup
	$(BIN)/madoguchi demo --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Known vulnerabilities in the installed set (PyPI's advisory data). --strict: a package that
# could not be checked fails the run instead of passing unchecked.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --local --progress-spinner off

test:
	bash packaging/bootstrap/system-deps.sh test
	$(MAKE) --no-print-directory $(STAMP)
	bash packaging/bootstrap/services.sh
	$(MAKE) --no-print-directory lint typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

# PEER_URL=http://127.0.0.1:8100 adds a running MADO-queue to bench-issue's tables.
bench-setup:
	bash packaging/bootstrap/system-deps.sh bench
	$(MAKE) --no-print-directory $(STAMP)
	bash packaging/bootstrap/services.sh

bench: bench-setup
	$(BIN)/python bench/bench_queue.py
	$(BIN)/python bench/bench_issue.py $(if $(PEER_URL),--peer-url $(PEER_URL))

bench-issue: bench-setup
	$(BIN)/python bench/bench_issue.py $(if $(PEER_URL),--peer-url $(PEER_URL))

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

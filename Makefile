# Two commands do all set-up on a fresh machine:
#   make serve   run gradio-portal on http://127.0.0.1:8000 (SQLite file, one process)
#   make test    install what the tests need (Chromium, nginx from apt) and run every test,
#                then the unit and integration tests again on the lowest supported versions
# pyproject.toml declares the ranges gradio-portal supports; requirements/lock.txt the exact
# versions the venv gets (`make lock` adds what pyproject gained, keeping the rest).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/lock.txt
# The lowest versions: a venv of its own inside .venv, made anew when the ranges change.
LOWEST       := $(VENV)/lowest
LOWEST_STAMP := $(LOWEST)/.installed

.PHONY: serve test test-lowest bench lint lock system-deps clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c $(LOCK) --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[test]'
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/python scripts/lock.py

$(LOWEST_STAMP): pyproject.toml scripts/lowest_constraints.py scripts/audit_pins.py $(STAMP)
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install --quiet -c $(LOCK) --upgrade pip
	$(BIN)/python scripts/lowest_constraints.py > $(LOWEST)/constraints.txt
	$(LOWEST)/bin/pip install --quiet -c $(LOWEST)/constraints.txt -e '.[test]'
	touch $(LOWEST_STAMP)

# The unit and integration tests on the lower bound of every declared range.
test-lowest: $(LOWEST_STAMP) system-deps
	$(LOWEST)/bin/python -m pytest -p no:cacheprovider tests/unit tests/integration

serve: $(STAMP)
	$(BIN)/gradio-portal serve

system-deps:
	scripts/install-system-deps

test: $(STAMP) system-deps
	$(BIN)/python scripts/audit_pins.py
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest
	$(MAKE) test-lowest

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

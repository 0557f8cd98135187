# SMP Planner — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run run-cpts test test-fast lint lock bench screenshots clean

install: $(STAMP)

# Re-installs only when the lock file or the project metadata changed.
$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: install
	$(BIN)/smp db upgrade
	$(BIN)/smp seed demo --if-empty
	$(BIN)/smp serve --host 127.0.0.1 --port 8000

# The CPTS demo (Vienne, around Loudun) in a database of its own, on port 8001.
run-cpts: install
	SMP_DEPARTEMENTS=86 SMP_DATABASE_URL=sqlite:///var/cpts.sqlite3 $(BIN)/smp db upgrade
	SMP_DEPARTEMENTS=86 SMP_DATABASE_URL=sqlite:///var/cpts.sqlite3 $(BIN)/smp seed demo --cpts
	SMP_DEPARTEMENTS=86 SMP_DATABASE_URL=sqlite:///var/cpts.sqlite3 $(BIN)/smp serve --host 127.0.0.1 --port 8001

test: install
	$(BIN)/python -m pytest

# Regenerate the README's screenshots (docs/screenshots) from the running application.
screenshots: install
	SMP_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q tests/browser/test_screenshots.py

lint: install
	$(BIN)/ruff check app scheduling sites seeds tests
	$(BIN)/mypy app scheduling sites seeds

# Regenerate the lock files after changing pyproject.toml (needs the package registry):
# requirements.lock for production (the Docker image), requirements-dev.lock for development and CI.
lock:
	$(BIN)/python -m pip install --quiet uv==0.13.8
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock

bench: install
	$(BIN)/smp bench seed
	$(BIN)/smp bench match
	$(BIN)/smp bench rota

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

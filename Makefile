# Two commands matter: `make demo` and `make test` (see README.md).
# Both create the virtual environment in .venv when it is missing and bring it up
# to date when requirements.lock or pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit install clean audit-tools

demo: $(STAMP)
	$(BIN)/credgate demo

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) audit-tools
	$(BIN)/pytest

# graphql-http's GraphQL-over-HTTP audits run under Node (tests/http); without npm the
# audit test is skipped, saying why.
AUDIT_TOOLS := tests/http/node_modules/.installed

audit-tools:
	@if command -v npm >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(AUDIT_TOOLS); \
	else \
	  echo "npm not found: the GraphQL-over-HTTP audit (tests/http) will be skipped"; \
	fi

$(AUDIT_TOOLS): tests/http/package.json tests/http/package-lock.json
	cd tests/http && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "credgate needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/http/node_modules

# The README's two commands: `make dev` and `make test`. Everything else they need is installed here.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# Three test processes (pytest-xdist), each with its own Temporal server, worker, mail server,
# ports, task queue and SQLite file or PostgreSQL schema (tests/conftest.py); idle tests are handed
# out as processes free up (worksteal), the long-running files first (tests/conftest.py orders
# them). Much of the suite waits on Temporal, subprocesses and polls: two processes left about half
# of the second core idle (1.1 cores busy on average); three keep both busy (1.8), and the SQLite
# pass went from 6:13 to 5:28 with 120 more tests.
# --durations: the 25 slowest tests and fixtures of each run, to see where the time goes.
PYTEST := $(VENV)/bin/python -m pytest -q -n 3 --dist worksteal --durations=25
# The guards: allowed imports (pyproject.toml's [tool.importlinter] contracts), then ruff.
# --no-cache: grimp's cache once answered KEPT here for a cycle a fresh clone reports (after the
# foyer/* symlinks appeared); a full read takes under a second.
LINT_IMPORTS := $(VENV)/bin/lint-imports --no-cache
RUFF := $(VENV)/bin/ruff check .

.PHONY: venv chromium system-packages dev lint test bench clean

# The virtualenv with Foyer and its test extras; redone whenever pyproject.toml changes.
venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

# The system packages tests need, from Debian: Chromium, driven by the browser tests through
# Playwright (nothing downloaded by Playwright), and xmlsec1, which pysaml2 verifies SAML signatures
# with (Foyer needs it in production too, for SAML federation).
SYSTEM_PACKAGES := /usr/bin/chromium:chromium /usr/bin/xmlsec1:xmlsec1
system-packages:
	@missing=; for entry in $(SYSTEM_PACKAGES); do \
	  [ -x "$${entry%%:*}" ] || missing="$$missing $${entry#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

chromium: system-packages

dev: venv
	$(VENV)/bin/foyer dev

# The import contracts and ruff, alone (make test runs them too).
lint: venv
	$(LINT_IMPORTS)
	$(RUFF)

# The guards (import contracts, ruff), then the whole suite on SQLite, then on PostgreSQL when
# FOYER_TEST_POSTGRES_URL is set; every step runs even when an earlier one fails, and any failing
# fails the target. An unreachable PostgreSQL fails the run at once; it is never skipped.
test: venv system-packages
	@if [ -n "$${FOYER_TEST_POSTGRES_URL:-}" ]; then \
	  $(VENV)/bin/python -c 'import os, psycopg; psycopg.connect(os.environ["FOYER_TEST_POSTGRES_URL"], connect_timeout=10).close()' \
	    || { echo "make test: PostgreSQL at FOYER_TEST_POSTGRES_URL is unreachable" >&2; exit 1; }; \
	fi
	@status=0; \
	echo "== Imports: $(LINT_IMPORTS)"; \
	$(LINT_IMPORTS) || status=1; \
	echo "== Ruff: $(RUFF)"; \
	$(RUFF) || status=1; \
	echo "== SQLite: $(PYTEST)"; \
	$(PYTEST) || status=1; \
	if [ -n "$${FOYER_TEST_POSTGRES_URL:-}" ]; then \
	  echo "== PostgreSQL: FOYER_TEST_DATABASE=postgres $(PYTEST)"; \
	  FOYER_TEST_DATABASE=postgres $(PYTEST) || status=1; \
	fi; \
	exit $$status

# Invitations and entitlement management, then a 10,000-row campaign; each against the raw
# ceiling of its own Temporal server measured in the same run; the invitation figure with metrics
# and tracing off and on (bench/observability.py); then the same on the production topology
# (bench/topology.py: PostgreSQL, 2 `foyer api` + 2 `foyer worker` processes) at
# FOYER_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test); then the OpenID
# Provider's token endpoint against the signing ceiling of its own process (bench/openid.py), on
# SQLite and on PostgreSQL.
# Figures are appended to bench/RESULTS.md.
bench: venv
	$(VENV)/bin/python -m bench
	$(VENV)/bin/python -m bench.campaign
	$(VENV)/bin/python -m bench.observability
	$(VENV)/bin/python -m bench.production
	$(VENV)/bin/python -m bench.openid
	$(VENV)/bin/python -m bench.openid --database postgres
	$(VENV)/bin/python -m bench.access_reviews
	$(VENV)/bin/python -m bench.access_reviews --database postgres

# Build and test leftovers. The dev stack's state (.foyer/: database, Temporal, mail, admin token)
# is kept; `rm -rf .foyer` resets it.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache .grimp_cache build *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +

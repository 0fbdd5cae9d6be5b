# MyCareer: common tasks. `make run` for a first run, `make test` before pushing.
#
#   make run            install, migrate, load demo data, start web + worker + scheduler
#   make test           lint, migrations check and the whole test suite on SQLite
#   make test-postgres  the backwards-compatible migrations check and the test suite on a
#                       throwaway PostgreSQL server
#   make lint-migrations  only that check: can each migration run with the site up?
#   make screenshots    the browser journeys, writing the README's docs/screenshots/*.png
#   make check-deploy   Django's deployment checks with production-like settings
#   make bench          benchmarks on SQLite and PostgreSQL (100,000 organisations)
#   make bench-quick    the same with 10,000 organisations
#   make typecheck      mypy with django-stubs over mycareer/ (also part of lint and test)
#   make lint | clean
#
# Extra pytest arguments: make test PYTEST_ARGS="-x -k bookings"
# The suite runs in parallel, one database per worker: make test TEST_WORKERS=4 (or 0).
# Hypothesis draws the same examples every run (profile `ci`); to explore new ones:
# make test HYPOTHESIS_PROFILE=dev

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.uv-sync.stamp
PYTEST_ARGS ?=
TEST_WORKERS ?= auto
HYPOTHESIS_PROFILE ?= ci
export HYPOTHESIS_PROFILE
PYTEST      := $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal

# Used ONLY by `make check-deploy` to satisfy Django's SECRET_KEY checks.
# It is not a secret and must never be used by a running site.
CHECK_DEPLOY_ONLY_SECRET_KEY := RV6PPLIWEwgMdpwZWnOSv50ygEKx5X3M69xi8vnYFHneMZKNTU9nu580gUJM

.PHONY: help venv install run lint lint-migrations typecheck test test-postgres screenshots check-deploy clean chromium xmlsec1 redis-server bench bench-quick

help:
	@echo "Targets: run, test, test-postgres, screenshots, check-deploy, bench, bench-quick, lint, typecheck, install, clean"

venv install: $(STAMP)

# Re-sync only when the lock file (or pyproject) changes, or .venv is missing.
$(STAMP): uv.lock pyproject.toml
	@if uv --version >/dev/null 2>&1; then uv=uv; \
	elif python3 -m uv --version >/dev/null 2>&1; then uv="python3 -m uv"; \
	else \
	  echo "uv not found: installing it with pip"; \
	  python3 -m pip install uv || python3 -m pip install --user --break-system-packages uv; \
	  uv="python3 -m uv"; \
	fi; \
	echo "UV_PYTHON_DOWNLOADS=never $$uv sync --frozen --python-preference only-system"; \
	UV_PYTHON_DOWNLOADS=never $$uv sync --frozen --python-preference only-system
	@touch $@

run: $(STAMP)
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Starting web (http://127.0.0.1:8000), task worker and scheduler; Ctrl-C stops all."
	$(VENV)/bin/honcho start -f Procfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(MAKE) --no-print-directory typecheck

# Strict on services and selectors, lenient elsewhere: see [tool.mypy] in pyproject.toml.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Debian's chromium for the Playwright tests (never `playwright install`).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian chromium for browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "WARNING: /usr/bin/chromium is missing and we are not root; browser tests will fail." >&2; \
	    echo "WARNING: install it with: sudo apt-get install chromium" >&2; \
	  fi; \
	fi

# xmlsec1, which the loopback SAML identity provider in the single sign-on tests signs
# with (pysaml2 calls the program; MyCareer's own side uses the xmlsec wheel).
xmlsec1:
	@if ! command -v xmlsec1 >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian xmlsec1 for the single sign-on tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1; \
	  else \
	    echo "WARNING: xmlsec1 is missing and we are not root; SAML tests will fail." >&2; \
	    echo "WARNING: install it with: sudo apt-get install xmlsec1" >&2; \
	  fi; \
	fi

# Debian's redis-server, which the several-machines test starts on loopback for its
# Redis variant (the shared cache and the task queue on Redis, as CACHE_URL and
# TASKS_URL can name).
redis-server:
	@if ! command -v redis-server >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian redis-server for the several-machines test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
	  else \
	    echo "WARNING: redis-server is missing and we are not root; the Redis variant will fail." >&2; \
	    echo "WARNING: install it with: sudo apt-get install redis-server" >&2; \
	  fi; \
	fi

test: $(STAMP) chromium xmlsec1
	@$(MAKE) --no-print-directory lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PYTEST) $(PYTEST_ARGS)

test-postgres: $(STAMP) chromium xmlsec1 redis-server
	@$(MAKE) --no-print-directory lint-migrations
	scripts/with-postgres.sh $(PYTEST) $(PYTEST_ARGS)

# Migrations that the previous release's code can run beside (no dropped or renamed
# columns, no new NOT NULL without a default...): see [tool.django_migration_linter].
lint-migrations: $(STAMP)
	scripts/with-postgres.sh $(PY) manage.py lintmigrations --quiet ok ignore

# The browser journeys leave the tracked pictures alone unless asked to retake them.
screenshots: $(STAMP) chromium
	MYCAREER_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest e2e -k desktop $(PYTEST_ARGS)

check-deploy: $(STAMP)
	DEBUG=0 \
	SECRET_KEY=$(CHECK_DEPLOY_ONLY_SECRET_KEY) \
	ALLOWED_HOSTS=mycareer.example.ac.uk \
	SECURE_SSL_REDIRECT=1 \
	$(PY) manage.py check --deploy --fail-level WARNING

# Figures, not tests: each writes the table to docs/benchmarks.md (see bench/).
bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) var/*.sqlite3*

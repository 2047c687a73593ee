# Pantau developer tasks. `make` alone lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMPS := .make-stamps
PYTEST_ARGS ?=
# Three test processes (one file each at a time): the slow files' waits leave a core idle in the first minutes, then
# two cores are busy; a fourth process gained nothing (docs/performance.md, "eleventh session").
PYTEST_WORKERS ?= -n 3 --dist loadfile --no-loadscope-reorder
BENCH_ARGS ?=
# Pantau's own modules compiled to bytecode before a test run. Where PYTHONDONTWRITEBYTECODE is set, nothing else
# writes it, and every app a test builds compiled its page modules again (Dash executes them anew for each app), as
# every service process a test starts compiled the whole project (a tenth of a second each).
COMPILE := $(VPY) -m compileall -q -j 0 -x '(^|/)(\.venv[^/]*|\.git|var)(/|$$)' .
# A test run's temporary files (the services' data, the test databases, SQLite copies, Chromium's profiles) in a
# folder of its own in memory, when /dev/shm has 4 GB free, removed afterwards (its exit status kept). On this
# kind of virtual disk, creating a test database cost PostgreSQL 0.3 s of kernel time, in memory 0.03 s.
IN_MEMORY_TMPDIR := tmp=""; \
	if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$$(df -Pk /dev/shm | awk 'NR == 2 {print $$4}')" -gt 4194304 ]; then \
	  tmp="$$(mktemp -d /dev/shm/pantau-test.XXXXXX)" && chmod 1777 "$$tmp"; \
	fi; \
	trap '[ -z "$$tmp" ] || rm -rf "$$tmp"' EXIT; \
	TMPDIR="$${tmp:-$${TMPDIR:-/tmp}}"
SYSTEM_PACKAGES := postgresql redis-server mosquitto chromium chromium-driver chromium-headless-shell poppler-utils

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv install system-deps run test screenshots lint bench db-upgrade

help: ## list the targets
	@echo "Pantau — make targets:"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'
	@echo "Variables: PYTEST_ARGS='...' and PYTEST_WORKERS='-n 3 --dist loadfile --no-loadscope-reorder' (make test; PYTEST_WORKERS= for one process), BENCH_ARGS='...' (make bench), PYTHON=python3"

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)

$(STAMPS)/install: pyproject.toml $(VENV)/pyvenv.cfg
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[dev]'
	@mkdir -p $(STAMPS)
	@touch $@

# The web scanner of tests/test_scanner.py, in a virtualenv of its own: its pinned dependencies clash with ours.
SCAN_VENV := .venv-scan
WAPITI_VERSION := 3.2.3
SCANNER := $(STAMPS)/scanner-$(WAPITI_VERSION)

$(SCANNER):
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet 'wapiti3==$(WAPITI_VERSION)'
	@mkdir -p $(STAMPS)
	@touch $@

venv: $(STAMPS)/install ## create .venv and install the project with its dev extras (redone when pyproject.toml changes)

install: $(STAMPS)/install ## same as venv

system-deps: ## install missing Debian packages: postgresql redis-server mosquitto chromium chromium-driver chromium-headless-shell poppler-utils
	@set -eu; \
	has() { command -v "$$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$$1" ] || [ -x "/sbin/$$1" ]; }; \
	missing=""; \
	pg_bindir="$$(pg_config --bindir 2>/dev/null || true)"; \
	if ! { [ -n "$$pg_bindir" ] && [ -x "$$pg_bindir/postgres" ]; } \
	   && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then missing="$$missing postgresql"; fi; \
	has redis-server || missing="$$missing redis-server"; \
	has mosquitto || missing="$$missing mosquitto"; \
	has chromium || missing="$$missing chromium"; \
	has chromedriver || missing="$$missing chromium-driver"; \
	has chromium-headless-shell || missing="$$missing chromium-headless-shell"; \
	has pdftoppm || missing="$$missing poppler-utils"; \
	if [ -z "$$missing" ]; then echo "system-deps: all present ($(SYSTEM_PACKAGES))"; exit 0; fi; \
	echo "system-deps: missing:$$missing"; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "system-deps: no apt-get here; install these yourself:$$missing" >&2; exit 1; fi; \
	sudo=""; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; \
	  else echo "system-deps: not root and no sudo; install these yourself:$$missing" >&2; exit 1; fi; \
	fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing </dev/null

run: $(STAMPS)/install ## run the embedded all-in-one demo (python app.py)
	$(VPY) app.py

test: $(STAMPS)/install $(SCANNER) system-deps ## check the import layers, then run the test suite (real PostgreSQL, Redis, Mosquitto, Chromium, the wapiti scanner)
	$(VENV)/bin/lint-imports
	$(COMPILE)
	$(IN_MEMORY_TMPDIR) $(VPY) -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

screenshots: $(STAMPS)/install system-deps ## run the browser tests and refresh the pictures in docs/screenshots
	$(COMPILE)
	$(IN_MEMORY_TMPDIR) PANTAU_DOC_SCREENSHOTS=1 $(VPY) -m pytest $(PYTEST_WORKERS) -m browser $(PYTEST_ARGS)

lint: $(STAMPS)/install ## ruff check and the import-layer contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMPS)/install ## run every bench/*.py (not _*.py), keep going, fail at the end if one failed
	@failed=""; ran=0; \
	for script in bench/*.py; do \
	  [ -e "$$script" ] || continue; \
	  case "$$(basename "$$script")" in _*) continue ;; esac; \
	  ran=$$((ran + 1)); \
	  echo "=== $$script"; \
	  PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" $(VPY) "$$script" $(BENCH_ARGS) || failed="$$failed $$script"; \
	done; \
	if [ "$$ran" -eq 0 ]; then echo "bench: no benchmarks in bench/"; fi; \
	if [ -n "$$failed" ]; then echo "bench: FAILED:$$failed" >&2; exit 1; fi

db-upgrade: $(STAMPS)/install ## apply database migrations (python -m data.migrate)
	$(VPY) -m data.migrate

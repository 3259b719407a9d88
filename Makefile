# supplytrace — every target installs what it needs into the checkout, idempotently.
#   make demo     the whole story on a local devnet, then the verification page (both keep running;
#                 `make demo-stop` ends them)
#   make test     lint, type-check, and the test suite on anvil
#   make bench    gas and speed figures -> bench/results.json
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SOLC_VERSION := $(shell sed -n 's/^  version: \([0-9.]*\)$$/\1/p' ape-config.yaml | head -n1)

export SOLCX_BINARY_PATH := $(CURDIR)/.solc
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install compile artifact test lint demo demo-stop bench clean postgres chromium

help:
	@echo "make demo | demo-stop | test | lint | bench | clean"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required (found %s); set PYTHON=python3.11" % sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# `npm ci`: exactly the locked versions, and the lock file is never rewritten (`git status` stays
# clean). The lock lists anvil/cast binaries for every platform as optional dependencies, each
# with its integrity hash, as `npm install` writes it; npm installs only this platform's.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@test -x node_modules/.bin/anvil || { echo "error: anvil was not installed (npm @foundry-rs/anvil)"; exit 1; }
	touch $@

$(SOLCX_BINARY_PATH)/solc-v$(SOLC_VERSION): node_modules/.installed tools/install-solc.sh tools/solc-js-wrapper.cjs
	tools/install-solc.sh $(SOLC_VERSION)

# OpenZeppelin's Solidity sources only (see ape-config.yaml: ape scans at most 500 contract files).
OZ_DEP := .deps/openzeppelin-contracts
$(OZ_DEP)/.installed: node_modules/.installed
	rm -rf $(OZ_DEP) && mkdir -p $(OZ_DEP)
	cd node_modules/@openzeppelin/contracts && find . -name '*.sol' -exec cp --parents {} $(CURDIR)/$(OZ_DEP)/ \;
	cp node_modules/@openzeppelin/contracts/package.json $(OZ_DEP)/
	touch $@

install: $(VENV)/.installed node_modules/.installed $(SOLCX_BINARY_PATH)/solc-v$(SOLC_VERSION) $(OZ_DEP)/.installed

compile: install
	ape compile

# The compiled registry the package ships (supplytrace/core/abi/): run after changing a contract,
# then commit the file (tests/core/test_abi.py fails while it differs from the build).
artifact: compile
	$(PY) tools/export-artifact.py

lint: install
	ruff check supplytrace scripts tests bench
	ruff format --check supplytrace scripts tests bench
	mypy
	mypy --strict -p supplytrace.core -p supplytrace.chain
	lint-imports

# The indexer's tests start a throwaway PostgreSQL server (initdb + pg_ctl, as the postgres user
# when run as root); install Debian's package when neither PATH nor /usr/lib/postgresql has them.
postgres:
	@if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing PostgreSQL (Debian's postgresql package) for the indexer tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	else echo "error: PostgreSQL is needed for the tests: install Debian's postgresql package"; exit 1; fi

# The browser test (tests/web/test_browser.py) drives Debian's Chromium through Playwright; it never
# downloads a browser (no `playwright install`). Install Debian's package when it is missing.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Chromium (Debian's chromium package) for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "error: the browser test needs Chromium: install Debian's chromium package"; exit 1; fi

test: compile lint postgres chromium
	ape test tests

# The whole story: devnet, deployment, brand, lots, handoffs, sale, recall, QR codes and a label
# sheet in demo-output/, then the verification page on SUPPLYTRACE_RESOLVER (default
# http://127.0.0.1:8000); both keep running. demo-output/summary.json lists the cases to open.
demo: compile
	supplytrace demo

demo-stop: install
	supplytrace serve --stop
	supplytrace devnet down

bench: compile postgres
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 || \
	  echo "warning: wrk (Debian's package) is not installed: the page's figures under load are skipped"
	$(PY) -m bench.run

clean:
	rm -rf .build contracts/.cache .deps .solc $(VENV) node_modules

# supplytrace — every target installs what it needs into the checkout, idempotently.
#   make demo     the whole story on a local devnet (anvil keeps running; `make demo-stop` ends it)
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

.PHONY: help install compile test lint demo demo-stop bench clean

help:
	@echo "make demo | demo-stop | test | lint | bench | clean"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required (found %s); set PYTHON=python3.11" % sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# `npm install` rather than `npm ci`: the lock file lists anvil/cast binaries for every platform
# as optional dependencies, and `npm ci` fails when a registry mirror lacks the other platforms'
# packages; `npm install` keeps the locked versions and skips what this platform does not need.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
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

lint: install
	ruff check supplytrace scripts tests bench
	ruff format --check supplytrace scripts tests bench
	mypy

test: compile lint
	ape test tests

demo: compile
	supplytrace demo

demo-stop: install
	supplytrace devnet down

bench: compile
	$(PY) -m bench.run

clean:
	rm -rf .build contracts/.cache .deps .solc $(VENV) node_modules

# ml-cicd: the template's own commands. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# Outside this repository: a bake inside a git work tree gets no repository of its own.
DEMO_DIR ?= $(or $(TMPDIR),/tmp)/ml-cicd-demo
export DVC_NO_ANALYTICS := 1
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup test demo bench clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $(STAMP)

setup: $(STAMP) ## Create .venv with the template's test tools

test: setup ## Run the template's test suite (bakes, hooks, the baked project's gates)
	$(BIN)/pytest -n 2 --dist loadfile

demo: setup ## Bake with defaults into $(DEMO_DIR), install it, run its DVC pipeline, show metrics
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	PATH="$(BIN):$$PATH" $(MAKE) -C $(DEMO_DIR)/ml-project setup repro
	cd $(DEMO_DIR)/ml-project && .venv/bin/dvc push

bench: setup ## Time bakes, the baked pipeline and the baked test suite
	$(BIN)/python benchmarks/bench.py

clean: ## Remove .venv, caches and the demo
	rm -rf $(VENV) .cache .pytest_cache $(DEMO_DIR)

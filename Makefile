# ml-cicd: the template's own commands. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# `make bake`: cookiecutter and cruft alone, for making projects.
BAKE_VENV ?= .venv-bake
# Outside this repository: a bake inside a git work tree gets no repository of its own.
DEMO_DIR ?= $(or $(TMPDIR),/tmp)/ml-cicd-demo
DEMO_PROJECT := $(DEMO_DIR)/ml-project
export DVC_NO_ANALYTICS := 1
export UV_PYTHON_DOWNLOADS := never

.PHONY: help bake setup test test-fast demo bench clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'
	@echo "  (make demo DEMO_DIR=... bakes elsewhere; default $(DEMO_DIR))"

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $(STAMP)

$(BAKE_VENV)/.installed: requirements-bake.txt
	python3 -m venv $(BAKE_VENV)
	$(BAKE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-bake.txt
	touch $@

bake: $(BAKE_VENV)/.installed ## Create .venv-bake with cookiecutter and cruft only, to make projects
	@echo "Make a project with (from the directory that will hold it):"
	@echo "  $(abspath $(BAKE_VENV))/bin/cruft create --checkout v<release> https://github.com/<owner>/ml-cicd"
	@echo "or, from this clone: $(abspath $(BAKE_VENV))/bin/cookiecutter $(CURDIR)"

setup: $(STAMP) ## Create .venv with the template's test tools

test: setup ## Run the template's test suite (bakes, hooks, the baked project's gates)
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

test-fast: setup ## The tests without act, Chromium or the baked virtualenv (under a minute)
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not slow"

demo: setup ## Bake with defaults into a scratch directory, train, commit, push
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	ML_CICD_NEXT_STEPS=0 $(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	PATH="$(BIN):$$PATH" $(MAKE) -C $(DEMO_PROJECT) setup repro
	git -C $(DEMO_PROJECT) add uv.lock dvc.lock reports data models
	git -C $(DEMO_PROJECT) -c user.name="ml-cicd demo" -c user.email=demo@example.com \
		commit --quiet -m "Train the first model"
	$(MAKE) -C $(DEMO_PROJECT) push
	@echo
	@echo "The demo project is $(DEMO_PROJECT): trained, committed, pushed."
	@echo "  cd $(DEMO_PROJECT) && make help"

bench: setup ## Time bakes, the baked pipeline and the baked test suite
	PYTHONPATH="$(CURDIR)/tests:$(CURDIR)/benchmarks" $(BIN)/python benchmarks/bench.py

clean: ## Remove .venv, caches and the demo
	rm -rf $(VENV) $(BAKE_VENV) .cache .pytest_cache $(DEMO_DIR)

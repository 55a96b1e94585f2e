# Hiroba: `make run` serves a demo on http://127.0.0.1:5000, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run test install dev translations lint lock bench audit clean merge-driver

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# requirements*.txt name what we use; requirements*.lock pin everything they pull in, with
# hashes, so every machine installs the same files (`make lock` after editing a .txt).
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock $(VENV)/.installed
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d app/translations >/dev/null

run: install translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	$(BIN)/flask serve --host 127.0.0.1 --port $(PORT)

lint: dev
	$(BIN)/ruff check .

LOCK := $(BIN)/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-header \
	--no-emit-index-url --no-emit-find-links
lock: dev
	$(LOCK) -o requirements.lock requirements.txt
	$(LOCK) -c requirements.lock -o requirements-dev.lock requirements-dev.txt
	$(LOCK) -c requirements.lock -o requirements-redis.lock requirements-redis.txt

test: dev translations lint
	scripts/test.sh

bench: dev translations
	$(BIN)/python bench/cluster_scale.py
	$(BIN)/python bench/page_render.py
	$(BIN)/python bench/umap_cost.py
	$(BIN)/python bench/web_load.py

merge-driver:  # merge the gettext catalogs message by message (.gitattributes)
	git config merge.po.driver '$(BIN)/python scripts/merge_po.py %O %A %B'

audit: dev
	scripts/audit.sh

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

# Two stamps: a fresh clone's `make run` installs only what production runs (requirements.txt);
# `make test`, `make lint` and `make docs` add the tests, lint and docs tools (requirements-dev.txt).
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: run test chaos lint format docs docs-serve worker beat messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --no-compile: Python compiles a module when a process first imports it, instead of pip compiling
# every module of every package at install time (about 110 MB of .pyc, most of it never imported).
$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.txt
	touch $@

# requirements-dev.txt starts with `-r requirements.txt`, so the runtime is installed too.
$(DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -r requirements-dev.txt
	touch $(RUNTIME) $@

# gunicorn on the embedded default (SQLite, background work in the web process): see bin/closeloop.
run: $(RUNTIME)
	bin/closeloop web

test: $(DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Faults injected into live workers, a throwaway PostgreSQL cluster and a Redis of its own (tests/chaos; about
# 8 min on a busy 2-core machine). One fault: make chaos PYTEST_ARGS="-k redis".
chaos: $(DEV)
	$(BIN)/python tests/chaos/run.py $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The French catalogue of the staff pages (docs/development.md, "Translations"): collect every marked string
# into locale/fr/LC_MESSAGES/django.po, then, once its new entries are translated, compile the .mo that is
# committed beside it. Needs GNU gettext (apt install gettext); running the app does not.
messages: $(DEV)
	$(BIN)/python manage.py makemessages -l fr --add-location=file --no-obsolete --no-wrap \
		--ignore=.venv --ignore=node_modules --ignore=site --ignore=staticfiles --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages -l fr

# The documentation site (mkdocs.yml, docs/); --strict fails on a broken link or a page missing from nav.
docs: $(DEV)
	$(BIN)/mkdocs build --strict

docs-serve: $(DEV)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

worker: $(RUNTIME)
	bin/closeloop worker

beat: $(RUNTIME)
	bin/closeloop beat

# The two commands of the README: `make book` and `make test`.
# Each sets up what it needs (pinned venv, offline MathJax, student notebooks) first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# Where MathJax is served from: a folder listed in html_static_path (not book/_static,
# where Jupyter Book would add every .js file as a <script> tag).
MATHJAX := _static_mathjax/mathjax/tex-chtml.js
COURSE  ?= course
JB_FLAGS := -W -n --keep-going

.PHONY: book test lint format notebooks venv clean help
.DEFAULT_GOAL := help

help:
	@echo "make book   build the website into _build/html"
	@echo "make test   run the whole test suite (builds the book first)"
	@echo "make lint   ruff check and format check"
	@echo "make clean  remove everything generated"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(MATHJAX): node_modules/.installed
	rm -rf _static_mathjax/mathjax
	mkdir -p _static_mathjax
	cp -r node_modules/mathjax/es5 _static_mathjax/mathjax
	# latest.js would fetch "the newest MathJax" from a CDN: never serve it.
	rm -f _static_mathjax/mathjax/latest.js

notebooks: venv
	PATH="$(abspath $(BIN)):$$PATH" $(PY) -m autograder release --course $(COURSE)

book: venv $(MATHJAX) notebooks
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build . $(JB_FLAGS)

test: book
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH="$(abspath $(BIN)):$$PATH" $(PY) -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf _build _static_mathjax $(COURSE) .jupyter_cache test-artifacts

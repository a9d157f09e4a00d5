# Two commands on a fresh machine:  make app  (run the officer's app)  and  make test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: app test install index bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## Run the app on the shipped corpus (builds the index on first start, with progress).
app: install
	$(PY) -m streamlit run app.py

## Run all tests (unit and integration, including the real model and the browser test).
test: install
	$(PY) -m pytest

## Build or update the index from corpus/ (incremental).
index: install
	$(PY) -m indexer build --corpus corpus

bench: install
	$(PY) -m bench

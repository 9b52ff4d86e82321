# Two entry points: `make demo` (sandbox + partition walkthrough) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	PATH="$(abspath $(VENV))/bin:$$PATH" ./scripts/demo.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest

bench: $(VENV)/.installed
	$(PY) bench/partition_default_drain.py
	$(PY) bench/cli_startup.py

clean:
	rm -rf $(VENV) dist build

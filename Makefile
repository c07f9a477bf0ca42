# Two commands for a newcomer: `make serve` and `make test`. Both create .venv on first use.
PYTHON ?= python3
# Silence the theme's end-of-life banner in our logs.
export NO_MKDOCS_2_WARNING := 1
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: serve build test update bench clean

$(INSTALLED): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

serve: $(INSTALLED)  ## build, verify and serve the site on http://127.0.0.1:8000, rebuilding on change
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(INSTALLED)  ## the strict build: fails on any changed output, error, timeout or broken link
	$(BIN)/mkdocs build --strict

test: build  ## the strict build, then every test (pages uncached, engine, README and CONTRIBUTING examples)
	$(BIN)/python -m pytest

update: $(INSTALLED)  ## write what the blocks print into the pages: make update [PAGE=docs/gradients.md]
	$(BIN)/python -m pytest -p no:markdown-docs --update-outputs \
		$(if $(PAGE),"tests/test_pages.py::test_page_outputs[$(PAGE)]",tests/test_pages.py)

bench: $(INSTALLED)  ## build and test timings as ratios, on this machine, in one run
	$(BIN)/python tools/bench.py

clean:
	rm -rf site .cache

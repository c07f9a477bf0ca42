# Two commands for a newcomer: `make serve` and `make test`. Both create .venv on first use.
PYTHON ?= python3
# Silence the theme's end-of-life banner in our logs.
export NO_MKDOCS_2_WARNING := 1
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

NODE_TOOLS := node_modules/.package-lock.json

.PHONY: serve build test update bench clean browser

$(INSTALLED): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(NODE_TOOLS): package.json package-lock.json  # axe-core for the browser tests, Lighthouse for make bench
	npm ci --no-audit --no-fund --loglevel=error

browser:  # Chromium for the browser tests: Debian's where it can be installed, else Playwright's own
	@bash tools/install-chromium.sh $(BIN)

serve: $(INSTALLED)  ## build, verify and serve the site on http://127.0.0.1:8000, rebuilding on change
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(INSTALLED)  ## the strict build: fails on any changed output, error, timeout or broken link
	$(BIN)/mkdocs build --strict

test: build $(NODE_TOOLS) browser  ## the strict build, then every test: pages uncached, engine, notebooks, browser, spelling
	$(BIN)/python -m pytest

update: $(INSTALLED)  ## write what the blocks print into the pages: make update [PAGE=docs/gradients.md]
	$(BIN)/python -m pytest -p no:markdown-docs --update-outputs \
		$(if $(PAGE),"tests/test_pages.py::test_page_outputs[$(PAGE)]",tests/test_pages.py)

bench: $(INSTALLED) $(NODE_TOOLS) browser  ## timings as ratios, page weights and Lighthouse scores, in one run
	$(BIN)/python tools/bench.py

clean:
	rm -rf site site-report .cache

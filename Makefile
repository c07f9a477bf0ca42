# Two commands for a newcomer: `make serve` and `make test`. Both create .venv on first use.
# Python 3.11 (3.11.5 or later): python3.11, else python3 when it is 3.11. `make test PYTHON=/path/to/python`
# names another; anything else stops make at once, saying what to install (tools/python311.sh).
PYTHON ?= python3.11 python3
# Silence the theme's end-of-life banner in our logs.
export NO_MKDOCS_2_WARNING := 1
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NODE_TOOLS := node_modules/.package-lock.json

# requirements.txt is the hash-locked install (`make lock` writes it from requirements.in). On Linux, torch
# is its CPU build from PyTorch's own index, installed first and alone: PyPI's Linux wheel carries CUDA, several
# GB. On macOS it is PyPI's wheel, with the rest. Each index request gives up after 15 s and is retried once, so
# an index that cannot be reached costs seconds, not pip's default of minutes; a local wheel of the same file
# (pip's find-links) is then used if there is one.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input
PIP_INSTALL := $(PIP) install --require-hashes --only-binary :all: --timeout 15 --retries 1
OS := $(shell uname -s)

.PHONY: python install serve build check test update portability bench lock clean browser

python:  ## the Python check alone: which interpreter make uses, or why it stops
	@if [ -e $(BIN)/python ]; then \
	  $(SHELL) tools/python311.sh $(BIN)/python >/dev/null || { \
	    echo "make: $(VENV) was made with another Python: remove it (rm -rf $(VENV)) and run make again" >&2; exit 1; }; \
	else $(SHELL) tools/python311.sh $(PYTHON) >/dev/null; fi

$(INSTALLED): requirements.txt | python
	test -e $(BIN)/python || "$$($(SHELL) tools/python311.sh $(PYTHON))" -m venv $(VENV)
ifeq ($(OS),Linux)
	awk '/^torch==/ { entry = 1 } entry { print } entry && !/\\$$/ { entry = 0 }' requirements.txt > $(VENV)/torch-cpu.txt
	$(PIP_INSTALL) --no-deps --index-url $(TORCH_INDEX) -r $(VENV)/torch-cpu.txt || { \
	  echo "make: torch's CPU build did not install from $(TORCH_INDEX) (see pip's error above): no network to" \
	    "that index, or a requirements.txt that \`make lock\` did not write" >&2; \
	  exit 1; }
endif
	$(PIP_INSTALL) -r requirements.txt
	touch $@

install: $(INSTALLED)  ## create .venv and install requirements.txt (hash-checked)

$(NODE_TOOLS): package.json package-lock.json | python  # axe-core for the browser tests, Lighthouse for make bench
	npm ci --no-audit --no-fund --loglevel=error

browser: $(INSTALLED)  # Chromium for the browser tests: Debian's where it can be installed, else Playwright's own
	@bash tools/install-chromium.sh $(BIN)

serve: python $(INSTALLED)  ## build, verify and serve the site on http://127.0.0.1:8000, rebuilding what a save changed
	$(BIN)/mkdocs serve --dirty --no-strict --dev-addr 127.0.0.1:8000  # a failing example shows on its page; the next save recovers

build: python $(INSTALLED)  ## the strict build: fails on any changed output, error, timeout or broken link
	$(BIN)/mkdocs build --strict

check: python $(INSTALLED) $(NODE_TOOLS) browser  ## every test, on the site `make build` made
	$(BIN)/python -m pytest

test: python build  ## the strict build, then every test: pages uncached, engine, notebooks, browser, spelling
	@$(MAKE) --no-print-directory check

update: python $(INSTALLED)  ## write what the blocks print into the pages: make update [PAGE=docs/gradients.md]
	$(BIN)/python -m pytest -p no:markdown-docs --update-outputs \
		$(if $(PAGE),"tests/test_pages.py::test_page_outputs[$(PAGE)]",tests/test_pages.py)

portability: python $(INSTALLED)  ## every page under each CPU setting (MKL, ATen, numpy instruction sets): what differs
	$(BIN)/python tools/portability.py

bench: python $(INSTALLED) $(NODE_TOOLS) browser  ## timings as ratios, page weights and Lighthouse scores, in one run
	$(BIN)/python tools/bench.py

lock:  ## recompile requirements.in into requirements.txt, hash-locked (needs uv, PyPI and PyTorch's index)
	python3 tools/lock.py

clean:
	rm -rf site site-report .cache

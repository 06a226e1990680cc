# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv, installs drsparse, parses the bundled samples, then runs the
#               whole job (records, ledger, status) on a made-up mailbox
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

# Then the whole job on a made-up mailbox (drsparse sample: robot mail of 25 domains, foreign
# mail between, some of it spoofed): the records, the ledger, and what needs attention as of
# a day within the mailbox's months.
DEMO = .demo

demo: $(STAMP)
	$(BIN)/drsparse parse $(SAMPLE_INPUTS)
	$(BIN)/drsparse scan --no-progress $(SAMPLE_INPUTS)
	rm -rf $(DEMO)
	$(BIN)/drsparse sample --maildir $(DEMO)/Maildir --domains 25 --seed 7
	$(BIN)/drsparse parse $(DEMO)/Maildir --format table
	$(BIN)/drsparse track --ledger $(DEMO)/ledger.sqlite3 $(DEMO)/Maildir
	$(BIN)/drsparse status --ledger $(DEMO)/ledger.sqlite3 --as-of 2024-12-01

lint: $(STAMP)
	$(BIN)/ruff check drsparse tests bench grammar fuzz
	$(BIN)/ruff format --check drsparse tests bench grammar fuzz
	$(BIN)/mypy

# The quick benchmarks run so that they keep working; their timings never fail the target.
test: lint
	$(BIN)/python -m pytest -q
	$(BIN)/python bench/run.py --quick
	$(BIN)/python bench/redos.py --quick
	$(BIN)/python bench/ledger.py --quick
	$(BIN)/python bench/imap.py --quick

# After a change of grammar/drs.lark: regenerate its parser (the tests check that it matches).
parser: $(STAMP)
	$(BIN)/python grammar/generate.py

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/redos.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/imap.py

clean:
	rm -rf $(VENV) $(DEMO) dist build .mypy_cache .ruff_cache .pytest_cache .hypothesis

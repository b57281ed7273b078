# Two commands on a fresh machine (Python 3.11+ only):
#   make run    install into .venv and run the digest on the bundled samples/ -> output/
#   make test   install into .venv (with test extras) and run ruff, mypy and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# Debian's Chromium drives tests/test_browser.py (through Playwright; never `playwright install`)
CHROMIUM := /usr/bin/chromium
# Debian's PostgreSQL server binaries: tests/pgserver.py starts a throwaway cluster from them
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) /usr/lib/postgresql/15/bin/initdb)

.PHONY: run test lint bench eval clean defaults

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The bundled samples are fictional news of 2 March 2026: the sample edition is dated and
# titled as what it is.
SAMPLE_RUN := run --date 2026-03-02 --set "output.title='Sample briefing (bundled fictional news)'"

run: $(STAMP)
	$(BIN)/digest $(SAMPLE_RUN)

# Installed when missing and we are root with apt-get (CI: a fresh machine, as root).
# Otherwise, or when the install fails, the browser tests skip and say why.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "warning: could not install chromium: the browser tests will be skipped"; \
	else \
		echo "note: $(CHROMIUM) is missing (needs root and apt-get): the browser tests will be skipped"; \
	fi

# Same for PostgreSQL (the store tests on PostgreSQL skip and say why without it).
$(PG_INITDB):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing postgresql for the PostgreSQL store tests (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
			|| echo "warning: could not install postgresql: the PostgreSQL tests will be skipped"; \
	else \
		echo "note: $(PG_INITDB) is missing (needs root and apt-get): the PostgreSQL tests will be skipped"; \
	fi

test: $(STAMP) $(CHROMIUM) $(PG_INITDB)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Quality figures on ../shared/eval-data and throughput benchmarks (see README).
eval: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[eval]'
	$(BIN)/python -m eval.gate
	$(BIN)/python -m eval.clustering
	$(BIN)/python -m eval.faithfulness
	$(BIN)/python -m eval.summaries

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[eval]'
	$(BIN)/python -m bench.pipeline

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The package ships the repository's config as its commented default (`digest init` writes it);
# tests/test_docs.py fails until this copy is refreshed after an edit of config/.
defaults:
	cp config/digest.toml digest/defaults/digest.toml
	cp config/.env.example digest/defaults/env.example
	cp config/threads.txt digest/defaults/threads.txt

clean:
	rm -rf $(VENV) build/ dist/ var/ output/*/ output/*.html output/*.xml output/*.svg test-artifacts/

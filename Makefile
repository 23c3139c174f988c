# make demo: set up, then run every example DAG against the simulator.
# make test: set up, then run the whole test suite.
# make bench: set up with the benchmark extras, then run the triggerer-scale and import-cost benchmarks.
# Each creates .venv and installs what it needs; nothing else is required.
# make test also installs Debian's chromium for the browser check, if it is
# missing and we are root or may use sudo (scripts/ensure-chromium.sh), and
# Debian's redis-server for the distributed deployment test (scripts/ensure-redis.sh).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.bench-installed

.PHONY: demo test bench setup browser redis clean

setup: $(INSTALLED) browser

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $@

demo: $(INSTALLED)
	$(BIN)/python scripts/demo.py

# The bench extra too: a test runs a tiny benchmark against every peer, so `make bench` cannot rot.
test: $(BENCH_INSTALLED) browser redis
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(BENCH_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,bench]"
	touch $@

bench: $(BENCH_INSTALLED)
	$(BIN)/python benchmarks/triggerer_scale.py $(BENCH_ARGS)

browser:
	@sh scripts/ensure-chromium.sh

redis:
	@sh scripts/ensure-redis.sh

clean:
	rm -rf $(VENV) .demo .airflow-test *.egg-info test-artifacts

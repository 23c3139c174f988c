# make demo: set up, then run every example DAG against the simulator.
# make test: set up, then run the whole test suite.
# make bench: set up with the benchmark extras, then run the triggerer-scale and import-cost benchmarks.
# make compat AIRFLOW=3.1.8: the unit, integration and dags-test suites on that Airflow, in .venv-compat-3.1
#   (constraints/airflow-3.1.txt); make compat-all: every leg of COMPAT_LEGS; make compat-oldest: the first.
# Each creates .venv and installs what it needs; nothing else is required.
# make test also installs Debian's chromium for the browser check, if it is
# missing and we are root or may use sudo (scripts/ensure-chromium.sh), and
# Debian's redis-server for the distributed deployment test (scripts/ensure-redis.sh).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.bench-installed

.PHONY: demo test bench setup browser redis clean compat compat-all compat-oldest compat-constraints

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

# The newest patch of every Airflow minor we claim (pyproject's lower bound), oldest first.
COMPAT_LEGS := 3.1.8 3.2.2 3.3.2

compat:
	@test -n "$(AIRFLOW)" || { echo "usage: make compat AIRFLOW=3.x.y (legs: $(COMPAT_LEGS))"; exit 2; }
	PYTHON=$(PYTHON) sh scripts/compat.sh $(AIRFLOW) $(PYTEST_ARGS)

compat-oldest:
	$(MAKE) compat AIRFLOW=$(firstword $(COMPAT_LEGS))

compat-all:
	@failed=""; for v in $(COMPAT_LEGS); do $(MAKE) compat AIRFLOW=$$v || failed="$$failed $$v"; done; \
	if [ -n "$$failed" ]; then echo "compat-all: failed on Airflow$$failed"; exit 1; fi; echo "compat-all: passed on $(COMPAT_LEGS)"

# Rewrite constraints/airflow-X.Y.txt by resolving that Airflow with our deps from PyPI.
compat-constraints:
	@test -n "$(AIRFLOW)" || { echo "usage: make compat-constraints AIRFLOW=3.x.y"; exit 2; }
	PYTHON=$(PYTHON) sh scripts/compat-constraints.sh $(AIRFLOW)

redis:
	@sh scripts/ensure-redis.sh

clean:
	rm -rf $(VENV) .venv-compat-* .demo .airflow-test *.egg-info test-artifacts

# Two entry points a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test postgres java demo docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# json-server (npm) is the REST server the delivery tests write to; WireMock (npm) the fault suite's.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: install node_modules/.installed postgres java
	$(BIN)/pytest

# The PostgreSQL suites start a throwaway cluster from Debian's postgresql binaries; install them when
# missing and we are root (elsewhere those tests skip and say why).
postgres:
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  echo "PostgreSQL is not installed and cannot be installed here: its tests will skip"

# WireMock (npm) runs on Java for the fault suite (tests/faults); install Debian's JRE when missing and
# we are root (elsewhere those tests skip and say why).
java:
	@command -v java >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; } || \
	  echo "java is not installed and cannot be installed here: tests/faults will skip"

docs: install
	$(BIN)/restsync docs --out docs/reference.md

demo: install
	$(BIN)/restsync validate
	$(BIN)/python -m restsync_dagster.demo.walkthrough

BENCH_VENV := bench/.venv-dlt
BENCH_ARGS ?=

# Throughput and memory: restsync vs dlt rest_api vs a bare httpx loop (bench/README.md).
# Both sections: CPU-bound (no latency) and latency-bound (50 ms per request), each against dlt.
bench: install $(BENCH_VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/run.py --latency 0.05

# dlt for the comparison, in its own venv so its dependencies never touch the project's; made once.
$(BENCH_VENV)/.installed:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet "dlt[deltalake]"
	touch $@

clean:
	rm -rf $(VENV) .restsync .dagster_home .pytest_cache

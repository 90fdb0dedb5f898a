# sp-services — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test contract lint bench bench-peer venv demo migrate clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

migrate: $(STAMP)
	$(BIN)/sp-services db upgrade

demo: $(STAMP)
	$(BIN)/sp-services demo

# The printed URLs follow HOST/PORT unless SP_SERVICES_PUBLIC_URL says otherwise. The demo, then 60
# days of simulated history for its seller (once: a database with history keeps it), then the server.
run: export SP_SERVICES_PUBLIC_URL ?= http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/sp-services db upgrade
	$(BIN)/sp-services demo --if-empty
	$(BIN)/sp-services simulate --days 60 --if-empty
	$(BIN)/sp-services serve --host $(HOST) --port $(PORT)

# The dashboard's browser tests drive Debian's Chromium (tests/dashboard/), installed here when missing.
CHROMIUM_INSTALL = command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

test: $(STAMP)
	@$(CHROMIUM_INSTALL)
	$(BIN)/pytest -n 2 -q

# Schema conformance (issue #6): schemathesis with Amazon's model against a live demo server, with
# many more generated requests per operation than the bounded form `make test` runs, every check on.
CONTRACT_EXAMPLES ?= 300
contract: $(STAMP)
	SP_SERVICES_CONTRACT_EXAMPLES=$(CONTRACT_EXAMPLES) $(BIN)/pytest -q tests/contract

# Benchmarks print figures and the ratios the targets are stated in (README, Performance). The
# HTTP load generator is wrk from Debian's packages, installed here when missing.
BENCH_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
WRK_INSTALL = command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

bench: $(STAMP)
	@$(WRK_INSTALL)
	$(BIN)/python benchmarks/capacity_bench.py
	$(BIN)/python benchmarks/http_bench.py
	$(BIN)/python benchmarks/http_bench.py --database-url $(BENCH_POSTGRES_URL)
	$(BIN)/python benchmarks/simulate_bench.py --database-url $(BENCH_POSTGRES_URL)
	$(BIN)/python benchmarks/analytics_bench.py
	$(BIN)/python benchmarks/analytics_bench.py --database-url $(BENCH_POSTGRES_URL)
	$(BIN)/python benchmarks/demand_bench.py
	$(BIN)/python benchmarks/demand_bench.py --database-url $(BENCH_POSTGRES_URL)
	$(BIN)/python benchmarks/report_bench.py --database-url $(BENCH_POSTGRES_URL)
	$(BIN)/python benchmarks/dashboard_bench.py

# The same HTTP table beside Stoplight Prism (from npm, installed into .cache/prism) mocking the model.
bench-peer: $(STAMP)
	@$(WRK_INSTALL)
	$(BIN)/python benchmarks/http_bench.py --peer

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

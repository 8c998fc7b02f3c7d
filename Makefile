# The two commands of the README (`make run`, `make test`), and a few more. Each one creates the
# virtual environment in .venv first when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo lint typecheck db-upgrade bench bench-taps bench-exports bench-screens clean

run: $(STAMP)
	$(BIN)/lunchbot $(ARGS) run

demo: $(STAMP)
	$(BIN)/lunchbot demo

test: lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Benchmarks, each figure beside an anchor measured in the same run (minutes; not part of test).
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# The sign-up rush: Book taps at 20/s, the bot against a bare PTB bot (ratios; see README).
bench-taps: $(STAMP)
	$(BIN)/python -m benchmarks.taps $(ARGS)

# The rota as files at the programme's size: a holiday's CSV of 8,000 sessions, a long sign-in sheet.
bench-exports: $(STAMP)
	$(BIN)/python -m benchmarks.exports $(ARGS)

# Coordinators' list screens at 200 locations and 10,000 people: median server time (see README).
bench-screens: $(STAMP)
	$(BIN)/python -m benchmarks.screens $(ARGS)

db-upgrade: $(STAMP)
	$(BIN)/lunchbot $(ARGS) db upgrade

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info

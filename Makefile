PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench lint examples clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

test: $(STAMP)
	$(BIN)/python -m pytest tests

bench: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only --benchmark-json=bench/.results.json $(BENCH_ARGS)
	$(BIN)/python bench/report.py bench/.results.json

lint: $(STAMP)
	$(BIN)/ruff check activeq dialects tests bench examples
	$(BIN)/mypy activeq

examples: $(STAMP)
	for f in examples/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .benchmarks

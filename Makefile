PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

VENV_MIN := .venv-min

.PHONY: install demo docs test test-deps-min bench lint examples clean redis-server postgresql

# The C shape walk (activeq/_speedups.c) is built by the editable install: a change to it
# installs again.
$(STAMP): pyproject.toml setup.py activeq/_speedups.c
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python tools/typing_path.py
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

# The API reference, built from the docstrings into site/ (open site/index.html).
docs: $(STAMP)
	rm -rf site
	$(BIN)/pdoc -o site --docformat google activeq activeq.ast activeq.columns activeq.mypy

test: $(STAMP) redis-server postgresql
	$(BIN)/python -m pytest tests

# The whole suite at the lowest versions pyproject.toml allows of apsw, pydantic and sqlglot and
# of the drivers its extras install (psycopg, psycopg_pool, greenlet, DuckDB, redis, SQLAlchemy),
# in a venv of its own (a few minutes: it installs everything afresh).
test-deps-min: redis-server postgresql
	rm -rf $(VENV_MIN)
	$(PY) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install -q --upgrade pip
	$(VENV_MIN)/bin/python tools/lowest_requirements.py > $(VENV_MIN)/lowest.txt
	$(VENV_MIN)/bin/python -m pip install -q -c $(VENV_MIN)/lowest.txt -e '.[dev]'
	$(VENV_MIN)/bin/python tools/typing_path.py
	$(VENV_MIN)/bin/python tools/lowest_requirements.py --installed
	$(VENV_MIN)/bin/python -m pytest tests -p no:cacheprovider

# The Redis cache tests start their own redis-server on loopback; install it when missing.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

# The PostgreSQL tests start their own server (initdb in a temporary folder, 127.0.0.1, a free
# port, as an unprivileged user); install the server binaries when missing.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# The PostgreSQL section starts its own server as the tests do (it skips without one).
bench: $(STAMP) postgresql
	$(BIN)/python -m pytest bench --benchmark-only --benchmark-json=bench/.results.json $(BENCH_ARGS)
	$(BIN)/python bench/report.py bench/.results.json

# tests/typing holds user code checked as a user's project would be: mypy --strict (with the
# activeq.mypy plugin) and pyright in strict mode, against the installed activeq. The pytest run
# also checks that the lines of its errors_*.py files are reported, and nothing else.
lint: $(STAMP)
	$(BIN)/ruff check activeq dialects tests bench examples tools
	$(BIN)/mypy activeq
	$(BIN)/lint-imports
	cd tests/typing && ../../$(BIN)/mypy --config-file mypy.ini check_*.py
	cd tests/typing && ../../$(BIN)/pyright --pythonpath ../../$(BIN)/python $$(ls check_*.py | grep -v '_mypy\.py$$')
	$(BIN)/python -m pytest -q tests/test_typing.py

examples: $(STAMP)
	for f in examples/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(VENV_MIN) build site *.egg-info .pytest_cache .benchmarks activeq/_speedups.*.so

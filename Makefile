# Common Ground — the front door. `make run` for a demo site, `make test` for the suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin
PORT ?= 8000
STAMP = $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint format install browser clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## run: demo site on http://127.0.0.1:8000 with a Celery worker and beat (embedded broker); Ctrl-C stops all
run: export DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_periodic_tasks
	$(BIN)/python manage.py seed_demo
	WEB_PORT=$(PORT) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho -f Procfile.dev start

## test: the whole suite, browser journeys included (headless Chromium at /usr/bin/chromium)
test: install browser
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r partnership objectives surveys -x '*/migrations/*' -ll --skip B608
	$(BIN)/pytest $(PYTEST_ARGS)

## browser: Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; \
	  else \
	    echo "The browser tests need Chromium: sudo apt-get install chromium chromium-driver" >&2; exit 1; \
	  fi; \
	fi

## bench: benchmarks on a generated national dataset (PostgreSQL cg_bench, Redis db 14); table to bench/results/
## (generates the dataset first when the database has none; e.g. make bench GENERATE_ARGS="--trusts 20" BENCH_ARGS="--only pages")
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cg_bench
bench: install
	DEBUG=true DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/generate.py --if-missing $(GENERATE_ARGS) && \
	DEBUG=true DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r partnership objectives surveys -x '*/migrations/*' -ll --skip B608

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/celery var/mail

# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test faults lint check-system install translations worker beat bench e2e clean messages

check-system:
	@$(PYTHON) scripts/check_system.py

$(STAMP): pyproject.toml
	@$(PYTHON) scripts/check_system.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

translations: install
	@DEBUG=true $(BIN)/python manage.py compile_translations

run: install translations
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Tests run with production-like settings (DEBUG off, manifest static files).
TEST_ENV := SECRET_KEY=test-only-not-secret DEBUG=false

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: install translations lint
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(BIN)/python -m pytest -m "not faults" $(PYTEST_ARGS)

# The fault matrix (tests marked `faults`): its own redis-server and PostgreSQL cluster on
# loopback, gunicorn, Celery workers with beat, an SMTP server; one line per fault.
# Needs DATABASE_URL on PostgreSQL (as `make test` in CI) and root for the cluster (runuser).
faults: install translations
	$(TEST_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(BIN)/python -m pytest -m faults -p no:logging $(PYTEST_ARGS)

# Developer helper: refresh the message catalogue after changing strings (needs GNU gettext).
messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l sv -l en --no-obsolete --no-location -i ".venv/*"

worker: install
	$(BIN)/celery -A vom worker --loglevel=INFO --concurrency=2

beat: install
	@mkdir -p var
	$(BIN)/celery -A vom beat --loglevel=INFO --schedule=var/celerybeat-schedule

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Load test against PostgreSQL on 127.0.0.1 (BENCH_PERSONS, BENCH_MEETINGS, BENCH_DURATION).
bench: install translations
	$(BIN)/python scripts/bench.py

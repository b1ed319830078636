# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# This machine's own secret key, made once; production sets DJANGO_SECRET_KEY itself.
KEY_FILE := data/secret-key
DJANGO := DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(KEY_FILE))}" $(PY)

.PHONY: install install-dev run test lint format worker beat bench chaos migrate demo static clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

$(KEY_FILE):
	mkdir -p data
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

migrate: install $(KEY_FILE)
	$(DJANGO) manage.py migrate --noinput

static: install $(KEY_FILE)
	$(DJANGO) manage.py collectstatic --noinput -v0

demo: migrate
	$(DJANGO) manage.py load_demo

# Local serving speaks plain HTTP; production keeps the HTTPS-only defaults.
run: demo static
	DJANGO_SECURE_SSL=false $(DJANGO) manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint $(KEY_FILE)
	$(DJANGO) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

# One PDF per process: PyMuPDF is not thread-safe, so the prefork pool.
worker: install $(KEY_FILE)
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(KEY_FILE))}" $(VENV)/bin/celery -A digest_site worker --loglevel=info --pool=prefork --concurrency=2 -Q digest

beat: install $(KEY_FILE)
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(KEY_FILE))}" $(VENV)/bin/celery -A digest_site beat --loglevel=info

# Pages at scale need PostgreSQL and Redis of their own, e.g.
#   make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench BENCH_REDIS_URL=redis://127.0.0.1:6379/9
# (databases bench_1000 and bench_100000 are made and kept; BENCH_PAPERS=1000,100000 sets sizes).
bench: install-dev static $(KEY_FILE)
	$(DJANGO) -m tools.bench

# The fault and hostile-input campaign, on loopback only, on a throw-away test database.
chaos: install-dev $(KEY_FILE)
	$(DJANGO) -m tools.chaos

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

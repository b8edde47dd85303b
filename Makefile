# The two commands: `make demo` and `make test`. Both set up what they need and are
# idempotent (a second run reuses the virtual environment and the demo database).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
HOST ?= 127.0.0.1
PORT ?= 8000

# The demo runs with DEBUG on, its own database under var/, tasks in process, and the
# current-evaluation Ac-225 half-life (ICRP-107 says 10.0 d).
DEMO_ENV := DEBUG=true DATABASE_URL= CELERY_BROKER_URL= LOG_FORMAT=text \
	DECAY_HALF_LIFE_OVERRIDES=Ac-225=9.920d SIGNING_P12_PASSPHRASE=demo-signing-passphrase \
	SITE_URL=http://$(HOST):$(PORT)
TEST_ENV := SECRET_KEY=test-only-secret-key-not-for-production DEBUG=false \
	SIGNING_P12_PASSPHRASE=test-signing-passphrase

.PHONY: demo test test-browser venv lint smoke nginx bench-decay bench-api bench-release bench-web bench-recovery bench-scale clean browser-deps

# Two stamps: the demo needs only the runtime dependencies; tests, lint and benchmarks the
# dev extras as well.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), \
		"alpharelease needs Python 3.11; set PYTHON=/path/to/python3.11"' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# --no-compile: pip would byte-compile every installed module (scipy, statsmodels, botocore:
# half the install time); Python compiles what it imports, on first import.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -e .
	touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet --no-compile -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(RUNTIME_STAMP)
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py create_signing_identity
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo "Starting the demo site on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

browser-deps:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && \
		(apt-get update -qq && apt-get install -y -qq chromium poppler-utils >/dev/null); } || \
		{ echo "Install Chromium (/usr/bin/chromium) to run the browser tests"; exit 1; }
	@command -v pdftoppm >/dev/null || { apt-get install -y -qq poppler-utils >/dev/null; }
	@command -v qpdf >/dev/null && command -v zbarimg >/dev/null || \
		{ apt-get install -y -qq qpdf zbar-tools >/dev/null; }
	@$(MAKE) --no-print-directory nginx

# nginx -t checks deploy/nginx.conf (tests/operations/test_nginx_config.py) and smoke runs
# nginx in front of gunicorn. Installing it does not start it (no init system here).
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		{ command -v apt-get >/dev/null && { apt-get update -qq >/dev/null; \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }; } || \
		{ echo "Install nginx to check deploy/nginx.conf (tests and make smoke)"; exit 1; }

test: $(STAMP) browser-deps
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check config qc batches tests bench deploy

bench-decay: $(STAMP)
	$(BIN)/python bench/bench_decay.py

# gunicorn on PostgreSQL (DATABASE_URL, or a fresh local alpharelease_bench), 16 clients.
bench-api: $(STAMP)
	$(BIN)/python bench/bench_api.py

bench-web: $(STAMP)
	$(BIN)/python bench/bench_web.py

# A backlog of 20 000 never-queued results (a broker outage) evaluated after the broker's
# return, on the local PostgreSQL and Redis.
bench-recovery: $(STAMP)
	$(BIN)/python bench/bench_recovery.py

# A ten-year site on PostgreSQL (150 000 batches, 3 million results, 10 million audit events):
# page times, verify_audit time and memory, backup and restore times. BENCH_SCALE=0.01 for a
# quick try; it makes and drops its own database (SCALE_DATABASE_URL; BENCH_KEEP=1 keeps it).
bench-scale: $(STAMP)
	$(BIN)/python bench/bench_scale.py

# Render + sign medians in process, then release latency through a real worker on
# PostgreSQL and Redis (the local ones unless DATABASE_URL / CELERY_BROKER_URL are set).
bench-release: $(STAMP)
	$(BIN)/python bench/bench_certificate.py
	$(BIN)/python bench/bench_release.py

# The production stack on this machine (gunicorn, worker, beat on PostgreSQL and Redis), one
# batch end to end, backup and restore. SMOKE_DATABASE_URL / SMOKE_BROKER_URL pick the
# database (dropped and re-created) and the Redis database.
smoke: $(STAMP) nginx
	$(BIN)/python deploy/smoke.py

clean:
	rm -rf $(VENV) var test-artifacts

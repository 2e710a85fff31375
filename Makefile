# Two commands set everything up on a fresh machine:
#   make run   - virtualenv, dependencies, database, demo data, server on http://127.0.0.1:8000
#   make test  - the same set-up, then the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Local development only: DEBUG on, a per-checkout secret kept in var/, and the edge country header
# trusted (the demo shop can be tried "from another country" with CF-IPCountry).
# PUBLIC_BASE_URL follows HOST and PORT (links in emails, the demo site's origins); the ledger's
# log name stays the same whatever the port, as a log's name must never change.
DEV_ENV = DEBUG=true GEO_COUNTRY_HEADER=CF-IPCountry SECRET_KEY="$$(cat var/dev-secret-key)" LEDGER_SIGNING_KEY="$$(cat var/ledger-signing-key)" \
  PUBLIC_BASE_URL=http://$(HOST):$(PORT) LEDGER_LOG_HOST=127.0.0.1:8000

.PHONY: run test check ci install migrate demo clean banner need-node openapi openapi-check fuzz messages compilemessages banner-messages

$(INSTALLED): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Consentry needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED) compilemessages

# Translations: locale/<lang>/LC_MESSAGES/django.po are the source (committed); the compiled .mo
# files are built here (gitignored), by `make install`, `make run` and `make test`.
# `make messages` re-extracts every message id from the code and templates into every catalogue,
# then rebuilds the banner's per-language JSON (cookies/banner/messages/, committed, checked).
I18N_IGNORE = --ignore=tests --ignore=bench --ignore=fuzz --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=var --ignore=build
messages: $(INSTALLED)
	SECRET_KEY=static-checks-only $(BIN)/django-admin makemessages --settings=config.settings --pythonpath=. \
	  $(foreach lang,$(LANGUAGE_CODES),-l $(lang)) -d django --no-obsolete $(I18N_IGNORE)
	$(MAKE) --no-print-directory banner-messages

compilemessages: $(INSTALLED)
	SECRET_KEY=static-checks-only $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

banner-messages: compilemessages
	SECRET_KEY=static-checks-only $(BIN)/python manage.py banner_messages

LANGUAGE_CODES = $(shell SECRET_KEY=static-checks-only $(BIN)/python -c 'from consent.languages import VISITOR_LANGUAGES as v; print(" ".join(v))' 2>/dev/null)

var/dev-secret-key:
	mkdir -p var
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/dev-secret-key
	chmod 600 var/dev-secret-key

# The Ed25519 seed that signs this checkout's ledger checkpoints (production: LEDGER_SIGNING_KEY).
var/ledger-signing-key:
	mkdir -p var
	$(PYTHON) -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())' > var/ledger-signing-key
	chmod 600 var/ledger-signing-key

migrate: install var/dev-secret-key var/ledger-signing-key
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input

demo: migrate
	$(DEV_ENV) $(BIN)/python manage.py consent_demo
	$(DEV_ENV) $(BIN)/python manage.py subprocessors_demo
	$(DEV_ENV) $(BIN)/python manage.py cookies_demo

# The background worker (emails, webhooks) and the ledger sealer run beside the server and stop with it.
# webhooks_dispatch also runs the requests' deadline watch (the DPOs' reminders, which the worker sends).
run: demo
	$(DEV_ENV) $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	$(DEV_ENV) $(BIN)/python manage.py consent_seal --every 30 & sealer=$$!; \
	$(DEV_ENV) $(BIN)/python manage.py webhooks_dispatch --every 2 & hooks=$$!; \
	trap 'kill $$worker $$sealer $$hooks 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Node tools from npm, pinned in the lock: esbuild (the banner's build), ESLint, jsdom (the
# banner's DOM tests) and axe-core (the browser suite's accessibility checks). None ships.
node_modules/.package-lock.json: package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund; \
	else echo "npm not found: the accessibility checks in tests/e2e will skip"; fi

need-node:
	@command -v node >/dev/null && command -v npm >/dev/null || \
	{ echo "make check needs Node.js 20+ and npm (ESLint, the banner build check): install them (Debian: apt-get install nodejs npm)"; exit 1; }

# The banner: frontend/banner/src -> the committed static/cookies/banner.{js,css} (esbuild).
# `make run` needs none of this: the built files are in the repository.
banner: need-node node_modules/.package-lock.json
	npm run --silent build

# The banner's pure logic runs under Node's own test runner; everything else under pytest.
test: install node_modules/.package-lock.json
	@if command -v node >/dev/null; then node --test tests/js/; \
	else echo "node not found: the banner's JavaScript core tests (tests/js) were NOT run"; fi
	$(BIN)/python -m pytest

# Static checks CI runs besides the tests: lint, format, the layer contracts (pyproject.toml),
# ESLint, the banner's built files equal to a fresh build, migrations in step with the models,
# Django's system checks.
check: install need-node node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	node_modules/.bin/eslint .
	node frontend/build.mjs --check
	for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check -o /dev/null $$po || exit 1; done
	SECRET_KEY=static-checks-only $(BIN)/python manage.py banner_messages --check
	SECRET_KEY=static-checks-only $(BIN)/python manage.py makemigrations --check --dry-run
	SECRET_KEY=static-checks-only $(BIN)/python manage.py check --fail-level ERROR
	$(MAKE) --no-print-directory openapi-check

# The OpenAPI contract: docs/openapi.yaml is generated from the code (drf-spectacular) and
# committed; `make openapi` regenerates it, `make openapi-check` (in `make check`) fails when the
# committed file differs from what the code would generate, or the schema has a warning.
OPENAPI_ENV = SECRET_KEY=static-checks-only DEBUG=false
openapi: $(INSTALLED)
	$(OPENAPI_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

openapi-check: $(INSTALLED)
	@mkdir -p var
	$(OPENAPI_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.generated.yaml
	@diff -u docs/openapi.yaml var/openapi.generated.yaml || \
	{ echo "docs/openapi.yaml is out of date with the code: run make openapi and commit it"; exit 1; }

# The fuzzer: schemathesis against a live server on a fresh database with the demo data
# (fuzz/run.py; DATABASE_URL picks PostgreSQL). Fixed seed and examples per operation.
fuzz: $(INSTALLED)
	$(BIN)/python fuzz/run.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

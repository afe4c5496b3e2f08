# Interlock: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
INFRA_ENV := .data/infra/infra.env
PYTEST_ARGS ?=

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP) ui-assets contract-tools ## install the Python packages and the front-end packages

contract-tools: ## install the AsyncAPI parser that validates contracts/asyncapi.json
	@cd contracts/tools && npm ci --no-audit --no-fund --silent

ui-assets: ## install the web UI's JavaScript packages (served by the project, no CDN)
	@if [ -f services/web/package.json ]; then cd services/web && npm ci --no-audit --no-fund --silent && node copy-assets.mjs; fi

infra-up: $(STAMP) ## fetch (once) and start Kafka and Neo4j natively, wait until healthy
	deploy/infra.sh up

infra-down: ## stop Kafka, Neo4j and (if make run started it) Keycloak
	deploy/keycloak.sh down
	deploy/infra.sh down

infra-status: ## show whether Kafka and Neo4j are up and healthy
	deploy/infra.sh status

provision: infra-up ## create topics and graph constraints (idempotent)
	set -a; . $(INFRA_ENV); set +a; $(BIN)/interlock provision

run: install infra-up ## start everything with the demo JIT, live scenario and the test countries' IdPs; Ctrl-C stops
	@mkdir -p .data/infra
	set -a; . $(INFRA_ENV); set +a; \
	if [ "$${INTERLOCK_KEYCLOAK:-on}" != off ]; then \
		eval "$$(deploy/keycloak.sh env)"; \
		( deploy/keycloak.sh up >.data/infra/keycloak-up.log 2>&1 \
			|| echo "[run] Keycloak did not start (.data/infra/keycloak-up.log): use the demo log-in" ) & \
	fi; \
	INTERLOCK_DEMO_LOGIN=true exec $(BIN)/interlock run-all --demo

keycloak-up: ## fetch (once) and start Keycloak with the test countries' realms (deploy/keycloak.sh)
	deploy/keycloak.sh up

keycloak-down: ## stop Keycloak
	deploy/keycloak.sh down

run-oidc: install infra-up keycloak-up ## make run, but waits for Keycloak (the nl-police and ro-police realms) before starting
	set -a; . $(INFRA_ENV); set +a; eval "$$(deploy/keycloak.sh env)"; \
		INTERLOCK_DEMO_LOGIN=true exec $(BIN)/interlock run-all --demo

TEST_GROUPS := beside:tests/unit tests/integration/test_infra.py+tests/integration/test_changelogs.py+tests/integration/test_walking_skeleton.py+tests/integration/test_key_ring.py+tests/integration/test_authorization.py+tests/integration/test_service_principals.py+tests/integration/test_tls.py \
	tests/integration/leads+tests/integration/tasking+tests/integration/evidence+tests/integration/messaging+tests/integration/indicators+tests/integration/test_wire_contracts.py tests/integration/projection+tests/integration/alerts \
	beside:tests/integration/oidc tests/integration/deconfliction tests/integration/release+tests/e2e \
	beside:tests/integration/test_bench_quick.py tests/integration/audit+tests/integration/retention
# a+b: one pytest session, one platform; the alerts suite restarts its worker, so it goes last.
# beside:g runs g alongside the groups after it (tests/run_groups.sh), on a group that tolerates
# a busier machine: the unit tests need no service; Keycloak's group (deploy/keycloak.sh, for its
# own session only) beside deconfliction; the benchmark's smoke run, which asserts no timing,
# beside audit and retention (beside deconfliction it ran on into the browser group). The alerts
# and browser groups, whose deadlines are seconds, run alone.

prerequisites: ## check the system packages (deploy/prerequisites.sh list); say what is missing and how to install it
	@deploy/prerequisites.sh check

test: prerequisites install ## the whole suite against real Kafka and Neo4j (started by the project)
	@bash tests/run_groups.sh $(TEST_GROUPS)

test-long: install ## the long runs: 2 GiB upload; the leak and disclosure properties at full size
	@INTERLOCK_TEST_UPLOAD_BYTES=2147483648 INTERLOCK_LEAK_EXAMPLES=1000 \
		INTERLOCK_DISCLOSURE_EXAMPLES=10000 INTERLOCK_FUZZ_EXAMPLES=100 PYTEST_ARGS="-s" \
		bash tests/run_groups.sh \
		tests/integration/evidence/test_large_upload.py tests/unit/kit/test_disclosure_property.py \
		tests/integration/projection/test_leak_property.py tests/integration/audit/test_fuzz_api.py

unit: install ## the fast tests only (no services)
	$(BIN)/pytest tests/unit -q

lint: install ## ruff, mypy and the architecture contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy events services
	$(BIN)/lint-imports

contracts: install ## regenerate JSON Schemas and the AsyncAPI document from the models
	$(BIN)/interlock contracts

contracts-check: install ## fail if the committed contracts or the README's catalogue drift from the models
	$(BIN)/interlock contracts --check

BENCH_DATA := .data/bench/infra
BENCH_INFRA := INTERLOCK_DATA=$(CURDIR)/$(BENCH_DATA) KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 \
	KAFKA_SASL_PORT=29094 NEO4J_BOLT_PORT=27687

bench-infra-up: $(STAMP) ## start the benchmarks' own Kafka and Neo4j (never the dev ones)
	$(BENCH_INFRA) deploy/infra.sh up

bench-infra-down: ## stop the benchmarks' Kafka and Neo4j
	$(BENCH_INFRA) deploy/infra.sh down

bench: install bench-infra-up ## measure the platform against raw baselines (results in bench/results.json)
	set -a; . $(BENCH_DATA)/infra.env; set +a; $(BIN)/python -m bench

bench-quick: install bench-infra-up ## a small, fast run of every benchmark (smoke test)
	set -a; . $(BENCH_DATA)/infra.env; set +a; $(BIN)/python -m bench --quick

clean: infra-down ## stop infra and remove local data (keeps fetched jars)
	rm -rf .data

.PHONY: help prerequisites install contract-tools ui-assets infra-up infra-down infra-status provision run run-oidc keycloak-up keycloak-down test test-long unit lint contracts contracts-check bench bench-quick bench-infra-up bench-infra-down clean

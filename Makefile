# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test unit integration e2e lint check-config bench replay reliability deploy-infra clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 requires pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)  ## start the embedded local AWS stack and the app (Ctrl-C stops)
	$(PY) -m tools.local_stack

test: $(STAMP) lint  ## unit, integration (moto) and end-to-end (local stack, browser) tests
	$(PY) -m pytest -q -n 2 --dist loadfile tests

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(STAMP)
	$(PY) -m pytest -q tests/integration

e2e: $(STAMP)
	$(PY) -m pytest -q tests/e2e

lint: $(STAMP)  ## the infra template, the brand config, ruff, and mypy (strict on the domain; see pyproject.toml)
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(PY) -m tools.check_config --quiet
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

check-config: $(STAMP)
	$(PY) -m tools.check_config

reliability: $(STAMP)  ## every route fuzzed 10,000 times (never a 5xx), hostile-input reproducers, faults, replay
	RELIABILITY_EXAMPLES=$${RELIABILITY_EXAMPLES:-10000} $(PY) -m pytest -q -p no:xdist -s \
		tests/integration/test_fuzz_routes.py tests/integration/test_hostile_input.py \
		tests/unit/test_usecases.py tests/unit/test_one_customer.py tests/e2e/test_replay.py

bench: $(STAMP)  ## benchmarks: figures as ratios measured in one run
	$(PY) -m bench.run && $(PY) bench/triage_accuracy.py

replay: $(STAMP)  ## send ../shared/data/twcs_sample.csv to the running local stack as signed X webhooks
	$(PY) -m tools.replay $(REPLAY_ARGS)

deploy-infra: $(STAMP)  ## create/update the infra stack: make deploy-infra STAGE=prod
	aws cloudformation deploy --stack-name responder-$(STAGE) --template-file infra/template.yaml \
		--parameter-overrides Stage=$(STAGE) --no-fail-on-empty-changeset

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test unit integration e2e lint check-config bench triage-report triage-train replay reliability audit deploy clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 requires pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)  ## start the embedded local AWS stack and the app (Ctrl-C stops)
	$(PY) -m tools.local_stack

test: $(STAMP) lint  ## unit, integration (moto) and end-to-end (local stack, browser) tests
	REPLAY_TWEETS=$${REPLAY_TWEETS:-700} REPLAY_FIRST_CONTACTS=$${REPLAY_FIRST_CONTACTS:-500} \
		$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15 tests

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(STAMP)
	$(PY) -m pytest -q tests/integration

e2e: $(STAMP)
	$(PY) -m pytest -q tests/e2e

lint: $(STAMP)  ## the infra template, the brand config, IAM least privilege, ruff, and mypy (strict on chalicelib and app.py; see pyproject.toml)
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(PY) -m tools.check_config --quiet
	$(PY) -m tools.check_policy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

check-config: $(STAMP)
	$(PY) -m tools.check_config

reliability: $(STAMP)  ## fuzz every route 10,000 times; the fault scenario on the whole sample beside it; replay; audit
	@log=$$(mktemp); $(PY) -m tests.reliability.scenario $(SCENARIO_ARGS) > $$log 2>&1 & scenario=$$!; \
	trap 'kill $$scenario 2>/dev/null' INT TERM; \
	RELIABILITY_EXAMPLES=$${RELIABILITY_EXAMPLES:-10000} $(PY) -m pytest -q -p no:xdist -s \
		tests/integration/test_fuzz_routes.py tests/integration/test_hostile_input.py \
		tests/unit/test_usecases.py tests/unit/test_one_customer.py; tests=$$?; \
	wait $$scenario; outcome=$$?; echo "--- tests.reliability.scenario (ran beside the fuzzing)"; \
	cat $$log; rm -f $$log; test $$tests -eq 0 && test $$outcome -eq 0
	$(PY) -m pytest -q -p no:xdist -s tests/e2e/test_replay.py tests/integration/test_replay_rota.py
	$(MAKE) --no-print-directory audit

audit: $(STAMP)  ## pip-audit of the pinned requirements (one line, exit 0, when no vulnerability database answers)
	$(PY) -m tools.audit

bench: $(STAMP)  ## benchmarks (under 10 minutes): bench/results.json, bench/results.md, bench/storm.png; then the triage report
	$(PY) -m bench.run && $(PY) bench/triage_accuracy.py

triage-report: $(STAMP)  ## triage against the hand-labelled tweets (or LABELLED=file from the inbox): per intent, acknowledgement, confusion, time
	$(PY) bench/triage_accuracy.py $(if $(LABELLED),--labelled "$(LABELLED)" --part all)

triage-train: $(STAMP)  ## the learned triage scorer (chalicelib/triage_model.json) from the labelled set's tuning part, + LABELLED=file from the inbox (TRAIN_ARGS=--only: that file alone)
	$(PY) -m tools.triage_train $(if $(LABELLED),--labelled "$(LABELLED)") $(TRAIN_ARGS)

replay: $(STAMP)  ## send ../shared/data/twcs_sample.csv to the running local stack as signed X webhooks
	$(PY) -m tools.replay $(REPLAY_ARGS)

deploy: $(STAMP)  ## make deploy STAGE=dev|prod: infra stack, SecureString secrets, scoped policy, chalice deploy, checks
	@case "$(STAGE)" in dev|prod) ;; *) echo "make deploy needs STAGE=dev or STAGE=prod (stage local: make run)"; exit 2;; esac
	$(PY) -m tools.deploy deploy $(STAGE) $(DEPLOY_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

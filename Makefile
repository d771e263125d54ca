# Courier: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Every worker folder's own requirements.txt is installed too (the local stack runs them).
WORKER_REQUIREMENTS := $(sort $(wildcard functions/*/requirements.txt))
INPUTS := $(shell cat requirements.txt requirements-dev.txt $(WORKER_REQUIREMENTS) pyproject.toml | sha256sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(INPUTS)
# The functions deploy on Lambda's Python 3.13: the library's tests run on it too, from a
# second venv (scripts/lambda_python.py finds or fetches that interpreter, cached).
LAMBDA_VENV := .venv-lambda
LAMBDA_PY := $(LAMBDA_VENV)/bin/python
LAMBDA_STAMP := $(LAMBDA_VENV)/.installed-$(INPUTS)
# What differs between the two Pythons is the interpreter and the wheels: `make test` runs the
# unit and worker tests, the video decoding (PyAV's wheel) and the handlers on Lambda's;
# `make soak` the whole integration suite there too. The local QStash server's own tests stay on
# the host's Python: it is a workstation tool, never deployed.
LAMBDA_TESTS := tests/unit tests/workers tests/integration/test_video.py tests/integration/test_video_merge.py \
  tests/integration/test_handlers.py tests/integration/test_steps_race.py
LAMBDA_SOAK_TESTS := tests/unit tests/workers tests/integration --ignore=tests/integration/qstash
# CDK's Python bindings run on Node; Node 20 works but jsii warns on every call.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
# app.py hands itself to .venv's Python, so the CLI runs from any shell as README shows.
CDK := npx --no-install cdk

.PHONY: venv tools lock lint client client-types test-client example demo dev down test test-late browser test-lambda soak synth package qstash bench-qstash bench-video bench-router bench-load bench-steps bench-fairness bench-webhooks clean

venv: $(STAMP)

# Everything a deploy needs on a workstation: the venv and the pinned CDK CLI.
tools: venv node_modules/.package-lock.json

# Re-resolve the Lambda layers' lock files (every package, with its hash) after a
# requirements change; a stale lock stops the synth.
lock: venv
	$(PY) -m infra.layer_lock

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt $(WORKER_REQUIREMENTS:%=-r %)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

$(LAMBDA_STAMP):
	$(PYTHON) scripts/lambda_python.py --venv $(LAMBDA_VENV) >/dev/null
	$(LAMBDA_PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt $(WORKER_REQUIREMENTS:%=-r %)
	$(LAMBDA_PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(LAMBDA_VENV)/.installed-* && touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The TypeScript client (clients/typescript): its types are generated from the two APIs'
# OpenAPI documents; `client` fails when the committed documents or types are stale, then
# builds the package as `npm pack` does; `test-client` runs its tests against a local stack.
CLIENT := clients/typescript
$(CLIENT)/node_modules/.package-lock.json: $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error

client: venv $(CLIENT)/node_modules/.package-lock.json
	$(PY) scripts/openapi.py --check
	cd $(CLIENT) && npm run --silent check-types && npm pack --dry-run --silent >/dev/null

# After an API change: the OpenAPI documents and the client's types, written anew.
client-types: venv $(CLIENT)/node_modules/.package-lock.json
	$(PY) scripts/openapi.py
	cd $(CLIENT) && npm run --silent generate

test-client: client
	cd $(CLIENT) && COURIER_PYTHON=$(abspath $(PY)) npm test --silent

# The Next.js example (examples/nextjs), type-checked against the built client; not deployed.
# Without optional dependencies: Next's compiler binaries are for running it, not for tsc.
EXAMPLE := examples/nextjs
$(EXAMPLE)/node_modules/.package-lock.json: $(EXAMPLE)/package.json $(EXAMPLE)/package-lock.json
	cd $(EXAMPLE) && npm ci --omit=optional --no-audit --no-fund --loglevel=error

example: client $(EXAMPLE)/node_modules/.package-lock.json
	cd $(EXAMPLE) && npx --no-install tsc --noEmit

demo: venv
	$(PY) -m devstack.demo

dev: venv
	$(VENV)/bin/courier dev up

down: venv
	$(VENV)/bin/courier dev down

lint: venv
	$(PY) -m ruff check .
	$(PY) -m mypy

# Three chains at once, each about as long (2 cores, about 1.3 busy with two): the host's
# tests, after lint and types (the local stack's end-to-end module among them); the jobs
# system's integration tests and README's commands (JOBS_TESTS); and Lambda's Python built and the library's tests on it,
# the TypeScript client and the Next.js example checked and the client's tests run, then the
# end-to-end tests that bring a stack of their own and the local QStash server's (LATE_TESTS,
# with Chromium for the console's). The background chains' reports follow the first's. With PYTEST_ARGS the first
# run is exactly what it names, alone.
LATE_TESTS := tests/e2e/test_day_two.py tests/e2e/test_scaffold.py tests/e2e/test_faults.py tests/integration/qstash
JOBS_TESTS := tests/integration/jobs tests/infrastructure/test_readme_commands.py
LATE := $(if $(PYTEST_ARGS),,$(LATE_TESTS))
JOBS := $(if $(PYTEST_ARGS),,$(JOBS_TESTS))
# Everything the chains install is installed first and at once (each pip is one core, npm
# waits on the network): on a fresh clone, Lambda's venv no longer competes with the tests.
INSTALLS := tools $(LAMBDA_STAMP) $(CLIENT)/node_modules/.package-lock.json $(EXAMPLE)/node_modules/.package-lock.json
test:
	@$(MAKE) --no-print-directory -j4 $(if $(PYTEST_ARGS),tools,$(INSTALLS))
	@rm -f .test-lambda.rc .test-client.rc .test-late.rc .test-jobs.rc; \
	( $(MAKE) --no-print-directory test-lambda > .test-lambda.log 2>&1; echo $$? > .test-lambda.rc; \
	   $(MAKE) --no-print-directory test-client example > .test-client.log 2>&1; echo $$? > .test-client.rc; \
	   $(if $(LATE),$(MAKE) --no-print-directory browser test-late > .test-late.log 2>&1,: > .test-late.log); echo $$? > .test-late.rc ) & second=$$!; \
	( { $(if $(JOBS),echo "--- the jobs system ---"; $(PY) -m pytest -p no:cacheprovider $(JOBS),:); } > .test-jobs.log 2>&1; \
	   echo $$? > .test-jobs.rc ) & third=$$!; \
	$(MAKE) --no-print-directory lint && $(PY) -m pytest $(PYTEST_ARGS) $(LATE:%=--ignore=%) $(JOBS:%=--ignore=%); host=$$?; \
	wait $$second $$third; cat .test-jobs.log .test-lambda.log .test-client.log .test-late.log; \
	exit $$(( host || $$(cat .test-jobs.rc 2>/dev/null || echo 1) || $$(cat .test-lambda.rc 2>/dev/null || echo 1) \
	  || $$(cat .test-client.rc 2>/dev/null || echo 1) || $$(cat .test-late.rc 2>/dev/null || echo 1) ))

test-late: venv
	@echo "--- the end-to-end tests with a local stack of their own ---"
	$(PY) -m pytest -p no:cacheprovider $(LATE_TESTS)

browser:
	@sh scripts/browser.sh

test-lambda: $(LAMBDA_STAMP)
	@echo "--- the library's tests on $$($(LAMBDA_PY) -V) (Lambda's runtime) ---"
	COURIER_LAMBDA_RUN=1 $(LAMBDA_PY) -m pytest -q -p no:cacheprovider $(LAMBDA_TESTS) $(LAMBDA_PYTEST_ARGS)

synth: tools
	$(CDK) synth --quiet
	@echo "template: cdk.out/$$(ls cdk.out | grep -m1 '\.template\.json$$')"

package: venv
	$(PY) -m infra.package

qstash: venv
	$(PY) -m devstack.qstash $(QSTASH_ARGS)

bench-qstash: venv
	$(PY) -m bench.qstash.run

bench-video: venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) -m bench.video.run $(BENCH_ARGS)

bench-load: venv
	$(PY) -m bench.load.run $(BENCH_ARGS)

bench-fairness: venv
	$(PY) -m bench.fairness.run $(BENCH_ARGS)

bench-webhooks: venv
	$(PY) -m bench.webhooks.run $(BENCH_ARGS)

bench-steps: venv
	$(PY) -m bench.steps.run $(BENCH_ARGS)

# The fault suite's long forms (200-job bursts, a 30 s QStash outage), the whole integration suite on Lambda's Python, and the load benchmark.
soak: tools $(LAMBDA_STAMP)
	COURIER_SOAK=1 $(PY) -m pytest tests/e2e/test_faults.py $(PYTEST_ARGS)
	COURIER_LAMBDA_RUN=1 $(LAMBDA_PY) -m pytest -q -p no:cacheprovider $(LAMBDA_SOAK_TESTS)
	$(PY) -m bench.load.run

bench-router: venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) -m bench.router.run $(BENCH_ARGS)

clean:
	rm -rf cdk.out .build .test-lambda.log

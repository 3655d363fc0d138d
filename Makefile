# Build and test tooling of opswat.it_access. `make help` lists the targets; docs/dev/testing.md explains them.
#
# Everything generated lives under .build/ (gitignored): the venvs (nox's included), a copy of the working tree at
# .build/collections/ansible_collections/opswat/it_access (ansible-test needs that path and refuses symlinks),
# the tarball, the docs site and the gate records. Every tool runs inside that copy, so nothing is written
# into the repository.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# ---- layout -----------------------------------------------------------------------------------------------
BUILD           := $(CURDIR)/.build
COLLECTIONS     := $(BUILD)/collections
TREE            := $(COLLECTIONS)/ansible_collections/opswat/it_access
DIST            := $(BUILD)/dist
PYBIN           := $(BUILD)/pybin
CI              := $(CURDIR)/.ci

# ---- runtimes ---------------------------------------------------------------------------------------------
# Interpreters come from $(pyenv root)/versions/<ver>.* (override with PYTHON_312=/path, PYTHON_311=/path).
PRIMARY_PY      := 3.12
OLDEST_PY       := 3.11
VENV_PRIMARY    := $(BUILD)/venv-primary
VENV_OLDEST     := $(BUILD)/venv-oldest
# nox and antsibull-nox (a venv of their own, built beside the others), and nox's session venvs
# (antsibull-nox.toml), made by `make setup` and reused offline by the gates.
VENV_NOX        := $(BUILD)/venv-nox
# ansible-rulebook for the real-engine gate (requirements-eda.txt); it also needs Java 17.
VENV_EDA        := $(BUILD)/venv-eda
NOX_DIR         := $(BUILD)/nox
NOX_SESSIONS    := lint extra-checks docs-check build-import-check
PYENV_ROOT      ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
# Other target Pythons for the compile sanity test (ansible-core 2.21 supports 3.9-3.14 for modules; a version
# not installed is skipped by ansible-test with a warning).
SANITY_EXTRA_PY := 3.9 3.10 3.11 3.13

# ---- simulator and demo -----------------------------------------------------------------------------------
# `make simulator` runs the simulator in the foreground with SIM_ARGS (override on the command line).
SIM_ARGS        ?= --port 8080 --devices 500 --seed 7
# `make demo`: the simulator allows 120 requests a 60 s window, and the collection paces itself to the same
# 120 requests a minute (one request every 0.5 s): fast enough for a demo, and never throttled.
DEMO_SIM_ARGS   ?= --devices 500 --seed 7 --rate-limit 120 --window 60
DEMO_RPM        ?= 120
BENCH_ARGS      ?=
# The molecule gate runs each scenario against its own simulator, paced faster (one request every 0.1 s).
MOLECULE_SIM_ARGS ?= --devices 200 --seed 7 --rate-limit 600 --window 60
MOLECULE_RPM    ?= 600

# ---- test knobs -------------------------------------------------------------------------------------------
# pytest-xdist workers for the functional gates (each test runs ansible-playbook against a simulator of its
# own: CPU-bound, so 'auto' = one worker per core halves the time on 2 cores). 0 runs them in one process.
FUNCTIONAL_WORKERS ?= auto
# The reliability gates mostly wait (on 429 windows, timeouts and back-off), so they run more workers than cores.
RELIABILITY_WORKERS ?= 4
# Extra pytest arguments for functional-oldest (e.g. -m 'not slow' to run a subset on the oldest core).
# On the oldest core, the tests that run the engine (ansible-playbook, ansible-inventory) or its module machinery
# against the simulator. The files below only drive modules in process over HTTP: what they prove does not
# depend on ansible-core (the oldest core's AnsibleModule is the units-oldest gate's), so they run once, on the
# primary core. FUNCTIONAL_OLDEST_ARGS= runs everything on both.
FUNCTIONAL_OLDEST_ARGS ?= $(addprefix --ignore=tests/functional/,test_api_url_path.py test_connection_hygiene.py \
                          test_device_action_wait.py test_device_info_changes.py test_group_names.py test_log_info.py \
                          test_report.py test_security_data.py)

# ---- environment ------------------------------------------------------------------------------------------
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
export PY_COLORS := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export GATES_DIR := $(BUILD)/gates
PRIMARY         := PATH="$(VENV_PRIMARY)/bin:$$PATH" VIRTUAL_ENV="$(VENV_PRIMARY)"
OLDEST          := PATH="$(VENV_OLDEST)/bin:$$PATH" VIRTUAL_ENV="$(VENV_OLDEST)"
GATE            := $(CI)/gates one
IN_TREE         := cd "$(TREE)" &&
SIMULATOR       := PYTHONPATH="$(TREE)/tests/simulator"
# A pytest gate: a missing directory (exit 4) or no test collected (exit 5) fails it, as a gate testing nothing.
PYTEST          := python -m pytest -q -p no:cacheprovider
NOX             := "$(VENV_NOX)/bin/nox" --envdir "$(NOX_DIR)" --reuse-existing-virtualenvs --no-install -s
# apt_install(package): rsync (the tree copy), redis-server (the redis gate), Java 17 for the eda gate
# (ansible-rulebook) and, when the repository has .sh files, shellcheck; root only.
apt_install = { [ "$$(id -u)" = 0 ] && echo "--- installing $(1) with apt-get" && apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; } || { echo "ERROR: install $(1)" >&2; false; }
# Two make runs in one checkout share the venvs, the tree copy and the gate records: every public target that
# uses them runs holding .build/lock, so a second run waits for the first.
LOCKED          := $(CI)/gates locked

# ---- gates, in the order `make test` runs them (ansible-test first) ---------------------------------------
GATES := sanity units units-oldest integration simulator functional functional-oldest reliability reliability-oldest \
         bench-quick lint extra-checks ansible-lint docs-lint docs-site changelog-lint build-install eda \
         execution-environment galaxy-importer molecule redis

# run_gates(gates, setup targets): set up, run every gate even when one fails, print the summary.
run_gates = @$(LOCKED) $(CI)/gates run "$(2)" $(1)

.PHONY: redis help test sanity units integration functional reliability soak ee fragments lint docs-lint docs-site changelog-lint \
        build-install importer molecule sim-tests demo docs build simulator bench clean setup venvs do-soak do-build \
        do-docs do-demo do-bench venv-primary venv-oldest venv-nox venv-eda java sync pybin eda $(addprefix gate-,$(GATES))

help: ## List the targets
	@echo "opswat.it_access: make TARGET"
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([^:]+):.*## (.*)/  \1\t\2/' | expand -t 18
	@echo
	@echo "Gates of 'make test', in order: $(GATES)"
	@echo "Variables: SIM_ARGS='$(SIM_ARGS)'  DEMO_SIM_ARGS='$(DEMO_SIM_ARGS)'  DEMO_RPM=$(DEMO_RPM)"

test: ## Set up and run every gate; ends with 'gates: N passed, N failed'
	$(call run_gates,$(GATES),venvs)
sanity: ## ansible-test sanity (every test on Python 3.12, compile on 3.9-3.13)
	$(call run_gates,sanity,venv-primary)
units: ## Unit tests on ansible-core 2.21/Py3.12 and 2.19/Py3.11
	$(call run_gates,units units-oldest,venv-primary venv-oldest)
integration: ## ansible-test integration: tests/integration/targets, each against a simulator of its own
	$(call run_gates,integration,venv-primary)
sim-tests: ## The simulator's own tests (pytest tests/simulator/tests)
	$(call run_gates,simulator,venv-primary)
functional: ## The functional suite (pytest tests/functional) against the simulator, on both cores
	$(call run_gates,functional functional-oldest,venv-primary venv-oldest)
reliability: ## Fault matrix, bad input, secrets and a short soak, on both cores
	$(call run_gates,reliability reliability-oldest,venv-primary venv-oldest)
soak: ## The full soak: 1,000 module runs with random faults (RELIABILITY_SOAK_RUNS=N to change)
	@$(LOCKED) $(MAKE) do-soak
do-soak: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(SIMULATOR) RELIABILITY_SOAK=1 $(PYTEST) -s tests/reliability/test_soak.py -m soak
ee: ## ansible-builder: introspection and a build context of an execution environment with the collection
	$(call run_gates,execution-environment,venv-primary)
lint: ## flake8's complexity limit over plugins/ (nox -s lint), extra checks, ansible-lint --offline
	$(call run_gates,lint extra-checks ansible-lint,venv-primary venv-nox)
docs-lint: ## antsibull-docs lint-collection-docs --plugin-docs (nox -s docs-check)
	$(call run_gates,docs-lint,venv-nox)
docs-site: ## Build the HTML docs site with Sphinx -W (pages, navigation, links, images of the guides)
	$(call run_gates,docs-site,venv-primary)
changelog-lint: ## antsibull-changelog lint
	$(call run_gates,changelog-lint,venv-primary)
build-install: ## Build the tarball, install it, ansible-doc every plugin, run the installed simulator
	$(call run_gates,build-install,venv-primary)
importer: ## galaxy-importer on a built tarball (nox -s build-import-check)
	$(call run_gates,galaxy-importer,venv-nox)
redis: ## rate_limit_store with a real redis-server: two machines on one budget, the fallback
	$(call run_gates,redis,venv-primary)
molecule: ## molecule test for every scenario
	$(call run_gates,molecule,venv-primary)
eda: ## The event sources and the rulebook under the real ansible-rulebook (Java 17), collection from its tarball
	$(call run_gates,eda,venv-eda)

# ---- setup ------------------------------------------------------------------------------------------------
setup: ## Create the venvs (each rebuilt when its requirements file changes)
	@$(LOCKED) $(MAKE) venvs
venvs: venv-primary venv-oldest venv-nox venv-eda

# Each ansible-test venv also installs the offline get-pip stand-in (ansible-test cannot download get-pip here).
venv-primary: $(VENV_PRIMARY)/.stamp pybin
	@$(VENV_PRIMARY)/bin/python $(CI)/get_pip_offline.py --install
venv-oldest: $(VENV_OLDEST)/.stamp
	@$(VENV_OLDEST)/bin/python $(CI)/get_pip_offline.py --install
venv-nox: $(NOX_DIR)/.stamp
venv-eda: $(VENV_EDA)/.stamp

$(VENV_PRIMARY)/.stamp: requirements-primary.txt
	@$(CI)/mkvenv $(PRIMARY_PY) $(VENV_PRIMARY) requirements-primary.txt
$(VENV_OLDEST)/.stamp: requirements-oldest.txt
	@$(CI)/mkvenv $(OLDEST_PY) $(VENV_OLDEST) requirements-oldest.txt
$(VENV_EDA)/.stamp: requirements-eda.txt
	@$(CI)/mkvenv $(PRIMARY_PY) $(VENV_EDA) requirements-eda.txt
$(VENV_NOX)/.stamp: requirements-nox.txt
	@$(CI)/mkvenv $(PRIMARY_PY) $(VENV_NOX) requirements-nox.txt
# nox installs every session's packages once (the only step that needs PyPI); the gates then run them offline.
$(NOX_DIR)/.stamp: antsibull-nox.toml requirements-core.txt requirements-docs.txt requirements-importer.txt \
                   requirements-lint.txt $(VENV_NOX)/.stamp
	@$(MAKE) sync
	@rm -rf "$(NOX_DIR)"
	@$(IN_TREE) "$(VENV_NOX)/bin/nox" --envdir "$(NOX_DIR)" --install-only -s $(NOX_SESSIONS) 2> >(grep -v 'is ignored' >&2)
	@touch $@

# Real interpreters for the sanity compile test: pyenv's shims fail with 127 (docs/dev/testing.md, Tooling pitfalls).
pybin:
	@rm -rf "$(PYBIN)"; mkdir -p "$(PYBIN)"; \
	for m in $(SANITY_EXTRA_PY); do \
	  p=$$(ls -d $(PYENV_ROOT)/versions/$$m.*/bin/python$$m 2>/dev/null | sort -V | tail -n 1); \
	  if [ -n "$$p" ]; then ln -s "$$p" "$(PYBIN)/python$$m"; fi; done

# Mirror the working tree into $(TREE): what git would list (the .gitignore files decide), everything else there
# deleted (what the tools wrote on the previous run included), except $(TREE)/.git: a repository of its own, so
# that ansible-test and ansible-lint list files with git there instead of walking up to this one (which ignores
# .build/, so they would see no file at all).
sync:
	@command -v rsync >/dev/null || $(call apt_install,rsync)
	@mkdir -p "$(TREE)"; [ -d "$(TREE)/.git" ] || git init -q "$(TREE)"
	@rsync -a --delete --delete-excluded --filter='P /.git' --filter='- /.git' --filter=':- .gitignore' ./ "$(TREE)/"

# ---- gates (each runs in a freshly synced tree) -----------------------------------------------------------
# sanity: every test on the primary Python, then compile on every other target Python (.build/pybin first on
# PATH). Import on the other Pythons is left out: it builds one venv per Python, about a minute cold.
gate-sanity: venv-primary sync
	@! git ls-files -co --exclude-standard -- '*.sh' | grep -q . || command -v shellcheck >/dev/null || \
	  $(call apt_install,shellcheck) || true
	@$(IN_TREE) $(PRIMARY) $(GATE) sanity bash -c 'ansible-test sanity --local --python $(PRIMARY_PY) --color no; \
	  rc=$$?; PATH="$(PYBIN):$$PATH" ansible-test sanity --local --test compile --color no && exit $$rc'

gate-units: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(GATE) units ansible-test units --local --python $(PRIMARY_PY) --color no

gate-units-oldest: venv-oldest sync
	@$(IN_TREE) $(OLDEST) $(GATE) units-oldest ansible-test units --local --python $(OLDEST_PY) --color no

gate-integration: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(GATE) integration ansible-test integration --local --python $(PRIMARY_PY) --color no

gate-simulator: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(SIMULATOR) $(GATE) simulator $(PYTEST) tests/simulator/tests

gate-functional: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(SIMULATOR) \
	  $(GATE) functional $(PYTEST) tests/functional -n $(FUNCTIONAL_WORKERS)

gate-functional-oldest: venv-oldest sync
	@$(IN_TREE) $(OLDEST) $(SIMULATOR) \
	  $(GATE) functional-oldest $(PYTEST) tests/functional -n $(FUNCTIONAL_WORKERS) $(FUNCTIONAL_OLDEST_ARGS)

gate-reliability: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(SIMULATOR) \
	  $(GATE) reliability $(PYTEST) tests/reliability -n $(RELIABILITY_WORKERS)

gate-reliability-oldest: venv-oldest sync
	@$(IN_TREE) $(OLDEST) $(SIMULATOR) \
	  $(GATE) reliability-oldest $(PYTEST) tests/reliability -n $(RELIABILITY_WORKERS)

# The benchmark's small version (counts, never timings), so `make bench` cannot rot.
gate-bench-quick: venv-primary sync
	@command -v redis-server >/dev/null || $(call apt_install,redis-server)
	@$(IN_TREE) $(PRIMARY) $(SIMULATOR) $(GATE) bench-quick $(PYTEST) tests/benchmarks

# eda: ansible-rulebook (the eda venv's bin/ first on PATH: it shells out to ansible-galaxy) runs the rulebooks
# against the simulator; tests/eda builds the collection and installs it from the tarball, and runs it from there
# with no PYTHONPATH, as a user has it. Java 17 is installed with apt-get when there is no java (root only).
gate-eda: venv-eda java sync
	@$(IN_TREE) PATH="$(VENV_EDA)/bin:$$PATH" VIRTUAL_ENV="$(VENV_EDA)" $(GATE) eda $(PYTEST) tests/eda

java:
	@command -v java >/dev/null || $(call apt_install,openjdk-17-jre-headless)

gate-execution-environment: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(GATE) execution-environment $(PYTEST) tests/ee

# flake8's mccabe (.flake8: C901, at most 12) over plugins/.
gate-lint: venv-nox sync
	@$(IN_TREE) $(GATE) lint $(NOX) lint

# Action group vs meta/runtime.yml and the doc fragment, unwanted files in plugins/, trailing whitespace.
gate-extra-checks: venv-nox sync
	@$(IN_TREE) $(GATE) extra-checks $(NOX) extra-checks

gate-ansible-lint: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(GATE) ansible-lint ansible-lint --offline --nocolor

gate-docs-lint: venv-nox sync
	@$(IN_TREE) $(GATE) docs-lint $(NOX) docs-check

gate-docs-site: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(GATE) docs-site $(CI)/docs-site "$(BUILD)/docs"

gate-changelog-lint: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(GATE) changelog-lint antsibull-changelog lint

gate-build-install: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(GATE) build-install $(CI)/build-install "$(DIST)"

# build-import-check only warns on galaxy-importer's ERROR lines; the gate fails on them, as Galaxy would flag them.
gate-galaxy-importer: venv-nox sync
	@$(IN_TREE) $(GATE) galaxy-importer bash -c '$(NOX) build-import-check 2>&1 | tee "$(BUILD)/importer.log" \
	  && ! grep -A20 "Galaxy importer emitted" "$(BUILD)/importer.log"'

# rate_limit_store against a real redis-server (Debian's package, installed when missing and root) and the simulator;
# the Python client comes with the venv (requirements-primary.txt), requirements-redis.txt names it for other venvs.
gate-redis: venv-primary sync
	@command -v redis-server >/dev/null || $(call apt_install,redis-server)
	@$(PRIMARY) python -m pip install -q -r requirements-redis.txt 2> >(grep -v 'is ignored' >&2)
	@$(IN_TREE) $(PRIMARY) $(SIMULATOR) $(GATE) redis $(PYTEST) tests/redis

gate-molecule: venv-primary sync
	@$(IN_TREE) $(PRIMARY) OPSWAT_REQUESTS_PER_MINUTE=$(MOLECULE_RPM) \
	  $(GATE) molecule $(CI)/molecule-all "$(BUILD)/logs" $(MOLECULE_SIM_ARGS)

# ---- other targets ----------------------------------------------------------------------------------------
build: ## Build the collection tarball into .build/dist
	@$(LOCKED) $(MAKE) do-build
do-build: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(CI)/build-install "$(DIST)" --no-install

docs: ## Build the HTML docs site offline into .build/docs/html
	@$(LOCKED) $(MAKE) do-docs
do-docs: venv-primary sync
	@$(IN_TREE) $(PRIMARY) $(CI)/docs-site "$(BUILD)/docs"

demo: ## Start the simulator, run playbooks/demo.yml against it, stop it
	@$(LOCKED) $(MAKE) do-demo
do-demo: venv-primary sync
	@$(IN_TREE) $(PRIMARY) OPSWAT_REQUESTS_PER_MINUTE=$(DEMO_RPM) \
	  $(CI)/with-simulator "$(BUILD)/logs/demo-simulator.log" $(DEMO_SIM_ARGS) -- ansible-playbook playbooks/demo.yml

# Runs from the working tree (the simulator needs no collection tree), without the lock: it runs until stopped.
simulator: ## Run the simulator in the foreground (SIM_ARGS='...')
	@$(LOCKED) $(MAKE) venv-primary
	@$(PRIMARY) PYTHONPATH="$(CURDIR)/tests/simulator" PYTHONDONTWRITEBYTECODE=1 exec python -m itaccess_sim $(SIM_ARGS)

bench: ## The benchmarks (BENCH_ARGS='--quick' for a short run); rewrites docs/performance.md
	@$(LOCKED) $(MAKE) do-bench
# matplotlib (the PNG plot) goes into the primary venv for the bench only; the stamp lives in the venv, so a
# rebuilt venv gets it again.
$(VENV_PRIMARY)/.bench-stamp: requirements-bench.txt $(VENV_PRIMARY)/.stamp
	@$(VENV_PRIMARY)/bin/python -m pip install -q -r requirements-bench.txt 2> >(grep -v 'is ignored' >&2) && touch $@
# Scenario 10 runs the rulebook under the eda venv's ansible-rulebook (Java 17).
do-bench: venv-primary $(VENV_PRIMARY)/.bench-stamp venv-eda java sync
	@$(IN_TREE) $(PRIMARY) $(SIMULATOR) BENCH_ANSIBLE_RULEBOOK="$(VENV_EDA)/bin/ansible-rulebook" \
		python tests/benchmarks/run.py --repo "$(CURDIR)" $(BENCH_ARGS)

fragments: ## Regenerate plugins/doc_fragments/connection.py from the connection options (a unit test checks it)
	@$(LOCKED) $(MAKE) venv-primary
	@$(PRIMARY) python tools/generate_doc_fragment.py

clean: ## Remove .build/ (venvs, tree copy, tarball, docs, gate records)
	rm -rf "$(BUILD)"

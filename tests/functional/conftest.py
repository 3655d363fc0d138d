# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Functional tests against the simulator over real HTTP: ansible-playbook runs at -vvvv, and in-process module runs.

What only Ansible can prove runs through ``ansible-playbook`` (``run_play``): module_defaults of the action group,
the ``--check``/``--diff`` flags, environment variables, -vvvv output, the role, the playbooks and the inventory.
The behaviour of a module (filters, batching, idempotence, partial failure, bad input) runs in this process
(``run_module``, tests/support/inprocess.py): the same module code, the same HTTP to the simulator, without the
second of CPU that each ansible-playbook task costs, so that `make test` stays within its time budget.

The simulator's rate limit is scaled down (``RATE_LIMIT`` requests per ``WINDOW`` seconds) and the
collection's ``requests_per_minute`` and ``rate_limit_window`` are scaled to match, so the shape of the real 10-a-minute limit is
kept while a test runs in seconds. Every run is searched for the known secrets: none may appear.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

# pylint: disable=wrong-import-position
import ansible_runs  # noqa: E402
import inprocess  # noqa: E402
from isolation import no_stray_environment, private_state_directory  # noqa: E402,F401  pylint: disable=unused-import  # autouse
from itaccess_sim import Simulator  # noqa: E402
# pylint: enable=wrong-import-position

CLIENT_ID = "integration-client-7d1e"
CLIENT_SECRET = "integration-secret-c0ffee-4b9d-never-printed"
STATIC_TOKEN = "static-token-5f3a9e-never-printed"
RATE_LIMIT = 50          # requests per window, on the simulator
WINDOW = 1.0             # seconds
REQUESTS_PER_MINUTE = int(RATE_LIMIT * 60 / WINDOW)  # the same budget, as the collection counts it


class PlayResult(object):
    def __init__(self, returncode, output, results):
        self.returncode = returncode
        self.output = output
        self.results = results

    def __getitem__(self, name):
        return self.results[name]


def secrets_of(sim):
    """The run's secrets, as ansible_runs wants them: read after the run, so that every issued token counts."""
    return lambda: [CLIENT_SECRET, STATIC_TOKEN, sim.license_key] + list(sim.issued_tokens())


def leaked_secrets(text, sim):
    """The secrets of this run that appear in ``text``."""
    return ansible_runs.found_secrets(text, secrets_of(sim))


FLEET_SIZE = 1200        # 24 pages of 50: listings, batches and rules span many requests


def start_simulator(devices=FLEET_SIZE, seed=11):
    return Simulator(devices=devices, seed=seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                     access_token=STATIC_TOKEN, rate_limit=RATE_LIMIT, window=WINDOW)


@pytest.fixture
def simulator():
    with start_simulator() as sim:
        yield sim


def connection_vars(sim, **overrides):
    values = dict(api_url=sim.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                  requests_per_minute=REQUESTS_PER_MINUTE, rate_limit_window=WINDOW, rate_limit_timeout=30, timeout=10)
    values.update(overrides)
    return dict((key, value) for key, value in values.items() if value is not None)


@pytest.fixture
def run_play(simulator, tmp_path):
    """Run ``tasks`` (a list of task dicts, each registered under its ``id``) in one play on localhost.

    A task with its own ``register`` is not saved, so a test can hold a secret the user asked for (the license key)
    in a variable without tripping the leak check.

    Connection options come through ``module_defaults`` of the collection's action group, so every test also
    proves the group. Returns a ``PlayResult`` whose ``results[id]`` is the registered result of each task.
    """

    def run(tasks, check=False, diff=False, connection=None, env=None, verbosity=4, expect_rc=0):
        command_run, results = ansible_runs.run_play(
            tmp_path, tasks, secrets_of(simulator), module_defaults=connection_vars(simulator) if connection is None else connection,
            check=check, diff=diff, env=env, verbosity=verbosity, name="integration")
        assert command_run.returncode == expect_rc, command_run.output[-6000:]
        return PlayResult(command_run.returncode, command_run.output, results)

    return run


def opswat_env(sim):
    """The connection as a pipeline gives it: environment variables only."""
    return dict(OPSWAT_API_URL=sim.url, OPSWAT_CLIENT_ID=CLIENT_ID, OPSWAT_CLIENT_SECRET=CLIENT_SECRET,
                OPSWAT_REQUESTS_PER_MINUTE=str(REQUESTS_PER_MINUTE), OPSWAT_RATE_LIMIT_WINDOW=str(WINDOW),
                OPSWAT_RATE_LIMIT_TIMEOUT="30", OPSWAT_TIMEOUT="10")


def run_playbook(sim, tmp_path, playbook, extra_vars=None, check=False, verbosity=1, expect_rc=0, env=True,
                 inventory=True, cwd=None):
    """Run ``ansible-playbook playbook`` (a path or a collection playbook name); the connection from OPSWAT_*
    environment variables unless ``env`` is false. Every output is searched for the run's secrets.
    Returns ``(returncode, output)``."""
    command = [ansible_runs.ANSIBLE_PLAYBOOK, playbook]
    if inventory:
        command += ["-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable]
    for values in ([extra_vars] if isinstance(extra_vars, dict) else extra_vars or []):
        command += ["-e", json.dumps(values)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    if check:
        command.append("--check")
    command_run = ansible_runs.run_command(command, tmp_path, secrets_of(sim), env=opswat_env(sim) if env else None,
                                           cwd=cwd)
    assert command_run.returncode == expect_rc, command_run.output[-8000:]
    return command_run.returncode, command_run.output


@pytest.fixture
def run_module(simulator):
    """Run ``opswat_<name>`` in this process against ``simulator``; returns its result (a ``ModuleRun``).

    ``connection`` replaces the connection options (default: ``connection_vars(simulator)``). The result and
    anything the module printed are searched for the run's secrets. A traceback fails the test.
    """

    def run(name, check=False, diff=False, connection=None, **options):
        args = dict(connection_vars(simulator) if connection is None else connection)
        args.update(options)
        outcome = inprocess.run_module(name, args, check=check, diff=diff)
        assert outcome.traceback is None, outcome.traceback
        assert not leaked_secrets(outcome.stdout, simulator), "secret(s) leaked into a module's result"
        return outcome

    return run


def requests_by_endpoint(sim, endpoint=None, method=None):
    return [entry for entry in sim.request_log()
            if (endpoint is None or entry["endpoint"] == endpoint) and (method is None or entry["method"] == method)]


def diff_sides(result):
    """A device action result's diff as (before, after) dicts: the module gives each side as JSON text."""
    return json.loads(result["diff"]["before"]), json.loads(result["diff"]["after"])


def write_entries(sim):
    """Requests that could change state: every device action request."""
    return requests_by_endpoint(sim, "action")


def exemptable(sim, count):
    """The first ``count`` devices of the fleet that an exempt can change (compliant or non-compliant)."""
    devices = [d for d in sim.fleet.devices if d["status"] in ("compliant", "non_compliant")][:count]
    assert len(devices) == count
    return devices


def ids_of(devices):
    return [device["device_id"] for device in devices]


def results(task_result):
    """``(id, result)`` of each device of a module's (or one action's) result, in order."""
    return [(entry["id"], entry["result"]) for entry in task_result["devices"]]

# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tests against the simulator over real HTTP: ansible-playbook runs at -vvvv, and in-process module runs.

What only Ansible can prove runs through ``ansible-playbook`` (``run_play``): module_defaults of the action group,
the ``--check``/``--diff`` flags, environment variables, -vvvv output, the role, the playbooks and the inventory.
The behaviour of a module (filters, batching, idempotence, partial failure, bad input) runs in this process
(``run_module``, tests/support/inprocess.py): the same module code, the same HTTP to the simulator, without the
second of CPU that each ansible-playbook task costs, so that `make test` stays within its time budget.

The simulator's rate limit is scaled down (``RATE_LIMIT`` requests per ``WINDOW`` seconds) and the
collection's ``requests_per_minute`` is scaled to match, so the shape of the real 10-a-minute limit is
kept while a test runs in seconds. Every run is searched for the known secrets: none may appear.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

# pylint: disable=wrong-import-position
import inprocess  # noqa: E402
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


def leaked_secrets(text, sim):
    """The secrets of this run that appear in ``text``."""
    secrets = [CLIENT_SECRET, STATIC_TOKEN, sim.license_key] + list(sim.issued_tokens())
    return [secret for secret in secrets if secret and secret in text]


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
                  requests_per_minute=REQUESTS_PER_MINUTE, rate_limit_timeout=30, timeout=10)
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
        results_path = str(tmp_path / "results.json")
        play_tasks = []
        ids = []
        for task in tasks:
            task = dict(task)
            task_id = task.pop("id")
            if "register" not in task:  # a task registered under its own name is not saved
                ids.append(task_id)
                task["register"] = task_id
            play_tasks.append(task)
        dump = "{{ {%s} | to_json }}" % ", ".join("'%s': %s | default(None)" % (task_id, task_id) for task_id in ids)
        play_tasks.append(dict(name="Save results", **{
            "ansible.builtin.copy": dict(content=dump, dest=results_path, mode="0600")}, check_mode=False, diff=False))
        play = [dict(
            name="integration",
            hosts="localhost",
            gather_facts=False,
            module_defaults={"group/opswat.it_access.it_access": connection or connection_vars(simulator)},
            tasks=play_tasks,
        )]
        playbook = tmp_path / "play.yml"
        playbook.write_text(json.dumps(play))
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                   "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)]
        if verbosity:
            command.append("-" + "v" * verbosity)
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        run_env = dict(os.environ)
        run_env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                       ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_HOST_KEY_CHECKING="0")
        for name in list(run_env):
            if name.startswith("OPSWAT_"):
                del run_env[name]
        run_env.update(env or {})
        completed = subprocess.run(command, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True, timeout=600, check=False)
        output = completed.stdout
        leaks = leaked_secrets(output, simulator)
        assert not leaks, "secret(s) leaked into the ansible-playbook output at -vvvv"
        results = {}
        if os.path.exists(results_path):
            with open(results_path) as handle:
                results = json.load(handle)
            leaks = leaked_secrets(json.dumps(results), simulator)
            assert not leaks, "secret(s) leaked into a returned value"
        assert completed.returncode == expect_rc, output[-6000:]
        return PlayResult(completed.returncode, output, results)

    return run


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


def write_entries(sim):
    """Requests that could change state: every device action request."""
    return requests_by_endpoint(sim, "action")


@pytest.fixture(autouse=True)
def _no_stray_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("OPSWAT_"):
            monkeypatch.delenv(name)

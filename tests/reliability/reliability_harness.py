# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers of the reliability suite: the simulator, in-process module runs, real CLI runs, leak checks.

Modules run in this process (``main()`` under ``patch_module_args``) but still talk real HTTP to the simulator,
so a case costs milliseconds instead of an ansible-playbook start. The inventory plugin and the role run as real
``ansible-inventory`` / ``ansible-playbook`` processes. Every output is searched for the run's secrets.

Time is scaled down: the simulator's window is ``WINDOW`` seconds, the collection paces itself to the same budget,
and in-process clients back off from ``BACKOFF_BASE_SECONDS`` instead of 1 s (the formula is unchanged).
"""

from __future__ import absolute_import, division, print_function

import contextlib
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

# pylint: disable=wrong-import-position
# inprocess puts the collection under test on sys.path (and checks it is this tree) before these imports.
import ansible_runs  # noqa: E402
from ansible_runs import BIN, cli_environment, plain  # noqa: E402,F401  pylint: disable=unused-import  # re-exported for the suite
from inprocess import ModuleRun, run_module  # noqa: E402,F401  pylint: disable=unused-import  # re-exported for the suite

from ansible_collections.opswat.it_access.plugins.module_utils import client as client_module  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils import module as module_runner  # noqa: E402
from itaccess_sim import Simulator  # noqa: E402
# pylint: enable=wrong-import-position

# Known secrets: each must appear in no output, no returned value, no error and no log.
CLIENT_ID = "reliability-client-41c2"
CLIENT_SECRET = "reliability-secret-9f8e7d-never-printed"
STATIC_TOKEN = "reliability-static-token-a1b2c3-never-printed"
WRONG_TOKEN = "reliability-wrong-token-5e6f-never-printed"
WRONG_SECRET = "reliability-wrong-secret-0d1c-never-printed"

# Scaled time. The simulator allows RATE_LIMIT requests a WINDOW; the collection's budget is the same.
WINDOW = 1.0
RATE_LIMIT = 40
REQUESTS_PER_MINUTE = int(RATE_LIMIT * 60 / WINDOW)
TIMEOUT = 1.0             # the collection's per-request timeout in these tests
SLOW_SECONDS = 1.6        # an injected slow answer: well past TIMEOUT, so the client times out for sure
BACKOFF_BASE_SECONDS = 0.02
FLEET_SIZE = 120
SEED = 5


def make_simulator(**options):
    """A started simulator with this suite's credentials and scaled rate limit (options override)."""
    settings = dict(devices=FLEET_SIZE, seed=SEED, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    access_token=STATIC_TOKEN, rate_limit=RATE_LIMIT, window=WINDOW)
    settings.update(options)
    return Simulator(**settings).start()


def connection(sim, url=None, **overrides):
    """Connection options for ``sim``; an override of None removes the option."""
    values = dict(api_url=url or sim.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                  requests_per_minute=REQUESTS_PER_MINUTE, rate_limit_window=WINDOW, timeout=TIMEOUT,
                  rate_limit_timeout=10)
    values.update(overrides)
    return dict((key, value) for key, value in values.items() if value is not None)


def secrets_of(sim, *extra):
    """Every secret of a simulator run (or of a list of them): credentials, license keys, every issued token."""
    values = [CLIENT_SECRET, STATIC_TOKEN, WRONG_TOKEN, WRONG_SECRET] + list(extra)
    for one in (sim if isinstance(sim, (list, tuple)) else [sim]):
        if one is not None:
            values += [one.license_key] + list(one.issued_tokens())
    return [value for value in values if value]


def leaks(text, sim, *extra):
    """The secrets of ``sim``'s run (one simulator or a list) found in ``text`` (a string, or any JSON-able value)."""
    if not isinstance(text, str):
        text = json.dumps(text, default=str)
    return [secret for secret in secrets_of(sim, *extra) if secret in text]


# ---------------------------------------------------------------------------------------------- in-process runs


class FastClient(client_module.Client):
    """The collection's client with its back-off base and fallback 429 window scaled like the simulator's window."""

    def __init__(self, *args, **kwargs):
        super(FastClient, self).__init__(*args, **kwargs)
        self.session.retry_base_seconds = BACKOFF_BASE_SECONDS
        self.session.throttle.window_seconds = WINDOW


@contextlib.contextmanager
def fast_client():
    """Modules run in this context build a ``FastClient``."""
    original = module_runner.Client
    module_runner.Client = FastClient
    try:
        yield
    finally:
        module_runner.Client = original


# ---------------------------------------------------------------------------------------------- simulator log


def entries(sim, endpoint=None):
    return [entry for entry in sim.request_log() if endpoint is None or entry["endpoint"] == endpoint]


def action_entries(sim):
    """Requests that could change state: every device action request the simulator saw."""
    return entries(sim, "action")


def wait_for_log(sim, predicate, seconds=10.0):
    """Wait until the log holds an entry matching ``predicate`` (a slow answer is logged when it ends)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(predicate(entry) for entry in sim.request_log()):
            return True
        time.sleep(0.05)
    return False


def exemptable(sim, count):
    """Ids of ``count`` devices that ``exempt`` applies to and that are not exempted yet."""
    devices = [d for d in sim.fleet.devices if d["status"] in ("compliant", "non_compliant")
               and d["_sim"]["agent"] != "domain_controller"][:count]
    assert len(devices) == count
    return [device["device_id"] for device in devices]


def status_of(sim, device_ids):
    by_id = dict((device["device_id"], device["status"]) for device in sim.fleet.devices)
    return [by_id.get(device_id) for device_id in device_ids]


# ---------------------------------------------------------------------------------------------- real CLI runs


def _secrets(sim, extra_secrets):
    return lambda: secrets_of(sim, *extra_secrets)


def run_cli(sim, tmp_path, command, env=None, extra_secrets=(), timeout=300):
    """Run a command; its whole output must hold none of the run's secrets."""
    return ansible_runs.run_command(command, tmp_path, _secrets(sim, extra_secrets), env=env, timeout=timeout)


def run_playbook(sim, tmp_path, tasks, module_defaults=None, env=None, verbosity=4, extra_secrets=(), play_vars=None):
    """One play on localhost with ``tasks``; every task registered under its ``id`` is saved and returned.

    Returns ``(CommandRun, results)``; ``results`` (the registered values) is searched for secrets too.
    """
    return ansible_runs.run_play(tmp_path, tasks, _secrets(sim, extra_secrets), module_defaults=module_defaults,
                                 play_vars=play_vars, env=env, verbosity=verbosity, name="reliability")


def run_inventory(sim, tmp_path, sources, env=None, verbosity=4, extra_secrets=(), args=("--list",)):
    """``ansible-inventory ARGS`` over ``sources`` ({file name: config dict}); returns ``(CommandRun, data)``.

    Only this collection's plugin is enabled, so a failure names it and no other plugin's complaint hides it.
    """
    run_env = dict(ANSIBLE_INVENTORY_ENABLED="opswat.it_access.devices", ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    run_env.update(env or {})
    return ansible_runs.run_inventory(tmp_path, sources, _secrets(sim, extra_secrets), args=args, env=run_env,
                                      verbosity=verbosity)


def inventory_failure(output, file_name):
    """The text of the plugin's failure for the source ``file_name`` in ansible-inventory's output ('' if none).

    ansible-core prints each failed source as a warning block that ends with ``Origin: ... source '<path>'``.
    """
    lines = output.splitlines()
    start = None
    for index, line in enumerate(lines):
        if line.startswith("[WARNING]: Failed to parse inventory with"):
            start = index
        elif start is not None and line.startswith("Origin:") and ("/%s'" % file_name) in line:
            return "\n".join(lines[start:index + 1])
    return ""


def inventory_device_ids(data):
    """The device id of every host of an ``ansible-inventory --list`` answer, one per host."""
    return [plain(hostvars["opswat_device_id"]) for hostvars in data["_meta"]["hostvars"].values()]

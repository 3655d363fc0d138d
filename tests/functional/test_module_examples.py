# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's EXAMPLES, run by ansible-playbook as a user would paste them, against a simulator of their own.

An EXAMPLES block is a list of tasks and plays: each run of consecutive tasks becomes a play on localhost. What an
example leaves to its reader is filled in, and nothing else is changed:

- the connection comes from the OPSWAT_* environment variables, as in a pipeline; an ``api_url`` written in the
  example (the real service's) is pointed at the simulator;
- the variables it expects from the user (vault credentials, lists of device ids and MACs) are extra vars, and
  the file it reads (``exempted.txt``) is written next to the playbook;
- the device ids and MAC addresses written in it are replaced by devices of the simulated fleet, each MAC spelt
  as the example spells it;
- its gates (``assert`` that no device has critical issues, that no server is non-compliant) pass: the fleet is
  made healthy for what they check, so that the plays after them run too.

The writes go to the test's own simulator, so the examples run for real (not in check mode): a result key an
example reads that only a real run has (``command_id``) is proved too.
"""

from __future__ import absolute_import, division, print_function

import ast
import glob
import json
import os
import re

import pytest
import yaml

from conftest import CLIENT_ID, CLIENT_SECRET, ROOT, STATIC_TOKEN, run_playbook, start_simulator

MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "opswat_*.py")))
COLLECTION = "opswat.it_access."
DEVICE_ID = re.compile(r"\b[0-9a-f]{32}\b")
MAC = re.compile(r"\b[0-9A-Fa-f]{2}([-:])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}\b|\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b")
ACTION_API = (3, 3)  # the Device Action version the collection calls
ACTIONS_IN_EXAMPLES = ("exempt", "assign_to_group", "scan_threats", "fetch_agent_log")
WRITERS = ("opswat_device_action",)


def examples_of(module):
    """The EXAMPLES text of ``module``, read from its source (as ansible-doc shows it)."""
    with open(os.path.join(ROOT, "plugins", "modules", module + ".py"), encoding="utf-8") as source:
        tree = ast.parse(source.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ["EXAMPLES"]:
            return node.value.value
    raise AssertionError("%s has no EXAMPLES" % module)


def versatile_devices(sim):
    """Devices every action of the examples applies to (an example without allow_partial must not fail)."""
    return [device for device in sim.fleet.devices
            if all(sim.fleet.applies(action, device, ACTION_API) for action in ACTIONS_IN_EXAMPLES)]


def first_mac(device):
    return device["network_info"][0]["mac"]


def spelt_like(example, mac):
    """``mac`` (aa:bb:cc:dd:ee:ff) in the spelling of ``example``: separator, grouping and case."""
    digits = mac.replace(":", "")
    if "." in example:
        text = ".".join(digits[start:start + 4] for start in (0, 4, 8))
    else:
        text = example[2].join(digits[start:start + 2] for start in range(0, 12, 2))
    return text.upper() if example == example.upper() else text


def with_fleet_devices(text, devices):
    """``text`` with each distinct device id and MAC address in it replaced by one of ``devices``."""
    pool = iter(devices)
    replacements = {}

    def device_id(found):
        if found.group(0) not in replacements:
            replacements[found.group(0)] = next(pool)["device_id"]
        return replacements[found.group(0)]

    def mac(found):
        if found.group(0) not in replacements:
            replacements[found.group(0)] = spelt_like(found.group(0), first_mac(next(pool)))
        return replacements[found.group(0)]

    return MAC.sub(mac, DEVICE_ID.sub(device_id, text))


def as_playbook(items, api_url):
    """The plays of an EXAMPLES list: plays as they are, each run of tasks in a play of its own on localhost."""
    plays = []
    tasks = None
    for item in items:
        if "hosts" in item:
            plays.append(item)
            tasks = None
            continue
        if tasks is None:
            tasks = []
            plays.append(dict(name="Tasks of the example", hosts="localhost", gather_facts=False, tasks=tasks))
        tasks.append(item)
    for play in plays:
        for defaults in (play.get("module_defaults") or {}).values():
            if "api_url" in defaults:
                defaults["api_url"] = api_url
        for task in play.get("tasks") or []:
            for name, options in task.items():
                if name.startswith(COLLECTION) and isinstance(options, dict) and "api_url" in options:
                    options["api_url"] = api_url
    return plays


def no_critical_device(sim):
    """The account_info gate: no device with critical issues."""
    for device in sim.fleet.devices:
        if device["severity"] == "critical":
            device["severity"] = "warning"
            issue = device["issue"]
            issue.update(total_critical=0, total_warning=issue["total_warning"] + issue["total_critical"])


def no_non_compliant_server(sim):
    """The device_info gate: no non-compliant server."""
    for device in sim.fleet.devices:
        if device["device_type"] == "server" and device["status"] == "non_compliant":
            device["status"] = "compliant"


def no_known_exploited_cve(sim):
    """The vulnerability_info gate: no CVE of the account is known to be exploited."""
    for cve in sim.fleet.cve_catalogue():
        cve["kev"] = False


def no_threat_found(sim):
    """The threat_info gate: no scan found anything."""
    for device in sim.fleet.devices:
        sim.fleet.set_threats(device["device_id"], [])


# What each module's example gates assert of the fleet; the other modules' examples need a fleet with problems.
HEALTHY_FOR_GATES = dict(opswat_account_info=no_critical_device, opswat_device_info=no_non_compliant_server,
                         opswat_vulnerability_info=no_known_exploited_cve, opswat_threat_info=no_threat_found)


def user_variables(sim, devices):
    """What the examples leave to their reader, as extra vars."""
    picks = iter(devices)

    def take(count):
        return [next(picks) for _index in range(count)]

    return dict(opswat_client_id=CLIENT_ID, opswat_client_secret=CLIENT_SECRET,
                vault_opswat_client_id=CLIENT_ID, vault_opswat_client_secret=CLIENT_SECRET,
                vault_opswat_access_token=STATIC_TOKEN,
                suspicious_ids=[device["device_id"] for device in take(3)],
                infected_ids=[device["device_id"] for device in take(3)],
                change_window_ids=[device["device_id"] for device in take(3)],
                suspicious_macs=[first_mac(device) for device in take(2)])


@pytest.fixture
def simulator():
    """A small fleet: the examples list it several times."""
    with start_simulator(devices=200, seed=3) as sim:
        yield sim


@pytest.mark.parametrize("module", MODULES)
def test_the_examples_run_as_written(module, simulator, tmp_path):
    devices = versatile_devices(simulator)
    assert len(devices) >= 30, "the test fleet should have enough ordinary devices"
    text = with_fleet_devices(examples_of(module), devices[:10])
    playbook = as_playbook(yaml.safe_load(text), simulator.url)
    assert playbook, "%s: EXAMPLES holds no task" % module
    (tmp_path / "examples.yml").write_text(json.dumps(playbook))
    exempted = [device["device_id"] for device in simulator.fleet.devices
                if device["status"] == "exempted" and simulator.fleet.applies("unexempt", device, ACTION_API)]
    (tmp_path / "exempted.txt").write_text("\n".join(exempted[:3]) + "\n")
    if module in HEALTHY_FOR_GATES:
        with simulator.fleet.lock:
            HEALTHY_FOR_GATES[module](simulator)

    _rc, output = run_playbook(simulator, tmp_path, str(tmp_path / "examples.yml"), cwd=tmp_path,
                               extra_vars=user_variables(simulator, devices[10:]))
    # A registered name Ansible reserves (groups, hostvars...) is silently shadowed, and the example misleads.
    assert "reserved name" not in output, output[-4000:]
    assert simulator.errors == [], simulator.errors
    if module in WRITERS:
        # The examples' devices are ones their actions apply to: they change, rather than fail over or skip.
        assert int(re.search(r"changed=(\d+)", output).group(1)) > 0, output[-4000:]
